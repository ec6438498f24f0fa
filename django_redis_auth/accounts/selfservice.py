"""Account self-service for a signed-in user: password change, the emailed second factor,
email change and account deletion. Orchestration only, like flows.py: codes in otp.py,
users in users.py, tokens in tokens.py, revocation in revocation.py, mail in senders.py.

Rules every operation keeps:

* **The caller's row, fresh.** ``request.user`` is the cached snapshot; every change here
  reloads the row from the database first and writes only the fields it changes.
* **The password is checked in one place** (:func:`_password_ok`), which every endpoint that
  asks for one uses, so the password-guessing limiter guards them all alike.
* **Nothing half-written.** The database change and the Redis writes it depends on (the
  revocation, the caller's fresh pair) run in one transaction, Redis inside it: if Redis is
  down (503) the change rolls back. Mail and signals follow the commit.
* **Addresses arrive canonical** (``new_email``: the serializers' ``EmailField`` made it so,
  as in flows.py); the account's own address is ``users.canonical_email_of(user)``.
* **Mail goes to stored addresses**: notices to the address on the account, the email-change
  code to the new address in its canonical form.
"""

from __future__ import annotations

import enum
from typing import Any

from django.db import IntegrityError

from django_redis_auth import receivers, signals
from django_redis_auth.accounts import password_guard, users, users_cache
from django_redis_auth.clients import NOBODY, Client
from django_redis_auth.codes import otp, senders
from django_redis_auth.codes.purposes import EmailKind, Purpose
from django_redis_auth.codes.senders import AuthEmail
from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions import (
    EmailTaken,
    EmailUnchanged,
    PasswordInvalid,
    PasswordRequired,
    SecondFactorAlreadyOn,
    SecondFactorRequired,
    SecondFactorUnavailable,
    UserInactive,
    WrongPassword,
)
from django_redis_auth.tokens import issuing as tokens
from django_redis_auth.tokens import revocation

__all__ = [
    "Deletion",
    "change_password",
    "confirm_email_change",
    "confirm_second_factor",
    "delete_account",
    "disable_second_factor",
    "request_email_change",
    "request_second_factor",
]


class Deletion(enum.Enum):
    DONE = "done"  # the account is gone (or deactivated)
    CODE_SENT = "code_sent"  # an account without a usable password was mailed a code


# --- helpers -------------------------------------------------------------------------------


def _row(user: Any) -> Any:
    """The caller's current row (``request.user`` may be up to USER_CACHE_TTL old)."""
    row = users_cache.load_from_db(users.user_id_of(user))
    if row is None or not users.is_active(row):
        raise UserInactive()
    return row


def _password_ok(user: Any, password: str | None, client: Client) -> bool:
    """Whether ``password`` is the user's: the one check every account change makes, through
    the password-guessing limiter (429 ``login_throttled`` inside a delay, whatever the
    password). A step-up verdict (the account is at its failure ceiling) does not stop a
    caller who is signed in already and gives the right password: the session is the second
    factor here, and its guesses are throttled per client like anyone's."""
    return password_guard.check_password(user, password or "", client.ip).ok


def _require_password(user: Any, password: str | None, client: Client, field: str) -> None:
    if not _password_ok(user, password, client):
        raise WrongPassword(field)


def _binding(user: Any) -> str:
    """Ties an account code to this user *and* its current address: a code stops working
    once the address changes, and is worthless to another account."""
    return f"{users.user_id_of(user)}:{users.canonical_email_of(user)}"


def _change_target(user: Any, new_email: str) -> str:
    """What an email-change code is kept under: this user *and* the new address. Keyed by
    the address alone, anyone could start a change to someone's address and so replace
    their pending code, or hold its resend cooldown and hourly cap, blocking their change."""
    return f"{users.user_id_of(user)}/{new_email}"


def _send_code(user: Any, purpose: Purpose, client: Client) -> None:
    code = otp.issue_code(
        users.canonical_email_of(user), purpose, client_ip=client.ip, binding=_binding(user)
    )
    senders.send(senders.code_email(EmailKind(purpose.value), users.stored_email(user), code or ""))


# --- password -------------------------------------------------------------------------------


