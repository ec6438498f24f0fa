"""The email-code flows: sign-up, email verification, login second factor, code resend and
password reset. Orchestration only: codes live in :mod:`.otp`, users in :mod:`.users`,
tokens in :mod:`.tokens`, revocation in :mod:`.revocation`, mail in :mod:`.senders`.

Rules every flow keeps:

* **Enumeration safety.** Known and unknown addresses take the same steps in the same order:
  one user lookup, one password hash where a password is given, one ``issue_code`` call with
  the same limits (a *dry* one when no code may be sent), and one message handed to the
  sender (which sends off the request path). Views answer with constant bodies.
* **Nothing half-written.** Database changes and the Redis write they depend on run inside
  one transaction, Redis last: if Redis is down (503) or a limit refuses (429) the database
  change rolls back. Mail is handed to the sender only after that block.
* **A code alone is never a sign-in.** The login code is bound (inside its HMAC) to the nonce
  of a signed challenge that only a correct password produces.
"""

from __future__ import annotations

import hmac
import math
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.hashers import make_password
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, router, transaction
from django.http import HttpRequest
from django.utils.crypto import salted_hmac
from rest_framework.exceptions import ValidationError

from . import otp, receivers, revocation, senders, tokens, users, users_cache
from .conf import auth_settings
from .emails import normalize_email
from .exceptions import InvalidCode, PasswordInvalid
from .otp import EMAIL_VERIFICATION, LOGIN, PASSWORD_RESET
from .senders import AuthEmail

CHALLENGE_SALT = "django_redis_auth.login_challenge"


# --- helpers -------------------------------------------------------------------------------


def _http_request(request: Any) -> HttpRequest | None:
    """The Django request under a DRF ``Request`` (or the request itself)."""
    return getattr(request, "_request", request)


def client_ip(request: Any) -> str | None:
    """The client IP used for the per-IP hourly cap, from ``CLIENT_IP_RESOLVER``."""
    http_request = _http_request(request)
    resolver = auth_settings.CLIENT_IP_RESOLVER
    if http_request is None or resolver is None:
        return None
    return resolver(http_request) or None


def _email_of(user: Any) -> str:
    return normalize_email(getattr(user, user.get_email_field_name()))


def _is_active(user: Any) -> bool:
    return bool(getattr(user, "is_active", True))


def _user_model() -> Any:
    return get_user_model()


def _atomic() -> Any:
    return transaction.atomic(using=router.db_for_write(_user_model()))


def _provisional_user(email: str) -> Any:
    """An unsaved user with only the address, for password validators on paths where the
    answer must not depend on whether the account exists."""
    model = _user_model()
    return model(**{model.get_email_field_name(): email})


def _validation_messages(password: str, user: Any) -> list[str]:
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        return list(exc.messages)
    return []


def _code_email(kind: str, to: str, code: str) -> AuthEmail:
    """``to`` is the address stored on the account when there is one (``users.stored_email``),
    never the spelling a request typed."""
    minutes = max(1, math.ceil(int(auth_settings.CODE_TTL) / 60))
    return AuthEmail(to=to, kind=kind, context={"code": code, "code_ttl_minutes": minutes})


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


# --- sign-up and email verification ---------------------------------------------------------


def signup(email: str, password: str, request: Any = None) -> None:
    """Create an unverified account and mail it an ``email_verification`` code.

    Existing addresses, verified or not, are left alone and get a "someone tried to sign up
    with your address" notice (active accounts only), no code: the password of an existing
    account never changes through sign-up (see ``_signup_existing``). Every path hashes the
    password once and runs the same code limits, so neither the answer nor its timing tells
    which case applied.

    Raises ``ValidationError`` (400 ``password_invalid``) if the password validators refuse,
    ``RateLimited`` (429) or ``AuthUnavailable`` (503, nothing created).
    """
    email = normalize_email(email)
    messages = _validation_messages(password, _provisional_user(email))
    if messages:
        raise ValidationError({"password": messages}, code="password_invalid")
    ip = client_ip(request)
    user = users.find_by_email(email)
    message: AuthEmail | None
    if user is None:
        message = _signup_new(email, password, ip)
    else:
        message = _signup_existing(user, email, password, ip)
    if message is not None:
        senders.send(message)


