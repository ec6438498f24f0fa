"""Recent authentication: changing how a user signs in needs the user, not only a token.

A stolen access token must not be enough to turn the authenticator off, add the thief's own
passkey or unlink Google. So those changes ask for a *recent* proof: a sign-in whose
``auth_time`` claim is within ``REAUTH_WINDOW``, or a ``reauth/`` of this very session in
that window. The claim costs nothing to read; only a session whose sign-in is older looks
for its ``reauth/`` mark in Redis (one GET, on sensitive endpoints only — never on the hot
path).

The mark is per session (token family): reauthenticating on one device does not make a
token stolen from another device recent. It holds when and how (``amr``) the user proved it,
and lives exactly ``REAUTH_WINDOW``. Losing Redis loses marks, never grants one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from django_redis_auth import activity, keys, store
from django_redis_auth.accounts import password_guard, users
from django_redis_auth.clients import Client
from django_redis_auth.codes import otp, senders
from django_redis_auth.codes.purposes import EmailKind, Purpose
from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions import WrongPassword
from django_redis_auth.mfa import factors
from django_redis_auth.mfa.exceptions import MethodNotAvailable, ReauthenticationRequired
from django_redis_auth.tokens import claims
from django_redis_auth.tokens.claims import Amr

__all__ = [
    "ERRORS",
    "PASSWORD",
    "Proof",
    "ReauthenticationRequired",
    "methods_for",
    "proof_of",
    "reauthenticate",
    "require_recent_authentication",
]

PASSWORD = "password"
#: What the sensitive endpoints may answer besides their own errors (for their ``errors``).
ERRORS: tuple[type[Exception], ...] = (ReauthenticationRequired,)


@dataclass(frozen=True)
class Proof:
    """When (epoch seconds) and how (``amr``) the session last proved its user."""

    at: int
    amr: tuple[str, ...]


def _window() -> int:
    return int(auth_settings.REAUTH_WINDOW)


def _session(token: Any) -> tuple[Any, str]:
    found = claims.of(token)
    return found.user_id, found.family


def proof_of(token: Any, *, max_age: float | None = None, now: float | None = None) -> Proof | None:
    """The session's proof if it is recent — within ``max_age`` seconds (default
    ``REAUTH_WINDOW``): its sign-in (``auth_time``, no I/O), else its ``reauth/`` mark
    (one GET); else ``None``."""
    now = time.time() if now is None else now
    max_age = _window() if max_age is None else max_age
    at = claims.auth_time_of(token)
    if at is not None and now - at <= max_age:
        return Proof(at, claims.amr_of(token))
    user_id, family = _session(token)
    with store.guard():
        raw = store.get_client().get(keys.reauth_mark(user_id, family))
    if raw is None:
        return None
    try:
        mark = json.loads(raw)
        proof = Proof(int(mark["at"]), tuple(str(a) for a in mark["amr"]))
    except (ValueError, KeyError, TypeError):
        return None
    return proof if now - proof.at <= max_age else None


def methods_for(user: Any) -> list[str]:
    """What ``reauth/`` takes from this user, best first. The emailed code only for an
    account with neither a usable password nor an authenticator (signed up through
    Google, say): for anyone else an inbox would be a weaker way around their password."""
    found = factors.of(user)
    methods = [m for m in found.methods if m in REAUTHENTICATORS and m != factors.EMAIL]
    if user.has_usable_password():
        methods.insert(0, PASSWORD)
    if not methods:
        methods.append(factors.EMAIL)
    return methods


def require_recent_authentication(request: Any) -> Proof:
    """The caller's recent proof, or 403 ``reauthentication_required`` with the user's
    ``methods``. ``request.auth`` is the caller's validated access token."""
    proof = proof_of(request.auth)
    if proof is None:
        raise ReauthenticationRequired(methods_for(request.user))
    return proof


# --- reauth/ --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Attempt:
    """What a ``reauth/`` request brought."""

    user: Any
    family: str
    client: Client
    password: str | None = None
    code: str | None = None
    credential: Any = None


def _by_password(attempt: Attempt) -> tuple[str, ...] | None:
    if not attempt.password:
        raise ValidationError({"password": [_("This field is required.")]})
    # Through the password-guessing limiter, like every password check of the package.
    if not password_guard.check_password(attempt.user, attempt.password, attempt.client.ip).ok:
        raise WrongPassword()
    return (Amr.PASSWORD,)


