"""Passkeys (WebAuthn) over py_webauthn: options, verification, the credentials.

Every ceremony has two halves. The options carry a random challenge, kept in Redis for
``PASSKEY_CHALLENGE_TTL`` under a keyed digest of its value, with what it is for (``k``:
registration, sign-in, second step, reauthentication), whose it is (``u``) and what it is
bound to (``b``). The answer names its challenge inside ``clientDataJSON``; it is found by
that value and *taken* (GETDEL) before anything else is checked, so an answer works once
on every worker, and a failed check also spends the challenge (no second try on it).

py_webauthn then checks the origin (one of ``PASSKEY_ORIGINS``), the RP id hash, user
presence and verification (always required: a passkey with its PIN or biometrics is two
factors by itself), the signature, and that a counting authenticator's sign count grew.
The database decides the count last, by a conditional ``UPDATE`` (of two assertions that
raced past Redis only one could be newer). No CBOR, COSE or attestation parsing happens
here: all of it is py_webauthn's. Attestation is ``none``: the server stores the public
key, not a statement about the authenticator's make.

Failures are one error, ``invalid_credential`` (400); which check failed is logged.
"""

from __future__ import annotations

import binascii
import contextlib
import hashlib
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any, NoReturn

from django.utils import timezone
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url, parse_client_data_json
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    CredentialDeviceType,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from django_redis_auth import keys, store
from django_redis_auth.accounts import users
from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions.base import AuthUnavailable, RateLimited
from django_redis_auth.mfa.exceptions import (
    ChallengeExpired,
    InvalidCredential,
    PasskeyLimitReached,
    PasskeysNotEnabled,
)
from django_redis_auth.mfa.models import Passkey
from django_redis_auth.tokens.claims import Amr

__all__ = [
    "LOGIN",
    "REAUTH",
    "REGISTER",
    "STEP",
    "Asserted",
    "amr_of",
    "authenticate",
    "fake_credential_id",
    "reauth_binding",
    "register",
    "registration_options",
    "request_options",
    "require_enabled",
    "step_binding",
]

logger = logging.getLogger("django_redis_auth")

# What a challenge is for (``k`` of its record).
REGISTER, LOGIN, STEP, REAUTH = "register", "login", "step", "reauth"
NAME_MAX = 64
_TRANSPORTS = frozenset(t.value for t in AuthenticatorTransport)
_CREDENTIAL_MAX = 64 * 1024  # characters of a credential's JSON; real ones are < 2 KB


def require_enabled() -> None:
    """404 ``passkeys_not_enabled`` unless ``PASSKEYS`` is on."""
    if not auth_settings.PASSKEYS:
        raise PasskeysNotEnabled()


def _rp_id() -> str:
    return str(auth_settings.PASSKEY_RP_ID)


def _origins() -> list[str]:
    return [str(origin) for origin in auth_settings.PASSKEY_ORIGINS]


def _ttl() -> int:
    return int(auth_settings.PASSKEY_CHALLENGE_TTL)


def _options_json(options: Any) -> dict[str, Any]:
    return {"publicKey": json.loads(options_to_json(options))}


def _keep(challenge: bytes, kind: str, user_id: Any = "", binding: str = "", **extra: Any) -> None:
    record = {"k": kind, "u": str(user_id), "b": binding, **extra}
    with store.guard():
        store.get_client().set(
            keys.passkey_challenge(bytes_to_base64url(challenge)), json.dumps(record), ex=_ttl()
        )


def _descriptor(passkey: Passkey) -> PublicKeyCredentialDescriptor:
    transports = [AuthenticatorTransport(t) for t in passkey.transports if t in _TRANSPORTS]
    return PublicKeyCredentialDescriptor(
        id=base64url_to_bytes(passkey.credential_id), transports=transports or None
    )


# --- registration -----------------------------------------------------------------------------


def registration_options(user: Any) -> dict[str, Any]:
    """``{"publicKey": PublicKeyCredentialCreationOptionsJSON}`` for ``navigator.credentials
    .create()``: the user's passkeys excluded (an authenticator holding one says so instead
    of making a second), a discoverable credential preferred, user verification required.
    The user handle is the one of the user's earlier passkeys, else a new random one, so an
    authenticator keeps one entry per account."""
    require_enabled()
    existing = list(Passkey.objects.filter(user_id=user.pk).order_by("created"))
    if len(existing) >= int(auth_settings.PASSKEYS_PER_USER):
        raise PasskeyLimitReached()
    handle = existing[0].user_handle if existing else bytes_to_base64url(secrets.token_bytes(32))
    email = users.stored_email(user)
    options = generate_registration_options(
        rp_id=_rp_id(),
        rp_name=str(auth_settings.PASSKEY_RP_NAME),
        user_name=email,
        user_id=base64url_to_bytes(handle),
        user_display_name=email,
        timeout=_ttl() * 1000,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[_descriptor(p) for p in existing],
    )
    _keep(options.challenge, REGISTER, user.pk, h=handle)
    return _options_json(options)