def _signup_new(email: str, password: str, ip: str | None) -> AuthEmail | None:
    model = _user_model()
    fields = {model.get_email_field_name(): email}
    if model.USERNAME_FIELD not in fields:
        fields[model.USERNAME_FIELD] = email
    try:
        with _atomic():
            model._default_manager.create_user(password=password, **fields)
            # Redis last: a refused or failed issue rolls the new row back.
            code = otp.issue_code(email, EMAIL_VERIFICATION, client_ip=ip)
    except IntegrityError:
        # A concurrent sign-up for the same address won the race: answer as for an existing
        # account (the password was already hashed once, so the cost is not lower).
        existing = users.find_by_email(email)
        if existing is None:
            raise
        return _signup_existing(existing, email, password, ip, hashed=True)
    return _code_email(EMAIL_VERIFICATION, email, code or "")


def _signup_existing(
    user: Any, email: str, password: str, ip: str | None, *, hashed: bool = False
) -> AuthEmail | None:
    # The account is never changed, verified or not. Letting a second sign-up replace the
    # password of an unverified account would let an attacker who signs up with the victim's
    # address while the victim's verification is pending choose the password the victim then
    # verifies (account pre-hijacking). The owner is told instead and can reset the password,
    # which also verifies the address.
    if not hashed:
        make_password(password)  # the same hashing cost as creating an account
    otp.issue_code(email, EMAIL_VERIFICATION, client_ip=ip, store_code=False)
    if not _is_active(user):
        return None
    return AuthEmail(to=users.stored_email(user), kind=senders.SIGNUP_EXISTS)


def verify_email(email: str, code: str, request: Any = None) -> tokens.TokenPair:
    """Consume an ``email_verification`` code, mark the address verified, sign the user in.

    Raises ``InvalidCode`` / ``TooManyAttempts`` (400) or ``AuthUnavailable`` (503).
    """
    email = normalize_email(email)
    otp.verify_code(email, EMAIL_VERIFICATION, code, client_ip=client_ip(request))
    user = users.find_by_email(email)
    if user is None or not _is_active(user):
        raise InvalidCode()
    users.mark_verified(user)
    return tokens.issue_token_pair(user, _http_request(request))


# --- login second factor --------------------------------------------------------------------


def start_login_challenge(user: Any, request: Any = None) -> str:
    """Mail a ``login`` code to a user who just gave the right password; return the challenge.

    The challenge is signed (``django.core.signing``, valid ``CODE_TTL`` seconds) and carries
    the user id, a random nonce and a fingerprint of the password hash. The code's HMAC
    includes the nonce, so the code is worthless without this very challenge, and the
    challenge is worthless once the password changes.

    Raises ``RateLimited`` (429) inside the resend cooldown or over a cap.
    """
    email = _email_of(user)
    nonce = secrets.token_urlsafe(16)
    code = otp.issue_code(email, LOGIN, client_ip=client_ip(request), binding=nonce)
    senders.send(_code_email(LOGIN, users.stored_email(user), code or ""))
    payload = {
        "u": str(revocation.user_id_of(user)),
        "n": nonce,
        "p": _password_fingerprint(user),
    }
    return signing.dumps(payload, salt=CHALLENGE_SALT, compress=False)


def _challenge_user(challenge: str) -> tuple[Any, str] | None:
    """(user, nonce) of a valid, unexpired challenge whose password is still current."""
    try:
        data = signing.loads(challenge, salt=CHALLENGE_SALT, max_age=int(auth_settings.CODE_TTL))
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or not all(isinstance(data.get(k), str) for k in ("u", "n", "p")):
        return None
    user = users_cache.load_from_db(data["u"])
    if user is None or not _is_active(user):
        return None
    if not _fingerprint_matches(data["p"], user):
        return None
    return user, data["n"]


