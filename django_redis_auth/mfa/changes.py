"""What every change to how a user signs in does (an authenticator on or off, new recovery
codes, a passkey added or removed, support resetting the factors).

Whoever changed it may be the owner or someone holding the owner's session, so:

* a notice goes to the account's address (the owner learns of it either way);
* every session of the user ends, so a device that signed in before the change (maybe the
  thief's) has to sign in again under the new rules;
* the caller gets a fresh pair in the same step, so the device that made the change stays
  signed in. Its ``auth_time`` / ``amr`` are those of the caller's latest proof (its sign-in,
  or its ``reauth/``): a factor change is not itself a sign-in.

The mail is handed over once the surrounding transaction commits, so a change rolled back
(Redis down while revoking) mails nothing.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from django_redis_auth import signals
from django_redis_auth.accounts import users
from django_redis_auth.clients import Client
from django_redis_auth.codes import senders
from django_redis_auth.codes.purposes import EmailKind
from django_redis_auth.codes.senders import AuthEmail
from django_redis_auth.tokens import claims, issuing, revocation

__all__ = ["KINDS", "factor_changed", "notify", "reset_factors"]

#: The changes, as the notice, the signal and the revocation ``reason`` name them.
KINDS = (
    "totp_enabled",
    "totp_disabled",
    "recovery_codes_regenerated",
    "passkey_added",
    "passkey_removed",
    "factors_reset",
)


def notify(user: Any, kind: str) -> None:
    """Mail the factor-change notice (after the transaction commits) and send the
    ``factor_changed`` signal."""
    message = AuthEmail(
        to=users.stored_email(user), kind=EmailKind.FACTOR_CHANGED, context={"change": kind}
    )
    transaction.on_commit(lambda: senders.send(message))
    signals.factor_changed.send(__name__, user=user, change=kind)


def _latest_proof(current_session: Any) -> tuple[int | None, tuple[str, ...]]:
    if current_session is None:
        return None, (claims.Amr.PASSWORD,)
    from django_redis_auth.mfa import reauth  # (reauth imports factors, which imports us)

    proof = reauth.proof_of(current_session)
    if proof is not None:
        return proof.at, proof.amr or claims.amr_of(current_session)
    return claims.auth_time_of(current_session), claims.amr_of(current_session)


def factor_changed(
    user: Any, *, client: Client | None, current_session: Any, kind: str
) -> issuing.TokenPair:
    """``kind`` is one of :data:`KINDS`; ``current_session`` the caller's access token.
    Call it inside the transaction that makes the change: Redis down raises
    ``AuthUnavailable`` and the change rolls back. (A change no session asked for, such as
    the admin's reset, calls ``revocation.revoke_user`` and :func:`notify` itself.)"""
    auth_time, amr = _latest_proof(current_session)
    revocation.revoke_user(user, reason=kind)
    pair = issuing.issue_token_pair(
        user, client, amr=amr or (claims.Amr.PASSWORD,), auth_time=auth_time, method="renewed"
    )
    notify(user, kind)
    return pair


def reset_factors(user: Any) -> bool:
    """Support's reset of a user who lost every factor: the authenticator, the recovery codes
    and the passkeys are deleted, every session ends and the notice goes out. The emailed
    second factor (a flag, not a factor) is left as it is. Returns whether there was
    anything to reset; one transaction (Redis down: nothing is deleted)."""
    from django_redis_auth.mfa.models import RecoveryCode, TOTPFactor

    with users.atomic():
        removed = 0
        for model in (TOTPFactor, RecoveryCode, *_extra_factor_models()):
            removed += model.objects.filter(user_id=user.pk).delete()[0]
        if not removed:
            return False
        revocation.revoke_user(user, reason="factors_reset")
        notify(user, "factors_reset")
    return True


def _extra_factor_models() -> tuple[Any, ...]:
    """Factor models other capabilities add (passkeys)."""
    from django_redis_auth.mfa import models

    return tuple(getattr(models, name) for name in ("Passkey",) if hasattr(models, name))