def register(user: Any, credential: Any, name: str) -> Passkey:
    """Verify the browser's ``credential.toJSON()`` of a registration and store the passkey.
    Raises ``ChallengeExpired`` / ``InvalidCredential`` (400), ``PasskeyLimitReached``
    (409). The caller makes it a factor change (mfa/passkey_views.py)."""
    require_enabled()
    challenge, record = _take(credential)
    if record.get("k") != REGISTER or record.get("u") != str(user.pk):
        _refuse("a registration answer to another challenge")
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=_rp_id(),
            expected_origin=_origins(),
            require_user_verification=True,
        )
    except _MALFORMED as exc:
        _refuse(f"registration: {exc}")
    if Passkey.objects.filter(user_id=user.pk).count() >= int(auth_settings.PASSKEYS_PER_USER):
        raise PasskeyLimitReached()
    credential_id = bytes_to_base64url(verified.credential_id)
    if Passkey.objects.filter(credential_id=credential_id).exists():
        _refuse("registration of a credential id already stored")
    raw_transports = (credential.get("response") or {}).get("transports") or []
    transports = [t for t in raw_transports if isinstance(t, str) and t in _TRANSPORTS][:8]
    return Passkey.objects.create(
        user_id=user.pk,
        name=clean_name(name),
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=transports,
        aaguid=str(verified.aaguid or ""),
        user_handle=str(record.get("h") or ""),
        backup_eligible=verified.credential_device_type == CredentialDeviceType.MULTI_DEVICE,
        backup_state=bool(verified.credential_backed_up),
    )


def clean_name(name: str | None) -> str:
    name = " ".join(str(name or "").split())[:NAME_MAX]
    return name or "Passkey"


# --- sign-in, second step, reauthentication ---------------------------------------------------


def fake_credential_id(email: str) -> bytes:
    """A credential id for an address without passkeys (or without an account), the same on
    every request: email-first options look alike for every address."""
    return hashlib.sha256(f"dra-passkey-decoy:{keys.email_tag(email)}".encode()).digest()[:16]


def request_options(
    *,
    email: str | None = None,
    user: Any = None,
    kind: str = LOGIN,
    binding: str = "",
    client_ip: str | None = None,
) -> dict[str, Any]:
    """``{"publicKey": PublicKeyCredentialRequestOptionsJSON}`` for
    ``navigator.credentials.get()``.

    No ``email`` and no ``user``: a discoverable sign-in (the authenticator offers the
    accounts it holds). ``email`` (canonical): its passkeys in ``allowCredentials``; an
    address with none, or no account, gets a decoy id instead, so the answer does not tell
    which addresses have passkeys (the challenge is then bound to no one, and nothing can
    answer the decoy). ``user`` (second step, reauthentication): that user's passkeys, the
    challenge bound to them and to ``binding``. ``client_ip``: an unauthenticated caller,
    counted against ``PASSKEY_OPTIONS_PER_IP`` (429 ``rate_limited`` over it), since every
    call stores a challenge."""
    require_enabled()
    _charge(client_ip)
    bound: Any = ""
    allow: list[PublicKeyCredentialDescriptor] = []
    if user is None and email:
        user = users.find_by_email(email)
        if user is not None and not users.is_active(user):
            user = None
    if user is not None:
        allow = [_descriptor(p) for p in Passkey.objects.filter(user_id=user.pk)]
        bound = user.pk if allow or kind != LOGIN else ""
    if email and not allow:
        allow = [PublicKeyCredentialDescriptor(id=fake_credential_id(email))]
    options = generate_authentication_options(
        rp_id=_rp_id(),
        timeout=_ttl() * 1000,
        allow_credentials=allow,
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    _keep(options.challenge, kind, bound, binding)
    return _options_json(options)


def step_binding(login_challenge: str) -> str:
    """What a second-step WebAuthn challenge is bound to: its login challenge (digest)."""
    return "step:" + hashlib.sha256(login_challenge.encode()).hexdigest()[:32]


def reauth_binding(family: str) -> str:
    """What a ``reauth/`` WebAuthn challenge is bound to: the session (token family)."""
    return f"session:{family}"


@dataclass(frozen=True)
class Asserted:
    """A verified assertion: whose passkey, and how to say it in ``amr``."""

    user: Any
    passkey: Passkey

    @property
    def amr(self) -> list[str]:
        return amr_of(self.passkey)


def amr_of(passkey: Passkey) -> list[str]:
    """RFC 8176: ``swk`` for a synced passkey (backup eligible), ``hwk`` for one bound to its
    device; ``user`` (it verified the user) and ``mfa`` (possession + PIN or biometrics)."""
    key = Amr.SOFTWARE_KEY if passkey.backup_eligible else Amr.HARDWARE_KEY
    return [key, Amr.USER_PRESENCE, Amr.MULTI_FACTOR]


def authenticate(
    credential: Any, *, kind: str = LOGIN, user: Any = None, binding: str = ""
) -> Asserted:
    """Verify an assertion (``credential.toJSON()`` of ``navigator.credentials.get()``)
    answering a pending challenge of ``kind``; its sign count and last use are recorded.

    ``user``: the account it must belong to (second step, reauthentication); ``binding``:
    what the challenge must be bound to (a login challenge's digest, a session). A
    challenge of email-first options is bound to that account. Raises
    ``ChallengeExpired`` / ``InvalidCredential`` (400), ``AuthUnavailable`` (503)."""
    require_enabled()
    challenge, record = _take(credential)
    if record.get("k") != kind or record.get("b", "") != binding:
        _refuse(f"a {kind} answer to a {record.get('k')} challenge")
    expected = str(user.pk) if user is not None else record.get("u", "")
    if user is not None and record.get("u") != expected:
        _refuse("a challenge of another user")
    # One query for the passkey and its user (the user row decides who signs in).
    passkey = (
        Passkey.objects.select_related("user")
        .filter(credential_id=str(credential.get("id", "")))
        .first()
    )
    if passkey is None:
        _refuse("an unknown credential id")
    if expected and str(passkey.user_id) != expected:
        _refuse("another user's credential")
    handle = (credential.get("response") or {}).get("userHandle")
    if handle and handle != passkey.user_handle:
        _refuse("a user handle that is not the credential's")
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=_rp_id(),
            expected_origin=_origins(),
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=True,
        )
    except _MALFORMED as exc:
        _note_failure(passkey)
        _refuse(f"assertion: {exc}")
    account = user if user is not None else passkey.user
    if account is None or not users.is_active(account):
        _refuse("an inactive account")
    _record_use(passkey, verified.new_sign_count, bool(verified.credential_backed_up))
    return Asserted(user=account, passkey=passkey)


