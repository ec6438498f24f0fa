"""The second step of sign-in: the signed challenge a first step (password, sign-in code,
Google) answers with when the account has a second factor, and ``login/verify/``, which
turns it and a code (or a passkey assertion) into the pair.

The challenge is signed (``django.core.signing``, valid ``CODE_TTL``) and carries the user
id, a random nonce, a fingerprint of the password hash and how the first step was passed
(for the pair's ``amr``). Codes are counted in the challenge's scope (its nonce): a few wrong
ones and it dies; once one passes it is spent. "Trust this device" (``mfa/trust.py``) is
decided here too.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core import signing
from django.utils.crypto import salted_hmac

from django_redis_auth import activity
from django_redis_auth.accounts import password_guard, users, users_cache
from django_redis_auth.clients import NOBODY, Client
from django_redis_auth.codes import otp, senders
from django_redis_auth.codes.purposes import EmailKind, Purpose
from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions import InvalidCode, MethodNotAvailable
from django_redis_auth.mfa import factors, trust
from django_redis_auth.tokens import issuing as tokens
from django_redis_auth.tokens.claims import Amr

__all__ = [
    "CHALLENGE_SALT",
    "Challenge",
    "TrustedPair",
    "challenge_user",
    "passkey_step_options",
    "second_step",
    "start_login_challenge",
    "verify_login",
]

CHALLENGE_SALT = "django_redis_auth.login_challenge"


@dataclass(frozen=True)
class Challenge:
    """A second step is needed: ``login/verify/`` with this challenge and a code of one of
    ``methods`` (``mfa.factors``: ``totp``, ``recovery_code``, ``email``), best first."""

    challenge: str
    methods: tuple[str, ...] = (factors.EMAIL,)
    # With ``passkey`` among the methods: WebAuthn request options for this very challenge
    # (``{"publicKey": ...}``), answered by ``login/verify/`` with ``credential``.
    passkey_options: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        body = {"otp_required": True, "challenge": self.challenge, "methods": list(self.methods)}
        if self.passkey_options is not None:
            body.update(self.passkey_options)
        return body


def _password_fingerprint(user: Any, secret: str | bytes | None = None) -> str:
    """Changes whenever the password does, so a challenge dies with the password it proved.
    Keyed with ``secret`` (default ``SECRET_KEY``)."""
    value = user.password or ""
    return salted_hmac(CHALLENGE_SALT, value, secret, algorithm="sha256").hexdigest()[:32]


def _fingerprint_matches(fingerprint: str, user: Any) -> bool:
    """Under ``SECRET_KEY`` or one of ``SECRET_KEY_FALLBACKS``, as the challenge's signature
    (``django.core.signing``): a pending login survives a key rotation done Django's way."""
    candidates = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", ())]
    return any(
        hmac.compare_digest(fingerprint, _password_fingerprint(user, key)) for key in candidates
    )


def second_step(
    user: Any, client: Client, methods: list[str], *, first: Iterable[str] = (Amr.PASSWORD,)
) -> Challenge:
    """The challenge of a user who passed the first step (``first``: how, RFC 8176 values)
    and has ``methods`` (from ``factors.second_step_methods``): the emailed code goes out
    only when it is offered."""
    challenge = start_login_challenge(user, client, methods=methods, first=first)
    options = None
    if factors.PASSKEY in methods:
        from django_redis_auth.mfa import passkeys

        options = passkeys.request_options(
            user=user, kind=passkeys.STEP, binding=passkeys.step_binding(challenge)
        )
    return Challenge(challenge, tuple(methods), passkey_options=options)


def passkey_step_options(challenge: str, client: Client = NOBODY) -> dict[str, Any]:
    """New WebAuthn request options for the passkey step of ``challenge`` (login/'s 202).

    Why: the options a 202 carries live ``PASSKEY_CHALLENGE_TTL`` and a failed answer spends
    them, while the login challenge lives ``CODE_TTL``; without this the user would have to
    give the password again. Raises ``InvalidCode`` for a bad, expired or spent challenge
    and ``TooManyAttempts`` for one dead of wrong answers (as ``login/verify/`` does), and
    ``MethodNotAvailable`` when the step offers no passkey.
    """
    found = challenge_user(challenge)
    if found is None:
        raise InvalidCode()
    user, nonce, _first = found
    if factors.PASSKEY not in factors.second_step_methods(user):
        raise MethodNotAvailable()
    factors.check_scope(user, nonce)  # signed in already, or dead of wrong answers
    from django_redis_auth.mfa import passkeys

    return passkeys.request_options(
        user=user,
        kind=passkeys.STEP,
        binding=passkeys.step_binding(challenge),
        client_ip=client.ip,
    )


def start_login_challenge(
    user: Any,
    client: Client = NOBODY,
    *,
    methods: list[str] | None = None,
    first: Iterable[str] = (Amr.PASSWORD,),
) -> str:
    """Mail a ``login`` code to a user who just gave the right password (unless ``methods``
    leaves the emailed code out); return the challenge.

    The challenge is signed (``django.core.signing``, valid ``CODE_TTL`` seconds) and carries
    the user id, a random nonce and a fingerprint of the password hash. The code's HMAC
    includes the nonce, so the code is worthless without this very challenge, and the
    challenge is worthless once the password changes.

    Raises ``RateLimited`` (429) inside the resend cooldown or over a cap.
    """
    nonce = secrets.token_urlsafe(16)
    if methods is None or factors.EMAIL in methods:
        code = otp.issue_code(
            users.canonical_email_of(user), Purpose.LOGIN, client_ip=client.ip, binding=nonce
        )
        senders.send(senders.code_email(EmailKind.LOGIN, users.stored_email(user), code or ""))
    payload = {
        "u": str(users.user_id_of(user)),
        "n": nonce,
        "p": _password_fingerprint(user),
        # How the first step was passed, for the pair's ``amr``; signed with the rest.
        "a": list(first),
    }
    return signing.dumps(payload, salt=CHALLENGE_SALT, compress=False)


