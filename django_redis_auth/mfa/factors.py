"""What second-step methods a user has, and checking a second-step code by method.

Used by ``login/verify/`` (accounts/flows.py), ``reauth/`` and, later, passkeys. Methods:

* ``totp`` — an authenticator app (:mod:`.totp`),
* ``recovery_code`` — one of the user's single-use codes (:mod:`.recovery`), offered while
  any is left,
* ``email`` — a code mailed to the account's address. It is an email *step-up*, not a
  factor: the inbox is usually reached with the same password. It is offered only to users
  without an authenticator app (an inbox alone never passes the second step of an account
  that has one), when the emailed second factor is on or the password guard asks for it.

A code check (:func:`verify`) is counted in a *scope* — a login challenge's nonce: a few
wrong codes and the scope dies (sign in again), and once a code passes the scope is spent.
Wrong authenticator codes are also capped per account over the sliding hour
(``TOTP_FAILURES_PER_HOUR``, 429 ``totp_throttled``), so whoever has the password cannot
keep guessing six digits across challenges. Recovery codes are *not* in that cap: someone
guessing authenticator codes must never lock the owner out of their recovery codes, and a
120-bit code cannot be guessed anyway; their tries are counted per scope and per client IP
(``CODE_GUESSES_PER_IP``), which bounds the work anyone can cause.

Replay: the step an accepted TOTP code matched must be newer than the newest accepted one,
checked twice — in Redis, atomically with the counts (one Lua call; a replay on another
worker is refused there), and in the database by a conditional ``UPDATE`` of the factor's
``last_used_step``, so a Redis flush cannot reopen the window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from django_redis_auth import keys, store
from django_redis_auth.accounts import users
from django_redis_auth.clients import Client
from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions import InvalidCode, RateLimited, TooManyAttempts
from django_redis_auth.mfa import crypto, recovery, totp
from django_redis_auth.mfa.exceptions import MethodNotAvailable, TOTPThrottled
from django_redis_auth.mfa.models import Passkey, RecoveryCode, TOTPFactor

__all__ = [
    "METHODS",
    "Factors",
    "of",
    "second_step_methods",
    "verify",
]

logger = logging.getLogger("django_redis_auth")

TOTP, PASSKEY, RECOVERY_CODE, EMAIL = "totp", "passkey", "recovery_code", "email"
METHODS = (TOTP, PASSKEY, RECOVERY_CODE, EMAIL)
#: Methods :func:`verify` checks (the emailed code is the codes capability's; passkeys
#: bring their own credential check).
CODE_METHODS = (TOTP, RECOVERY_CODE)


@dataclass(frozen=True)
class Factors:
    """A user's factors, as one query finds them."""

    totp: bool
    recovery_codes: int
    email: bool  # the emailed second factor is on (the user's flag under SECOND_FACTOR)
    passkey: bool = False  # at least one passkey (mfa/passkeys.py)

    @property
    def strong(self) -> bool:
        """A real second factor (not an inbox) is enrolled."""
        return self.totp or self.passkey

    @property
    def methods(self) -> list[str]:
        """Every factor the user has (``GET 2fa/``)."""
        found = [TOTP] if self.totp else []
        if self.passkey:
            found.append(PASSKEY)
        if self.recovery_codes:
            found.append(RECOVERY_CODE)
        if self.email:
            found.append(EMAIL)
        return found


