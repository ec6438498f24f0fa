"""The sign-in flows: sign-up, email verification, login (with its second factor), code
resend and password reset; the second step of sign-in is :mod:`.second_step`'s.
Orchestration only: codes live in :mod:`.otp`, users in
:mod:`.users`, tokens in :mod:`.tokens`, revocation in :mod:`.revocation`, mail in
:mod:`.senders`. Views call one function here each and pass the caller as a
:class:`~.clients.Client`; nothing here reads a request.

Rules every flow keeps (docs/otp.md and docs/security.md say why):

* **Enumeration safety.** Known and unknown addresses take the same steps in the same order
  and get the same answer; mail goes off the request path, to the address stored on the
  account (never the spelling typed).
* **Nothing half-written.** Database changes and the Redis write they depend on run inside
  one transaction, Redis last; mail is handed to the sender only after that block.
* **Addresses arrive canonical.** Every ``email`` argument is the canonical form
  (:func:`~django_redis_auth.emails.canonical_email`, which the serializers' ``EmailField``
  returns): it is made so once, at the edge, and used as given here. Python callers with a
  typed address call ``canonical_email`` first.
* **A code alone is never a sign-in.** The login code is bound (inside its HMAC) to the nonce
  of a signed challenge that only a correct password produces; authenticator and recovery
  codes are counted in that challenge (mfa/factors.py).
* **An inbox alone never passes the second step** of an account with an authenticator app:
  the emailed code is then neither offered nor mailed (docs/mfa.md).
"""

from __future__ import annotations

import contextlib
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError

from django_redis_auth import activity, receivers
from django_redis_auth.accounts import password_guard, users

# The second step lives in its own module; these names stay importable from here.
from django_redis_auth.accounts.second_step import (
    CHALLENGE_SALT,
    Challenge,
    TrustedPair,
    challenge_user,
    second_step,
    start_login_challenge,
    verify_login,
)
from django_redis_auth.clients import NOBODY, Client
from django_redis_auth.codes import otp, senders
from django_redis_auth.codes.purposes import EmailKind, Purpose
from django_redis_auth.codes.senders import AuthEmail
from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions import (
    AuthUnavailable,
    EmailNotVerified,
    InvalidCode,
    InvalidCredentials,
    PasswordInvalid,
)
from django_redis_auth.mfa import factors, trust
from django_redis_auth.tokens import issuing as tokens
from django_redis_auth.tokens.claims import Amr

__all__ = [
    "CHALLENGE_SALT",
    "Challenge",
    "TrustedPair",
    "confirm_password_reset",
    "login",
    "request_code",
    "request_password_reset",
    "second_step",
    "signup",
    "start_login_challenge",
    "verify_email",
    "verify_login",
]


# --- helpers -------------------------------------------------------------------------------


def _check_password_rules(password: str, user: Any, field: str) -> None:
    problems = users.password_problems(password, user)
    if problems:
        raise PasswordInvalid(problems, field=field)


# --- sign-up and email verification ---------------------------------------------------------


def signup(email: str, password: str, client: Client = NOBODY) -> None:
    """Create an unverified account and mail it an ``email_verification`` code.

    Existing addresses, verified or not, are left alone and get a "someone tried to sign up
    with your address" notice (active accounts only), no code: the password of an existing
    account never changes through sign-up (that would allow pre-hijacking a pending
    account). Both paths hash the password once, make one insert attempt (for a taken
    address the unique constraint refuses it), and run the same code limits, so neither the
    answer nor its timing tells which case applied.

    Raises ``PasswordInvalid`` (400), ``RateLimited`` (429) or ``AuthUnavailable`` (503,
    nothing created).
    """
    _check_password_rules(password, users.provisional_user(email), "password")
    if users.has_unique_email():
        message = _signup_insert_first(email, password, client.ip)
    else:
        # No constraint to decide: look first (such models may share one address, W024).
        user = users.find_by_email(email)
        if user is None:
            message = _signup_insert_first(email, password, client.ip)
        else:
            message = _signup_existing(user, email, password, client.ip)
    if message is not None:
        senders.send(message)


def _signup_insert_first(email: str, password: str, ip: str | None) -> AuthEmail | None:
    model = get_user_model()
    fields = {model.get_email_field_name(): email}
    if model.USERNAME_FIELD not in fields:
        fields[model.USERNAME_FIELD] = email
    # One transaction either way, one insert attempt (the unique constraint refuses a taken
    # address), and a commit that writes in both cases (the new row, or the lock taken on
    # the existing one): a commit that writes flushes the database's log, most of a
    # sign-up's cost (docs/security.md, "Enumeration", has the measured difference).
    with users.atomic():
        try:
            with users.atomic():  # a savepoint: the unique constraint decides
                model._default_manager.create_user(password=password, **fields)
        except IntegrityError:
            # Taken (or a concurrent sign-up won the race): answer as for an existing
            # account. The password was hashed already, so the cost is the same.
            existing = users.find_by_email(email, lock=True)
            if existing is None:
                raise
            return _signup_existing(existing, email, password, ip, hashed=True)
        # Redis last: a refused or failed issue rolls the new row back.
        code = otp.issue_code(email, Purpose.EMAIL_VERIFICATION, client_ip=ip)
    return senders.code_email(EmailKind.EMAIL_VERIFICATION, email, code or "")