def change_password(
    user: Any, current_password: str, new_password: str, client: Client = NOBODY
) -> tokens.TokenPair:
    """Set a new password for a signed-in user who knows the current one. Every session of
    the user ends (the caller's too), and the caller gets a fresh pair in the same step, so
    only the device that changed the password stays signed in. A notice goes to the stored
    address.

    Raises ``WrongPassword`` (400 ``wrong_password``), ``PasswordInvalid`` (400),
    ``AuthUnavailable`` (503, nothing changed).
    """
    user = _row(user)
    _require_password(user, current_password, client, "current_password")
    problems = users.password_problems(new_password, user)
    if problems:
        raise PasswordInvalid(problems, field="new_password")
    with users.atomic():
        user.set_password(new_password)
        receivers.revoke_before_save(user, reason="password_changed")
        user.save(update_fields=["password"])
        pair = tokens.issue_token_pair(user, client, method="password_change")
    senders.send(
        AuthEmail(
            to=users.stored_email(user),
            kind=EmailKind.PASSWORD_CHANGED,
            context={"signed_in": True},
        )
    )
    signals.password_changed.send(__name__, user=user)
    return pair


# --- second factor --------------------------------------------------------------------------


def _has_second_factor_field(user: Any) -> bool:
    return any(f.name == "otp_required" for f in user._meta.concrete_fields)


def _second_factor_usable(user: Any) -> None:
    if auth_settings.SECOND_FACTOR == "off" or not _has_second_factor_field(user):
        raise SecondFactorUnavailable()


def request_second_factor(user: Any, client: Client = NOBODY) -> None:
    """Mail a ``second_factor`` code to the account's address; confirming it turns the
    emailed second factor on. Raises ``SecondFactorUnavailable`` (403) when the policy is
    "off" or the model has no ``otp_required``, ``SecondFactorAlreadyOn`` (409),
    ``RateLimited`` (429)."""
    user = _row(user)
    _second_factor_usable(user)
    if users.second_factor_required(user):
        raise SecondFactorAlreadyOn()
    _send_code(user, Purpose.SECOND_FACTOR, client)


def confirm_second_factor(user: Any, code: str, client: Client = NOBODY) -> bool:
    """Turn the emailed second factor on with the code :func:`request_second_factor` sent.
    Returns the new ``otp_required`` (True). Raises ``InvalidCode`` / ``TooManyAttempts``."""
    user = _row(user)
    _second_factor_usable(user)
    email, binding = users.canonical_email_of(user), _binding(user)
    otp.verify_code(
        email, Purpose.SECOND_FACTOR, code, binding=binding, consume=False, client_ip=client.ip
    )
    changed = not user.otp_required
    with users.atomic():
        if changed:
            user.otp_required = True
            user.save(update_fields=["otp_required"])
        # Spent last: a failed save leaves the code usable (flows.confirm_password_reset).
        otp.verify_code(email, Purpose.SECOND_FACTOR, code, binding=binding)
    if changed:
        signals.second_factor_changed.send(__name__, user=user, enabled=True)
    return True


def disable_second_factor(user: Any, password: str, client: Client = NOBODY) -> bool:
    """Turn the emailed second factor off; needs the password. Returns the new
    ``otp_required`` (False) and mails a notice. Refused with ``SecondFactorRequired``
    (403) when ``SECOND_FACTOR = "required"``."""
    if auth_settings.SECOND_FACTOR == "required":
        raise SecondFactorRequired()
    user = _row(user)
    if not _has_second_factor_field(user):
        raise SecondFactorUnavailable()
    _require_password(user, password, client, "password")
    if user.otp_required:
        user.otp_required = False
        user.save(update_fields=["otp_required"])
        senders.send(AuthEmail(to=users.stored_email(user), kind=EmailKind.SECOND_FACTOR_DISABLED))
        signals.second_factor_changed.send(__name__, user=user, enabled=False)
    return False


# --- email change ---------------------------------------------------------------------------