def of(user: Any) -> Factors:
    """The user's factors: one query (a row of ``EXISTS`` / ``COUNT`` subqueries)."""
    codes = (
        RecoveryCode.objects.filter(user_id=OuterRef("pk"))
        .order_by()
        .values("user_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    row = (
        get_user_model()
        ._default_manager.filter(pk=user.pk)
        .values_list(
            Exists(TOTPFactor.objects.filter(user_id=OuterRef("pk"))),
            Coalesce(Subquery(codes, output_field=IntegerField()), Value(0)),
            Exists(Passkey.objects.filter(user_id=OuterRef("pk"))),
        )
        .first()
    )
    has_totp, left, has_passkey = row if row is not None else (False, 0, False)
    return Factors(
        totp=bool(has_totp),
        recovery_codes=int(left),
        email=users.second_factor_required(user),
        passkey=bool(has_passkey) and bool(auth_settings.PASSKEYS),
    )


def second_step_methods(
    user: Any, *, step_up: bool = False, found: Factors | None = None
) -> list[str]:
    """What the second step of this user's sign-in offers, best first; empty: no second
    step. ``step_up``: the password guard asks for one even without a factor (the account
    is at its failure ceiling)."""
    found = found if found is not None else of(user)
    if found.strong:
        return [m for m in found.methods if m != EMAIL]
    if found.email or step_up:
        return [EMAIL]
    return []


# --- checking a code ------------------------------------------------------------------------


def _attempt_keys(user: Any, scope: str) -> list[str]:
    uid = users.user_id_of(user)
    return [keys.mfa_attempts(uid, scope), keys.mfa_limits(uid), keys.totp_step(uid)]


def _args(action: str, scope_ttl: int, spend: bool, step: int | None = None) -> list[Any]:
    return [
        action,
        int(auth_settings.MFA_ATTEMPTS_PER_CHALLENGE),
        int(scope_ttl) * 1000,
        int(auth_settings.TOTP_FAILURES_PER_HOUR),
        "" if step is None else step,
        totp.STEP_MEMORY_MS,
        int(auth_settings.CODE_GUESSES_PER_IP),
        "1" if spend else "0",
    ]


def _refuse(outcome: str, wait_ms: int) -> None:
    if outcome == "capped":
        raise TOTPThrottled(wait_ms / 1000)
    if outcome == "ip_cap":
        raise RateLimited(wait_ms / 1000)
    if outcome in ("dead", "destroyed"):
        raise TooManyAttempts()
    raise InvalidCode()  # wrong, replayed, spent


def verify(
    user: Any,
    method: str,
    code: str,
    *,
    scope: str,
    scope_ttl: int,
    client: Client | None = None,
    spend: bool = True,
) -> None:
    """Accept ``code`` for ``method`` (``totp`` or ``recovery_code``) once, or raise.

    ``scope`` names what the tries are counted in (a login challenge's nonce), alive for
    ``scope_ttl`` seconds; with ``spend`` (a login challenge) a passing code spends the
    scope, without it (a session's ``reauth/``) the scope takes further codes, its wrong
    ones still counted. A recovery code is used up here: call this inside the
    transaction that does what the code allows (the sign-in), so a failure after it leaves
    the code usable.

    Raises ``MethodNotAvailable`` (400: no such factor), ``InvalidCode`` (400: wrong,
    replayed, or a scope already spent), ``TooManyAttempts`` (400: the scope died),
    ``TOTPThrottled`` (429: the account's hourly cap), ``RateLimited`` (429: the client's
    ``CODE_GUESSES_PER_IP``), ``AuthUnavailable`` (503).
    """
    if method == TOTP:
        _verify_totp(user, code, scope, scope_ttl, spend)
    elif method == RECOVERY_CODE:
        _verify_recovery_code(user, code, scope, scope_ttl, client, spend)
    else:
        raise MethodNotAvailable()


def _verify_totp(user: Any, code: str, scope: str, scope_ttl: int, spend: bool) -> None:
    factor = totp.factor_of(user)
    if factor is None:
        raise MethodNotAvailable()
    try:
        secret: str | None = totp.secret_of(factor, user)
    except crypto.DecryptionFailed:
        # A key was dropped from MFA_ENCRYPTION_KEYS before `mfa_rekey` ran.
        logger.error(
            "An authenticator secret does not decrypt under any MFA key (user %s)", user.pk
        )
        secret = None
    step = totp.matching_step(secret, code) if secret else None
    if step is not None and step <= factor.last_used_step:
        step = None  # a replay the database remembers (even if Redis forgot it)
    with store.guard():
        result = store.script("mfa_attempt")(
            keys=_attempt_keys(user, scope), args=_args("totp", scope_ttl, spend, step)
        )
    outcome, wait_ms = store.decode(result[0]) or "", int(result[1])
    if outcome != "ok":
        _refuse(outcome, wait_ms)
    # The database decides last: of parallel uses of one step only one row update matches,
    # whatever Redis remembered.
    updated = TOTPFactor.objects.filter(pk=factor.pk, last_used_step__lt=step).update(
        last_used_step=step, last_used=timezone.now()
    )
    if not updated:
        raise InvalidCode()


def _verify_recovery_code(
    user: Any, code: str, scope: str, scope_ttl: int, client: Client | None, spend: bool
) -> None:
    redis_keys = _attempt_keys(user, scope)
    ip = client.ip if client is not None else None
    ip_key = keys.ip_limits(ip) if ip and int(auth_settings.CODE_GUESSES_PER_IP) > 0 else None
    on_cluster = ip_key is not None and store.is_cluster()
    if ip_key is not None and not on_cluster:
        redis_keys.append(ip_key)
    with store.guard():
        if on_cluster:
            _take_ip_guess(ip_key)
        result = store.script("mfa_attempt")(keys=redis_keys, args=_args("take", scope_ttl, spend))
    outcome, count = store.decode(result[0]) or "", int(result[1])
    if outcome != "taken":
        if on_cluster:
            _give_back_ip_guess(ip_key)
        _refuse(outcome, count)
    if not recovery.consume(user, code):
        if count >= int(auth_settings.MFA_ATTEMPTS_PER_CHALLENGE):
            raise TooManyAttempts()
        raise InvalidCode()
    with store.guard():
        result = store.script("mfa_attempt")(
            keys=redis_keys, args=_args("settle", scope_ttl, spend)
        )
    if on_cluster:
        _give_back_ip_guess(ip_key)
    settled = store.decode(result[0]) or ""
    if settled != "ok":
        _refuse(settled, 0)  # spent by another proof meanwhile


def take_scope(user: Any, scope: str, scope_ttl: int) -> None:
    """Before a proof that is not a code (a passkey answering a login challenge): refuse a
    scope that is spent or dead (``InvalidCode`` / ``TooManyAttempts``), and count one try
    in advance, given back by :func:`settle_scope` when the proof passes. So one login
    challenge yields one session whichever factor answers it, and failed answers count."""
    _scope_step(user, scope, "take", scope_ttl, expect="taken")


def check_scope(user: Any, scope: str) -> None:
    """Refuse a scope that is spent or dead (``InvalidCode`` / ``TooManyAttempts``), counting
    nothing: before handing out something that can only answer it (new passkey options)."""
    _scope_step(user, scope, "peek", 0, expect="open")


def settle_scope(user: Any, scope: str, scope_ttl: int) -> None:
    """The proof after :func:`take_scope` passed: the scope is spent, or ``InvalidCode``
    when another proof spent it meanwhile (call it before issuing anything)."""
    _scope_step(user, scope, "settle", scope_ttl, expect="ok")


def _scope_step(user: Any, scope: str, action: str, scope_ttl: int, *, expect: str) -> None:
    """One ``mfa_attempt`` call on a login challenge's scope; any outcome but ``expect`` is
    refused (``_refuse``: a scope another proof spent first is ``InvalidCode``, so one
    login challenge opens one session)."""
    with store.guard():
        result = store.script("mfa_attempt")(
            keys=_attempt_keys(user, scope), args=_args(action, scope_ttl, True)
        )
    outcome, count = store.decode(result[0]) or "", int(result[1])
    if outcome != expect:
        _refuse(outcome, count)


def _take_ip_guess(ip_key: str) -> None:
    """Redis Cluster: the client IP's count lives in another slot (codes/otp.py does the
    same)."""
    wait_ms = store.script("cap_counter")(
        keys=[ip_key], args=["take", int(auth_settings.CODE_GUESSES_PER_IP), "g"]
    )
    if int(wait_ms) > 0:
        raise RateLimited(int(wait_ms) / 1000)


def _give_back_ip_guess(ip_key: str) -> None:
    with store.guard():
        store.script("cap_counter")(
            keys=[ip_key], args=["give_back", int(auth_settings.CODE_GUESSES_PER_IP), "g"]
        )