def _by_factor_code(method: str) -> Callable[[Attempt], tuple[str, ...] | None]:
    def check(attempt: Attempt) -> tuple[str, ...] | None:
        if not attempt.code:
            raise ValidationError({"code": [_("This field is required.")]})
        with users.atomic():  # a recovery code is spent only if the mark is written
            factors.verify(
                attempt.user,
                method,
                attempt.code,
                scope=f"reauth:{attempt.family}",
                scope_ttl=_window(),
                client=attempt.client,
                spend=False,
            )
        return (Amr.OTP,)

    return check


def _binding(attempt: Attempt) -> str:
    return f"{users.user_id_of(attempt.user)}:{attempt.family}"


def _by_email(attempt: Attempt) -> tuple[str, ...] | None:
    """Without a code: mail one (``None``: 202). With one: check it. The code is bound to
    this session, so it cannot reauthenticate another."""
    email = users.canonical_email_of(attempt.user)
    if not attempt.code:
        code = otp.issue_code(
            email, Purpose.REAUTH, client_ip=attempt.client.ip, binding=_binding(attempt)
        )
        senders.send(
            senders.code_email(EmailKind.REAUTH, users.stored_email(attempt.user), code or "")
        )
        return None
    otp.verify_code(
        email, Purpose.REAUTH, attempt.code, binding=_binding(attempt), client_ip=attempt.client.ip
    )
    return (Amr.OTP,)


def _by_passkey(attempt: Attempt) -> tuple[str, ...] | None:
    """An assertion answering ``passkeys/reauth/options/``'s challenge for this session."""
    from django_redis_auth.mfa import passkeys  # (passkeys imports what imports us)

    if not attempt.credential:
        raise ValidationError({"credential": [_("This field is required.")]})
    with users.atomic():
        asserted = passkeys.authenticate(
            attempt.credential,
            kind=passkeys.REAUTH,
            user=attempt.user,
            binding=passkeys.reauth_binding(attempt.family),
        )
    return tuple(asserted.amr)


#: ``method`` → its check: the amr it proves, or ``None`` when a code was mailed instead.
#: Passkeys add ``"passkey"`` here (mfa/passkeys).
REAUTHENTICATORS: dict[str, Callable[[Attempt], tuple[str, ...] | None]] = {
    PASSWORD: _by_password,
    factors.TOTP: _by_factor_code(factors.TOTP),
    factors.RECOVERY_CODE: _by_factor_code(factors.RECOVERY_CODE),
    factors.EMAIL: _by_email,
    factors.PASSKEY: _by_passkey,
}


def reauthenticate(
    request: Any,
    user: Any,
    client: Client,
    *,
    method: str | None = None,
    password: str | None = None,
    code: str | None = None,
    credential: Any = None,
) -> int | None:
    """Check a proof for this session and mark it recently authenticated; returns until
    when (epoch seconds), or ``None`` when an emailed code was sent instead (202).

    ``method`` defaults to ``password`` when one is given, else the user's first method.
    Raises ``MethodNotAvailable`` (a method this user cannot use), ``WrongPassword``,
    ``InvalidCode`` / ``TooManyAttempts``, ``TOTPThrottled`` / ``RateLimited`` /
    ``LoginThrottled`` (429), ``AuthUnavailable`` (503)."""
    allowed = methods_for(user)
    if method is None:
        method = PASSWORD if password else (factors.PASSKEY if credential else allowed[0])
    if method not in allowed or method not in REAUTHENTICATORS:
        raise MethodNotAvailable()
    _, family = _session(request.auth)
    attempt = Attempt(user, family, client, password=password, code=code, credential=credential)
    amr = REAUTHENTICATORS[method](attempt)
    if amr is None:
        return None
    now = int(time.time())
    mark = json.dumps({"at": now, "amr": list(amr)})
    user_id = users.user_id_of(user)

    def build(pipe: store.ScriptPipeline) -> None:
        pipe.set(keys.reauth_mark(user_id, family), mark, px=_window() * 1000)
        activity.record(
            user_id,
            activity.REAUTHENTICATED,
            client=client,
            session=family,
            method=method,
            pipe=pipe,
        )

    with store.guard():
        store.execute_with_scripts(store.get_client(), build)  # one round trip
    return now + _window()