def request_email_change(user: Any, new_email: str, password: str, client: Client = NOBODY) -> None:
    """Start moving the account to ``new_email``: a code to the new address, a notice to the
    old one. Enumeration-safe: when another account has the new address the same steps run
    (the same limits, charged to the new address, a dry run of the code) and the caller gets
    the same 202, but no code is sent — only the caller's own mailbox hears of it.

    Raises ``WrongPassword`` (400), ``EmailUnchanged`` (400), ``RateLimited`` (429).
    """
    user = _row(user)
    _require_password(user, password, client, "password")
    if new_email == users.canonical_email_of(user):
        raise EmailUnchanged()
    free = users.find_by_email(new_email) is None
    code = otp.issue_code(
        _change_target(user, new_email),
        Purpose.EMAIL_CHANGE,
        client_ip=client.ip,
        binding=_binding(user),
        store_code=free,
    )
    if code is not None:
        senders.send(senders.code_email(EmailKind.EMAIL_CHANGE, new_email, code))
    senders.send(
        AuthEmail(
            to=users.stored_email(user),
            kind=EmailKind.EMAIL_CHANGE_REQUESTED,
            context={"new_email": new_email},
        )
    )


def confirm_email_change(
    user: Any, new_email: str, code: str, client: Client = NOBODY
) -> tokens.TokenPair:
    """Move the account to ``new_email`` with the code sent there: the address is changed
    and verified, every session ends and the caller gets a fresh pair (other devices are
    signed out), the cached user is dropped, and the old address gets a notice.

    Raises ``InvalidCode`` / ``TooManyAttempts`` (400), ``EmailTaken`` (409: another
    account took the address after the code was sent), ``AuthUnavailable`` (503).
    """
    user = _row(user)
    binding = _binding(user)
    otp.verify_code(
        _change_target(user, new_email),
        Purpose.EMAIL_CHANGE,
        code,
        binding=binding,
        consume=False,
        client_ip=client.ip,
    )
    owner = users.find_by_email(new_email)
    if owner is not None and owner.pk != user.pk:
        raise EmailTaken()
    old_email = users.stored_email(user)
    setattr(user, users.email_field(), new_email)
    update_fields = [users.email_field(), *users.set_verified(user)]
    try:
        with users.atomic():
            user.save(update_fields=update_fields)
            # After the row (a taken address fails the save, and revokes nothing), inside
            # the transaction (Redis down rolls the change back).
            revocation.revoke_user(user, reason="email_changed")
            pair = tokens.issue_token_pair(user, client, method="renewed")
            # Spent last: if anything above fails the code still works.
            otp.verify_code(
                _change_target(user, new_email), Purpose.EMAIL_CHANGE, code, binding=binding
            )
    except IntegrityError:
        raise EmailTaken() from None
    senders.send(
        AuthEmail(to=old_email, kind=EmailKind.EMAIL_CHANGED, context={"new_email": new_email})
    )
    signals.email_changed.send(__name__, user=user, old_email=old_email, new_email=new_email)
    return pair


# --- deletion -------------------------------------------------------------------------------


def delete_account(
    user: Any, password: str | None = None, code: str | None = None, client: Client = NOBODY
) -> Deletion:
    """Delete the account (or deactivate it: ``ACCOUNT_DELETION = "deactivate"``); every
    token of the user is revoked before the row changes (receivers.py).

    An account with a usable password confirms with it. One without (signed up through
    Google, say) confirms with an ``account_delete`` code: called without one, this mails
    it and returns ``Deletion.CODE_SENT``.

    Raises ``PasswordRequired`` / ``WrongPassword`` (400), ``InvalidCode`` (400),
    ``RateLimited`` (429), ``AuthUnavailable`` (503, nothing deleted).
    """
    user = _row(user)
    if user.has_usable_password():
        if not password:
            raise PasswordRequired()
        _require_password(user, password, client, "password")
    elif not code:
        _send_code(user, Purpose.ACCOUNT_DELETE, client)
        return Deletion.CODE_SENT
    else:
        otp.verify_code(
            users.canonical_email_of(user),
            Purpose.ACCOUNT_DELETE,
            code,
            binding=_binding(user),
            client_ip=client.ip,
        )
    user_id, email = users.user_id_of(user), users.stored_email(user)
    deactivate = auth_settings.ACCOUNT_DELETION == "deactivate"
    with users.atomic():
        if deactivate:
            user.is_active = False
            receivers.revoke_before_save(user, reason="account_deleted")
            user.save(update_fields=["is_active"])
        else:
            user.delete()  # post_delete revokes every token inside delete()'s transaction
    senders.send(AuthEmail(to=email, kind=EmailKind.ACCOUNT_DELETED))
    signals.account_deleted.send(__name__, user_id=user_id, email=email, deactivated=deactivate)
    return Deletion.DONE