def _signup_existing(
    user: Any, email: str, password: str, ip: str | None, *, hashed: bool = False
) -> AuthEmail | None:
    if not hashed:
        make_password(password)  # the same hashing cost as creating an account
    otp.issue_code(email, Purpose.EMAIL_VERIFICATION, client_ip=ip, store_code=False)
    if not users.is_active(user):
        return None
    return AuthEmail(to=users.stored_email(user), kind=EmailKind.SIGNUP_EXISTS)


def verify_email(email: str, code: str, client: Client = NOBODY) -> tokens.TokenPair:
    """Consume an ``email_verification`` code, mark the address verified, sign the user in.

    Raises ``InvalidCode`` / ``TooManyAttempts`` (400) or ``AuthUnavailable`` (503).
    """
    # The user first: with the database down the request fails before the code is spent.
    user = users.find_by_email(email)
    if user is None or not users.is_active(user):
        otp.verify_code(email, Purpose.EMAIL_VERIFICATION, code, client_ip=client.ip)
        raise InvalidCode()  # (a code for no account cannot exist; the guess still counts)
    otp.verify_code(email, Purpose.EMAIL_VERIFICATION, code, consume=False, client_ip=client.ip)
    with users.atomic():
        users.mark_verified(user)
        # Spent last, inside the transaction: if the save fails the code still works, and
        # of concurrent verifies only one gets past this line (the others roll back).
        otp.verify_code(email, Purpose.EMAIL_VERIFICATION, code)
    return tokens.issue_token_pair(user, client, amr=[Amr.OTP], method="email_verification")


# --- login ------------------------------------------------------------------------------------


def login(
    email: str, password: str, client: Client = NOBODY, *, device_token: str | None = None
) -> tokens.TokenPair | Challenge:
    """Email + password → a token pair, or a :class:`Challenge` when a second factor applies.

    An account whose address is not verified yet answers exactly like a wrong password
    (401 ``invalid_credentials``), and does exactly the same work: otherwise signing up with
    someone's address and your own password, then logging in, would tell a taken address
    from a fresh one. Its owner asks ``otp/`` for a new verification code. (Mailing one
    from here would also hand whoever signed up with the address a way to keep mailing the
    real owner codes that verify the stranger's account.) ``UNVERIFIED_LOGIN = "reveal"``
    answers 403 ``email_not_verified`` instead.
    """
    user = users.check_credentials(client.request, email, password)
    concealed = (
        user is not None
        and auth_settings.REQUIRE_VERIFIED_EMAIL
        and not users.is_verified(user)
        and auth_settings.UNVERIFIED_LOGIN == "conceal"
    )
    # Always after the hash, one script call (password_guard.py): inside a delay or over the
    # IP's cap the answer is 429 whatever the password was, so guessing then learns nothing.
    # A concealed account counts as a failure, as its answer says: were it a success, the
    # delay that a taken address reaches after a few tries would never come for a fresh one.
    verdict = password_guard.attempt(email, client.ip, user is not None and not concealed)
    if user is None:
        _record_failure(email, client)
        raise InvalidCredentials()
    if concealed:
        raise InvalidCredentials()
    if auth_settings.REQUIRE_VERIFIED_EMAIL and not users.is_verified(user):
        raise EmailNotVerified()
    # step_up: the account is at its failure ceiling; a second step is the way in (the
    # authenticator if there is one, else the emailed code).
    methods = factors.second_step_methods(user, step_up=verdict.step_up)
    # A trusted device skips the second step of an account's factor, never a step-up
    # the password guard asks for (that is about this password's guessing, not the device).
    if methods and not (not verdict.step_up and trust.is_trusted(user, device_token)):
        return second_step(user, client, methods)
    return tokens.issue_token_pair(user, client, amr=[Amr.PASSWORD], method="password")