def verify_login(challenge: str, code: str, request: Any = None) -> tokens.TokenPair:
    """Finish a second-factor sign-in: challenge + code → token pair.

    Raises ``InvalidCode`` for a bad, expired or outdated challenge and for a wrong code
    (both 400 ``invalid_code``), ``TooManyAttempts`` on the last wrong guess.
    """
    found = _challenge_user(challenge)
    if found is None:
        raise InvalidCode()
    user, nonce = found
    otp.verify_code(_email_of(user), LOGIN, code, binding=nonce, client_ip=client_ip(request))
    return tokens.issue_token_pair(user, _http_request(request))


# --- resend ---------------------------------------------------------------------------------


def request_code(
    email: str, purpose: str, request: Any = None, *, challenge: str | None = None
) -> None:
    """(Re)send a code for ``purpose``; the same steps whether or not a code is sent.

    A code is sent only where it makes sense: ``email_verification`` to an active,
    unverified account; ``password_reset`` to an active account; ``login`` only with a valid
    ``challenge`` for this address (a login code must stay bound to a password check — the
    new code replaces the old one under the same challenge); a login request without one
    only counts against the client IP's cap. Every other case is a dry run of the same
    limits. Raises ``RateLimited`` (429) or ``AuthUnavailable`` (503).
    """
    email = normalize_email(email)
    binding = ""
    user = None
    if purpose == LOGIN:
        found = _challenge_user(challenge) if challenge else None
        if found is None or _email_of(found[0]) != email:
            # No password check behind it: whoever asks gets the same 202 and only their
            # own IP is charged. Charging the address's cooldown or hourly cap here would let
            # anyone lock its owner out of sign-in (and reset) without any credential.
            otp.charge_client_ip(client_ip(request))
            return
        user, binding = found
    else:
        user = users.find_by_email(email)
    eligible = (
        user is not None
        and _is_active(user)
        and (purpose != EMAIL_VERIFICATION or not users.is_verified(user))
    )
    code = otp.issue_code(
        email, purpose, client_ip=client_ip(request), binding=binding, store_code=eligible
    )
    if code is not None and user is not None:
        senders.send(_code_email(purpose, users.stored_email(user), code))


# --- password reset -------------------------------------------------------------------------


def request_password_reset(email: str, request: Any = None) -> None:
    """Mail a ``password_reset`` code if the account exists (the same steps if not)."""
    request_code(email, PASSWORD_RESET, request)


def confirm_password_reset(email: str, code: str, new_password: str, request: Any = None) -> None:
    """Set a new password with a ``password_reset`` code and sign out every device.

    Order matters for enumeration: until the code is proven, nothing may depend on whether
    the account exists. So the validators first run against an email-only stand-in (the
    same answer for any address), then the code is proven *without* being consumed, then
    the validators run against the real user (UserAttributeSimilarityValidator and the like;
    the code stays usable for a better password), and only then is the code consumed — one
    atomic, single-use step — and the password saved. The save revokes every session before
    the row is written (receivers.py); if Redis is down nothing is saved. The address counts
    as verified (the code proved it). Finally a "your password was changed" notice is mailed.

    Raises ``PasswordInvalid`` (400 ``password_invalid``), ``InvalidCode`` /
    ``TooManyAttempts`` (400) or ``AuthUnavailable`` (503).
    """
    email = normalize_email(email)
    messages = _validation_messages(new_password, _provisional_user(email))
    if messages:
        raise PasswordInvalid(messages)
    user = users.find_by_email(email)
    otp.verify_code(email, PASSWORD_RESET, code, consume=False, client_ip=client_ip(request))
    if user is None or not _is_active(user):
        raise InvalidCode()
    messages = _validation_messages(new_password, user)
    if messages:
        raise PasswordInvalid(messages)
    otp.verify_code(email, PASSWORD_RESET, code)  # of concurrent confirms, one gets here
    with _atomic():
        # The save hook revokes every session inside this transaction (receivers.py).
        receivers.set_revoke_reason(user, "password_reset")
        user.set_password(new_password)
        update_fields = ["password"]
        if hasattr(user, "email_verified") and not user.email_verified:
            user.email_verified = True
            update_fields.append("email_verified")
        user.save(update_fields=update_fields)
    senders.send(AuthEmail(to=users.stored_email(user), kind=senders.PASSWORD_CHANGED))
