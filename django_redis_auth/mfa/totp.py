"""Authenticator apps (TOTP, RFC 6238): the algorithm, enrolment, and turning one off.

The algorithm is pyotp's with RFC 6238's defaults — HMAC-SHA-1, 6 digits, 30-second steps —
which every authenticator app understands, and one step of clock drift either way. The
code is compared with every step of the window in constant time, and the step it matched is
what replay refusal remembers (``factors.py``): a code of a step no newer than the last
accepted one is refused.

Enrolment is two calls. :func:`start_setup` makes a secret and keeps it, encrypted, in
Redis for ``TOTP_SETUP_TTL`` under the user's hash tag (nothing in the database yet);
:func:`confirm_setup` takes it once a first code from the app proves the app has it, and
only then writes the factor — its secret encrypted at rest (``crypto.py``) — with a fresh
set of recovery codes. Both ends are "factor changes" (``changes.factor_changed``).
"""

from __future__ import annotations

import hmac
import io
import time
from dataclasses import dataclass
from typing import Any

import pyotp
import segno

from django_redis_auth import keys, store
from django_redis_auth.accounts import users
from django_redis_auth.clients import Client
from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions import InvalidCode, TooManyAttempts
from django_redis_auth.mfa import changes, crypto, recovery
from django_redis_auth.mfa.exceptions import (
    TOTPAlreadyEnabled,
    TOTPNotEnabled,
    TOTPSetupExpired,
)
from django_redis_auth.mfa.models import TOTPFactor
from django_redis_auth.tokens.issuing import TokenPair

__all__ = [
    "Enabled",
    "Setup",
    "confirm_setup",
    "disable",
    "matching_step",
    "start_setup",
]

STEP_SECONDS = 30  # RFC 6238's default time step; pyotp's default too
DIGITS = 6
DRIFT_STEPS = 1
# How long Redis remembers the newest accepted step: past the end of the drift window of
# that step (it stays acceptable until two steps later), with room to spare.
STEP_MEMORY_MS = 4 * STEP_SECONDS * 1000
# Wrong codes a pending enrolment takes before it is destroyed.
SETUP_ATTEMPTS = 5


@dataclass(frozen=True)
class Setup:
    """What ``2fa/totp/setup/`` answers: the base32 secret (for typing it in), the
    ``otpauth://`` URI, and that URI as a QR code in inline SVG."""

    secret: str
    otpauth_uri: str
    qr_svg: str

    def as_dict(self) -> dict[str, str]:
        return {"secret": self.secret, "otpauth_uri": self.otpauth_uri, "qr_svg": self.qr_svg}


@dataclass(frozen=True)
class Enabled:
    """What ``2fa/totp/confirm/`` answers: the recovery codes (shown this once) and the
    caller's fresh pair."""

    recovery_codes: list[str]
    pair: TokenPair

    def as_dict(self) -> dict[str, Any]:
        return {"recovery_codes": self.recovery_codes, **self.pair.as_dict()}


# --- the algorithm --------------------------------------------------------------------------


def _otp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS)


def clean_code(code: str) -> str:
    """What the user typed, without the spaces people add ("123 456")."""
    return "".join(ch for ch in str(code) if ch not in " -\t\r\n")


def matching_step(secret: str, code: str, at: float | None = None) -> int | None:
    """The time step whose code ``code`` is, within one step of drift of ``at`` (default
    now), or ``None``. Every step of the window is computed and compared in constant time,
    whatever the input, so the time taken says nothing about which step (if any) matched."""
    otp = _otp(secret)
    now = otp.timecode(time.time() if at is None else at)
    candidate = clean_code(code)
    if len(candidate) != DIGITS or not candidate.isascii() or not candidate.isdigit():
        candidate = "x" * DIGITS  # compared all the same; never equal to a code
    matched = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        if hmac.compare_digest(otp.generate_otp(step), candidate):
            matched = step
    return matched