def _record_use(passkey: Passkey, count: int, backed_up: bool) -> None:
    """The database decides the count: of two assertions with the same count that both
    passed, the second finds its row moved on and is refused."""
    rows = Passkey.objects.filter(pk=passkey.pk)
    if count or passkey.sign_count:
        rows = rows.filter(sign_count__lt=count)
    updated = rows.update(sign_count=count, backup_state=backed_up, last_used=timezone.now())
    if not updated:
        _refuse("a sign count another assertion used already")
    passkey.sign_count, passkey.backup_state = count, backed_up


# --- helpers ----------------------------------------------------------------------------------


def _charge(client_ip: str | None) -> None:
    cap = int(auth_settings.PASSKEY_OPTIONS_PER_IP)
    if not client_ip or not cap:
        return
    with store.guard():
        wait_ms = store.script("cap_counter")(
            keys=[keys.ip_limits(client_ip)], args=["take", cap, "w"]
        )
    if int(wait_ms) > 0:
        raise RateLimited(int(wait_ms) / 1000)


_MALFORMED = (WebAuthnException, ValueError, TypeError, KeyError, AttributeError, binascii.Error)


def _note_failure(passkey: Passkey) -> None:
    """A failed assertion of a known passkey goes into its owner's activity list (best
    effort: the answer is the same 400 either way)."""
    from django_redis_auth import activity

    with contextlib.suppress(AuthUnavailable):
        activity.record(users.user_id_of(passkey.user), activity.SIGN_IN_FAILED, method="passkey")


def _refuse(why: str) -> NoReturn:
    logger.info("Passkey answer refused: %s", why)
    raise InvalidCredential()


def _take(credential: Any) -> tuple[bytes, dict[str, Any]]:
    """The challenge ``credential`` signed and its record, taken from Redis (single use).
    ``ChallengeExpired`` when it is not pending; ``InvalidCredential`` when the answer
    names no challenge at all."""
    if not isinstance(credential, dict) or len(json.dumps(credential)) > _CREDENTIAL_MAX:
        _refuse("not a JSON object of a sane size")
    try:
        raw = (credential.get("response") or {}).get("clientDataJSON")
        challenge = parse_client_data_json(base64url_to_bytes(raw)).challenge
    except _MALFORMED as exc:
        _refuse(f"clientDataJSON: {type(exc).__name__}")
    with store.guard():
        found = store.get_client().getdel(keys.passkey_challenge(bytes_to_base64url(challenge)))
    if found is None:
        raise ChallengeExpired()
    try:
        record = json.loads(found)
    except ValueError:
        _refuse("an unreadable challenge record")
    return challenge, record