def challenge_user(challenge: str) -> tuple[Any, str, list[str]] | None:
    """(user, nonce, first step's amr) of a valid, unexpired challenge whose password is
    still current."""
    try:
        data = signing.loads(challenge, salt=CHALLENGE_SALT, max_age=int(auth_settings.CODE_TTL))
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("u", "n", "p")):
        return None
    user = users_cache.load_from_db(data["u"])
    if user is None or not users.is_active(user):
        return None
    if not _fingerprint_matches(data["p"], user):
        return None
    first = data.get("a", [Amr.PASSWORD])
    if not isinstance(first, list) or not all(isinstance(a, str) for a in first):
        return None
    return user, data["n"], first


@dataclass(frozen=True)
class TrustedPair(tokens.TokenPair):
    """A pair plus the ``device_token`` of a device now trusted to skip the second step."""

    device_token: str = ""


def verify_login(
    challenge: str,
    code: str,
    client: Client = NOBODY,
    *,
    method: str | None = None,
    trust_device: bool = False,
    credential: Any = None,
) -> tokens.TokenPair:
    """Finish a second-factor sign-in: challenge + code of ``method`` → token pair.

    ``method`` defaults to the best the account offers (``totp`` with an authenticator,
    else ``email``); ``email`` is refused (400 ``method_not_available``) while the account
    has an authenticator. Raises ``InvalidCode`` for a bad, expired, outdated or spent
    challenge and for a wrong or replayed code (all 400 ``invalid_code``),
    ``TooManyAttempts`` on the last wrong guess, ``TOTPThrottled`` / ``RateLimited`` (429).
    """
    found = challenge_user(challenge)
    if found is None:
        raise InvalidCode()
    user, nonce, first = found
    # The emailed code is a step-up, not a second factor (an inbox is no authenticator,
    # NIST SP 800-63B): it never makes the session ``mfa``.
    amr = [*first, Amr.OTP]
    if method == factors.PASSKEY or (method is None and credential is not None):
        return _verify_passkey(user, challenge, nonce, first, credential, client, trust_device)
    if method is None or method == factors.EMAIL:
        offered = factors.second_step_methods(user, step_up=True)
        method = method or next((m for m in offered if m != factors.PASSKEY), offered[0])
        if method not in offered:
            raise MethodNotAvailable()
    if method == factors.EMAIL:
        otp.verify_code(
            users.canonical_email_of(user), Purpose.LOGIN, code, binding=nonce, client_ip=client.ip
        )
        password_guard.reset(users.canonical_email_of(user))  # a step-up, if any, has passed
        pair = tokens.issue_token_pair(user, client, amr=amr, method=method)  # no mfa: above
        return _trusted(user, pair) if trust_device else pair
    # One transaction: a recovery code is spent only if the pair is issued.
    with users.atomic():
        factors.verify(
            user, method, code, scope=nonce, scope_ttl=int(auth_settings.CODE_TTL), client=client
        )
        pair = tokens.issue_token_pair(user, client, amr=[*amr, Amr.MULTI_FACTOR], method=method)
        if method == factors.RECOVERY_CODE:
            activity.record(
                users.user_id_of(user), activity.RECOVERY_CODE_USED, client=client, method=method
            )
    password_guard.reset(users.canonical_email_of(user))
    return _trusted(user, pair) if trust_device else pair


def _verify_passkey(
    user: Any,
    challenge: str,
    nonce: str,
    first: list[str],
    credential: Any,
    client: Client,
    trust_device: bool,
) -> tokens.TokenPair:
    """The second step by passkey: an assertion answering the WebAuthn challenge that came
    with this login challenge (mfa/passkeys.py), from one of this user's passkeys. Counted
    in the challenge's scope like a code: a challenge another factor passed is spent."""
    from django_redis_auth.mfa import passkeys

    if credential is None:
        raise MethodNotAvailable()
    ttl = int(auth_settings.CODE_TTL)
    factors.take_scope(user, nonce, ttl)
    with users.atomic():  # the sign count moves only if the pair is issued
        asserted = passkeys.authenticate(
            credential, kind=passkeys.STEP, user=user, binding=passkeys.step_binding(challenge)
        )
        factors.settle_scope(user, nonce, ttl)  # first: a lost race issues nothing
        pair = tokens.issue_token_pair(
            user, client, amr=[*first, *asserted.amr], method=factors.PASSKEY
        )
    password_guard.reset(users.canonical_email_of(user))
    return _trusted(user, pair) if trust_device else pair


def _trusted(user: Any, pair: tokens.TokenPair) -> tokens.TokenPair:
    """``pair`` with a device token, when ``MFA_TRUST_DAYS`` allows trusting devices."""
    if not trust.enabled():
        return pair
    return TrustedPair(pair.access, pair.refresh, device_token=trust.trust(user))