def current_step(at: float | None = None) -> int:
    return int((time.time() if at is None else at) // STEP_SECONDS)


def provisioning_uri(secret: str, account: str) -> str:
    """``otpauth://totp/<issuer>:<account>?secret=...&issuer=<issuer>`` (Key URI Format)."""
    return _otp(secret).provisioning_uri(name=account, issuer_name=str(auth_settings.TOTP_ISSUER))


def qr_svg(data: str) -> str:
    """``data`` as a QR code in inline SVG (segno; no image library needed)."""
    out = io.BytesIO()
    segno.make(data, error="m", micro=False).save(
        out, kind="svg", xmldecl=False, svgns=True, nl=False, scale=4, border=2
    )
    return out.getvalue().decode()


def secret_context(user: Any) -> str:
    """What an enrolled secret's ciphertext is bound to (``crypto.encrypt``'s context)."""
    return f"totp:{user.pk}"


def _pending_context(user: Any) -> str:
    return f"totp-pending:{user.pk}"


def factor_of(user: Any) -> TOTPFactor | None:
    return TOTPFactor.objects.filter(user_id=user.pk).first()


def secret_of(factor: TOTPFactor, user: Any) -> str:
    """The factor's secret in plain text (raises ``crypto.DecryptionFailed``)."""
    return crypto.decrypt(factor.secret, secret_context(user))


# --- enrolment ------------------------------------------------------------------------------


def start_setup(user: Any) -> Setup:
    """A new secret, pending in Redis for ``TOTP_SETUP_TTL`` (a new setup replaces an
    unconfirmed one). Raises ``TOTPAlreadyEnabled`` (409) when the user has an app already:
    replacing it goes through ``2fa/totp/disable/`` first."""
    if TOTPFactor.objects.filter(user_id=user.pk).exists():
        raise TOTPAlreadyEnabled()
    secret = pyotp.random_base32()  # 32 characters: 160 bits, RFC 4226's recommendation
    key = keys.totp_pending(users.user_id_of(user))
    sealed = crypto.encrypt(secret, _pending_context(user))
    with store.guard():
        store.script("totp_setup")(
            keys=[key], args=["start", sealed, int(auth_settings.TOTP_SETUP_TTL) * 1000]
        )
    uri = provisioning_uri(secret, users.stored_email(user))
    return Setup(secret=secret, otpauth_uri=uri, qr_svg=qr_svg(uri))


def _take_pending(user: Any, code: str) -> tuple[str, int]:
    """The pending secret and the step ``code`` matched, the enrolment taken (single use);
    or ``TOTPSetupExpired`` / ``InvalidCode`` / ``TooManyAttempts``."""
    key = keys.totp_pending(users.user_id_of(user))
    with store.guard():
        sealed = store.decode(store.get_client().hget(key, "s"))
    if sealed is None:
        raise TOTPSetupExpired()
    try:
        secret = crypto.decrypt(sealed, _pending_context(user))
    except crypto.DecryptionFailed:
        raise TOTPSetupExpired() from None
    step = matching_step(secret, code)
    with store.guard():
        outcome = store.decode(
            store.script("totp_setup")(
                keys=[key],
                args=["check", sealed, "1" if step is not None else "0", SETUP_ATTEMPTS],
            )
        )
    if outcome == "missing":
        raise TOTPSetupExpired()
    if outcome == "destroyed":
        raise TooManyAttempts()
    if outcome != "ok" or step is None:
        raise InvalidCode()
    return secret, step


def confirm_setup(
    user: Any, code: str, *, client: Client | None = None, current_session: Any = None
) -> Enabled:
    """Turn the authenticator on with a first code from it: the factor is written (secret
    encrypted, the code's step recorded as used so it cannot sign in too), ten recovery
    codes replace any earlier set, and the change is a factor change (notice, other
    sessions ended, a fresh pair). One transaction: if Redis fails while issuing the pair,
    nothing is written (the pending enrolment is spent then: set up again).

    Raises ``TOTPSetupExpired`` (400), ``InvalidCode`` / ``TooManyAttempts`` (400),
    ``TOTPAlreadyEnabled`` (409), ``AuthUnavailable`` (503).
    """
    if TOTPFactor.objects.filter(user_id=user.pk).exists():
        raise TOTPAlreadyEnabled()
    secret, step = _take_pending(user, code)
    with users.atomic():
        _, created = TOTPFactor.objects.get_or_create(
            user_id=user.pk,
            defaults={
                "secret": crypto.encrypt(secret, secret_context(user)),
                "last_used_step": step,
            },
        )
        if not created:  # a concurrent confirm of another setup won
            raise TOTPAlreadyEnabled()
        codes = recovery.replace_codes(user)
        pair = changes.factor_changed(
            user, client=client, current_session=current_session, kind="totp_enabled"
        )
    return Enabled(recovery_codes=codes, pair=pair)


def disable(user: Any, *, client: Client | None = None, current_session: Any = None) -> TokenPair:
    """Turn the authenticator off: the factor and, with no factor left to back up, the
    recovery codes are deleted; a factor change (notice, other sessions ended, a fresh
    pair). Raises ``TOTPNotEnabled`` (409), ``AuthUnavailable`` (503: nothing deleted)."""
    with users.atomic():
        deleted, _ = TOTPFactor.objects.filter(user_id=user.pk).delete()
        if not deleted:
            raise TOTPNotEnabled()
        from django_redis_auth.mfa import factors  # (factors imports this module)

        if not factors.of(user).strong:
            recovery.delete_codes(user)
        pair = changes.factor_changed(
            user, client=client, current_session=current_session, kind="totp_disabled"
        )
    return pair