def _record_failure(email: str, client: Client) -> None:
    """A wrong password for an existing account goes into its activity list (Django's
    ``user_login_failed`` was sent by ``authenticate``). Best effort: the answer is the
    same 401 whether or not Redis took it."""
    owner = users.find_by_email(email)
    # (Were Redis down for good, password_guard would have answered 503 already.)
    with contextlib.suppress(AuthUnavailable):
        if owner is not None:
            activity.record(
                users.user_id_of(owner), activity.SIGN_IN_FAILED, client=client, method="password"
            )
        else:
            # The same query and round trip for an address without an account, so a
            # failure's cost does not tell the two apart.
            activity.touch()


# --- resend ---------------------------------------------------------------------------------


def request_code(
    email: str, purpose: str, client: Client = NOBODY, *, challenge: str | None = None
) -> None:
    """(Re)send a code for ``purpose``; the same steps whether or not a code is sent.

    A code is sent only where it makes sense: ``email_verification`` to an active,
    unverified account; ``password_reset`` to an active account; ``login`` only with a valid
    ``challenge`` for this address (a login code must stay bound to a password check — the
    new code replaces the old one under the same challenge); a login request without one
    only counts against the client IP's cap. Every other case is a dry run of the same
    limits. Raises ``RateLimited`` (429) or ``AuthUnavailable`` (503).
    """
    purpose = Purpose(purpose)
    binding = ""
    user = None
    if purpose == Purpose.LOGIN:
        found = challenge_user(challenge) if challenge else None
        if (
            found is None
            or users.canonical_email_of(found[0]) != email
            or factors.of(found[0]).strong
        ):
            # No password check behind it: whoever asks gets the same 202 and only their
            # own IP is charged. Charging the address's cooldown or hourly cap here would let
            # anyone lock its owner out of sign-in (and reset) without any credential. (With
            # an authenticator app the emailed code is never offered: none is sent.)
            otp.charge_client_ip(client.ip)
            return
        user, binding, _first = found
    else:
        user = users.find_by_email(email)
    eligible = (
        user is not None
        and users.is_active(user)
        and (purpose != Purpose.EMAIL_VERIFICATION or not users.is_verified(user))
        and (
            purpose != Purpose.LOGIN_CODE
            or (auth_settings.LOGIN_BY_CODE and may_sign_in_by_code(user))
        )
    )
    code = otp.issue_code(email, purpose, client_ip=client.ip, binding=binding, store_code=eligible)
    if code is not None and user is not None:
        senders.send(senders.code_email(purpose, users.stored_email(user), code))


def may_sign_in_by_code(user: Any) -> bool:
    """Whether ``login/code/`` may mail this user a sign-in code: an active account with a
    verified address (an unverified one may have been registered by someone else with a
    password of theirs: signing its owner in would hand the stranger a shared account) whose
    policy does not ask for the emailed step-up alone (password + inbox would shrink to the
    inbox). With an authenticator or a passkey the code is the first step of two."""
    if not users.is_active(user) or not users.is_verified(user):
        return False
    found = factors.of(user)
    return found.strong or not found.email


# --- password reset -------------------------------------------------------------------------


def request_password_reset(email: str, client: Client = NOBODY) -> None:
    """Mail a ``password_reset`` code if the account exists (the same steps if not)."""
    request_code(email, Purpose.PASSWORD_RESET, client)


def confirm_password_reset(
    email: str, code: str, new_password: str, client: Client = NOBODY
) -> None:
    """Set a new password with a ``password_reset`` code and sign out every device.

    Until the code is proven nothing may depend on whether the account exists: validators
    run against an email-only stand-in, the code is proven without being consumed, the
    validators run against the real user, and only then is the code consumed and the
    password saved (docs/otp.md, "Password reset"). The save revokes every session before the
    row is written (receivers.py); if Redis is down nothing is saved. The address counts as
    verified (the code proved it). A "your password was changed" notice follows.

    Raises ``PasswordInvalid`` (400 ``password_invalid``), ``InvalidCode`` /
    ``TooManyAttempts`` (400) or ``AuthUnavailable`` (503).
    """
    _check_password_rules(new_password, users.provisional_user(email), "new_password")
    user = users.find_by_email(email)
    otp.verify_code(email, Purpose.PASSWORD_RESET, code, consume=False, client_ip=client.ip)
    if user is None or not users.is_active(user):
        raise InvalidCode()
    _check_password_rules(new_password, user, "new_password")
    with users.atomic():
        user.set_password(new_password)
        update_fields = ["password"]
        update_fields += users.set_verified(user)
        # Inside the transaction, before the row is written: if Redis is down, nothing is.
        receivers.revoke_before_save(user, reason="password_reset")
        user.save(update_fields=update_fields)
        # The code is spent last: a failed save leaves it usable, and of concurrent
        # confirms only one gets past this line (the others roll their save back).
        otp.verify_code(email, Purpose.PASSWORD_RESET, code)
    senders.send(AuthEmail(to=users.stored_email(user), kind=EmailKind.PASSWORD_CHANGED))
