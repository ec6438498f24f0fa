"""Password guessing, throttled in Redis: every endpoint that checks a password asks here.

Three limits, decided together in one Lua script (``lua/password_guard.lua``) after the
password was checked:

* **address + client IP**: after ``LOGIN_FAILURES_BEFORE_DELAY`` failures each further one
  starts a delay (``LOGIN_DELAY`` seconds, doubling per failure, at most
  ``LOGIN_DELAY_MAX``). Inside it every attempt is 429 ``login_throttled`` with
  ``Retry-After`` — the right password too, so guessing during the delay learns nothing.
  A right password afterwards resets it.
* **address across every client**: after ``LOGIN_STEP_UP_AFTER`` consecutive failures
  (NIST SP 800-63B allows at most 100) a right password also needs an emailed code
  (:attr:`Verdict.step_up`). Never a lock: an attacker elsewhere cannot keep the owner out,
  only make them type a code. The count resets when a sign-in passes (:func:`reset`).
* **client IP across addresses** (password spraying): ``LOGIN_FAILURES_PER_IP`` failed
  passwords per sliding hour, then 429 for that IP whatever the password.

Why it has this shape:

* The password is checked first and always (one hash per attempt, throttled or not), so the
  time an answer takes never tells a throttled attempt from a checked one.
* Records are keyed by the *canonical address*, not by the user: unknown addresses are
  counted, delayed and answered exactly like known ones, so the limiter tells nothing
  about which accounts exist.
* Round trips: one on a single Redis (every key in one script call). On Redis Cluster the
  IP's record lives in another hash slot than the address' records, so it takes two (the
  IP's part first, then the address'), and three when the address' delay refuses a wrong
  password whose IP count is then given back — a refused attempt counts nothing, as on a
  single Redis.
* Limits run on Redis' clock (``TIME`` in the script): workers' clock skew cannot shorten a
  delay.

Use it from any endpoint that checks a password::

    verdict = password_guard.check_password(user, password, client.ip)  # LoginThrottled
    # (or: ok = <your check>; verdict = password_guard.attempt(email, client.ip, ok))
    if not verdict.ok:
        raise InvalidCredentials()
    if verdict.step_up:
        ...  # ask for an emailed code as well (login/ answers its 202 challenge)
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django_redis_auth import clients, keys, store
from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions import LoginThrottled
from django_redis_auth.signals import login_throttled

__all__ = ["LoginThrottled", "Verdict", "attempt", "check_password", "reset"]

logger = logging.getLogger("django_redis_auth")

# Lua's name for a tripped limit → the signal's (scope, reason).
_TRIPS = {
    "delay": ("account_client", "delay"),
    "step_up": ("account", "step_up"),
    "ip_cap": ("client", "spraying"),
}


@dataclass(frozen=True, slots=True)
class Verdict:
    """What a password check may lead to. ``ok``: the password was right. ``step_up``: it was
    right, but the account is at its failure ceiling, so a second factor (an emailed code)
    must pass before the caller signs anyone in or changes anything."""

    ok: bool
    step_up: bool = False


def _args(mode: str, ok: bool) -> list[Any]:
    s = auth_settings
    ip_cap = int(s.LOGIN_FAILURES_PER_IP) or 2**53  # 0 = off: a cap no one reaches
    return [
        mode,
        "1" if ok else "0",
        int(s.LOGIN_FAILURES_BEFORE_DELAY),
        int(float(s.LOGIN_DELAY) * 1000),
        int(float(s.LOGIN_DELAY_MAX) * 1000),
        int(s.LOGIN_FAILURE_TTL) * 1000,
        int(s.LOGIN_STEP_UP_AFTER),
        int(s.LOGIN_STEP_UP_TTL) * 1000,
        ip_cap,
    ]


def attempt(email: str, client_ip: str | None, ok: bool) -> Verdict:
    """Record one password check of ``email`` (canonical; unknown addresses too) from
    ``client_ip`` whose outcome was ``ok``, and return what the caller may do.

    Raises :class:`~.exceptions.LoginThrottled` (429 ``login_throttled`` + ``Retry-After``)
    when this address + client is inside its delay or the client IP is over its cap —
    whatever ``ok`` says; :class:`~.exceptions.AuthUnavailable` (503) if Redis is down.
    """
    account_keys = [keys.login_failures(email, client_ip), keys.account_failures(email)]
    ip_key = keys.ip_limits(client_ip) if client_ip else None
    tripped: list[str] = []
    with store.guard():
        guard = store.script("password_guard")
        if ip_key is not None and store.is_cluster():
            outcome = _attempt_on_cluster(guard, account_keys, ip_key, ok, tripped)
        else:
            if ip_key is not None:
                account_keys.append(ip_key)
            outcome = guard(keys=account_keys, args=_args("attempt", ok))
    verdict, wait_ms = store.decode(outcome[0]), int(outcome[1])
    tripped += (store.decode(outcome[2]) or "").split()
    for trip in tripped:
        scope, reason = _TRIPS[trip]
        logger.warning("Password guessing limit tripped: scope=%s reason=%s", scope, reason)
        login_throttled.send(__name__, email=email, scope=scope, reason=reason)
    if client_ip and not ok:
        clients.watch(client_ip, email)
    if verdict in ("delay", "ip_cap"):
        raise LoginThrottled(wait_ms / 1000)
    return Verdict(ok=verdict in ("ok", "step_up"), step_up=verdict == "step_up")


def _attempt_on_cluster(
    guard: Any, account_keys: list[str], ip_key: str, ok: bool, tripped: list[str]
) -> list[Any]:
    """Two slots, two calls: the IP's part (refuse over its cap, count a failure), then the
    address' part; if the address' delay refuses a failure (or the call fails), the IP's
    count is given back."""
    ip_outcome, result = store.charge_then_run(
        lambda: guard(keys=[ip_key], args=_args("ip", ok)),
        lambda: guard(keys=account_keys, args=_args("attempt", ok)),
        None if ok else lambda: guard(keys=[ip_key], args=_args("ip_give_back", ok)),
        refused=lambda outcome: store.decode(outcome[0]) != "ok",
        kept=lambda result: store.decode(result[0]) != "delay",
    )
    if result is None:
        return ip_outcome
    if store.decode(result[0]) != "delay":
        tripped += (store.decode(ip_outcome[2]) or "").split()
    return result


def check_password(user: Any, password: str, client_ip: str | None) -> Verdict:
    """``user.check_password(password)`` (always run), then :func:`attempt` under the user's
    canonical address: what an endpoint with a signed-in user (password change, turning the
    second factor off, email change, account deletion) needs in one call. Raises
    ``LoginThrottled`` like :func:`attempt`; the caller answers ``not verdict.ok`` and
    ``verdict.step_up`` as it sees fit."""
    from django_redis_auth.accounts import users

    ok = bool(user.check_password(password))
    return attempt(users.canonical_email_of(user), client_ip, ok)


def reset(email: str) -> None:
    """Forget the (canonical) address' consecutive failures: call it when a sign-in that needed the
    step-up code has passed (a right password alone does not reset a ceiling reached)."""
    with store.guard():
        store.get_client().delete(keys.account_failures(email))
