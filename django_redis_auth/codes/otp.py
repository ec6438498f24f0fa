"""The one-time code store: issue and verify, each one atomic Lua script (one round trip).

Redis holds, per address and purpose, only a keyed HMAC of the code (bound to purpose,
address and login challenge) and the attempts so far — never the code or the address.
Issue checks the resend cooldown and the hourly caps per address and per client IP before
writing anything and replaces any previous code; verify counts the attempt and deletes on
success or on the last allowed wrong guess, atomically. docs/otp.md gives the reasons for
each rule, the round trips on Redis Cluster, and the key layout.

Every ``email`` here is an address in its canonical form (``emails.canonical_email`` of a
typed address, ``users.canonical_email_of(user)`` of an account's): codes and limits are
keyed by the exact string, so two spellings of one mailbox must arrive as one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from django.conf import settings

from django_redis_auth import clients, keys, store
from django_redis_auth.codes.purposes import Purpose
from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions import InvalidCode, RateLimited, TooManyAttempts
from django_redis_auth.signals import code_failed, code_issued, code_verified

__all__ = [
    "charge_client_ip",
    "code_outcome",
    "digest",
    "generate_code",
    "issue_code",
    "verify_code",
]

# Separates the digest's fields. No field can contain it: purposes are fixed names, emails
# are validated addresses, bindings are ``secrets`` tokens and DRF rejects NUL in input.
_SEP = "\x00"


def hmac_key() -> bytes:
    """The key codes are hashed with: ``OTP_HMAC_KEY`` if set, else one derived from
    ``SECRET_KEY`` (domain-separated, so the derived key is used for nothing else)."""
    configured = auth_settings.OTP_HMAC_KEY
    if configured:
        return configured.encode() if isinstance(configured, str) else bytes(configured)
    return hashlib.sha256(f"django_redis_auth.codes.otp:{settings.SECRET_KEY}".encode()).digest()


def digest(email: str, purpose: str, code: str, binding: str = "") -> bytes:
    """HMAC-SHA256 of purpose | email (canonical) | binding | code, raw bytes (half the
    memory of hex)."""
    message = _SEP.join((purpose, email, binding, code))
    return hmac.new(hmac_key(), message.encode(), hashlib.sha256).digest()


def generate_code() -> str:
    """``CODE_LENGTH`` decimal digits from the operating system's CSPRNG."""
    length = int(auth_settings.CODE_LENGTH)
    return f"{secrets.randbelow(10**length):0{length}d}"


def clean_code(code: str) -> str:
    """What the user typed, without the spaces or dashes people add when copying."""
    return "".join(ch for ch in str(code) if ch not in " -\t\r\n")


def _check_purpose(purpose: str) -> None:
    if purpose not in Purpose.__members__.values():
        purposes = ", ".join(Purpose)
        raise ValueError(f"Unknown code purpose {purpose!r}; expected one of {purposes}.")


def issue_code(
    email: str,
    purpose: str,
    *,
    client_ip: str | None = None,
    binding: str = "",
    store_code: bool = True,
) -> str | None:
    """Create a code for ``email`` and ``purpose`` and return it (plaintext, for the email).

    The previous code for the same email and purpose stops working. ``binding`` ties the code
    to something else the verifier must present (the login challenge's nonce).
    ``store_code=False`` is the dry run for addresses that must not get a code: the same
    limits are checked and counted, nothing is stored, ``None`` is returned.

    Raises :class:`~.exceptions.RateLimited` (429 + ``Retry-After``) inside the resend
    cooldown or over an hourly cap, :class:`~.exceptions.AuthUnavailable` if Redis is down.
    """
    _check_purpose(purpose)
    code = generate_code() if store_code else None
    ip_cap = int(auth_settings.HOURLY_CAP_PER_IP)
    redis_keys = [keys.code(email, purpose), keys.limits(email)]
    args: list[Any] = [
        digest(email, purpose, code, binding) if code is not None else "",
        int(auth_settings.CODE_TTL) * 1000,
        int(auth_settings.RESEND_COOLDOWN) * 1000,
        int(auth_settings.HOURLY_CAP_PER_EMAIL),
        ip_cap,
        Purpose(purpose).tag,
        Purpose(purpose).budget,
    ]
    ip_key = keys.ip_limits(client_ip) if client_ip else None
    with store.guard():
        if ip_key is not None and store.is_cluster():
            _issue_on_cluster(redis_keys, args, ip_key, ip_cap)
        else:
            if ip_key is not None:
                redis_keys.append(ip_key)
            _raise_if_refused(store.script("issue_code")(keys=redis_keys, args=args))
    if ip_key is not None:
        clients.watch(client_ip or "", email)
    if code is not None:
        code_issued.send(__name__, email=email, purpose=purpose)
    return code


def charge_client_ip(client_ip: str | None) -> None:
    """Count one request against the client IP's hourly cap, and nothing else.

    For requests that must not touch any per-email state (a login code asked for without a
    password-checked challenge): charging the address would let anyone lock a user out of
    sign-in and reset by asking for codes in their name. Raises ``RateLimited`` over the cap.
    """
    if not client_ip:
        return
    with store.guard():
        wait_ms = store.script("cap_counter")(
            keys=[keys.ip_limits(client_ip)],
            args=["take", int(auth_settings.HOURLY_CAP_PER_IP)],
        )
    if int(wait_ms) > 0:
        raise RateLimited(int(wait_ms) / 1000)


def _issue_on_cluster(redis_keys: list[str], args: list[Any], ip_key: str, ip_cap: int) -> None:
    """Two slots, two scripts: take one from the IP's hourly cap, then run the email script;
    if that one refuses or fails, the IP count is given back so the request costs nothing."""
    cap_counter = store.script("cap_counter")
    wait_ms, outcome = store.charge_then_run(
        lambda: cap_counter(keys=[ip_key], args=["take", ip_cap]),
        lambda: store.script("issue_code")(keys=redis_keys, args=args),
        lambda: cap_counter(keys=[ip_key], args=["give_back", ip_cap]),
        refused=lambda wait_ms: int(wait_ms) > 0,
        kept=lambda outcome: store.decode(outcome[0]) == "ok",
    )
    if outcome is None:
        raise RateLimited(int(wait_ms) / 1000)
    _raise_if_refused(outcome)


def _raise_if_refused(outcome: list[Any]) -> None:
    status, wait_ms = store.decode(outcome[0]), int(outcome[1])
    if status != "ok":
        raise RateLimited(wait_ms / 1000)


def verify_code(
    email: str,
    purpose: str,
    code: str,
    *,
    binding: str = "",
    consume: bool = True,
    client_ip: str | None = None,
) -> None:
    """Accept ``code`` once, or raise. ``consume=False`` proves the code without using it
    up (a wrong guess still counts), for callers with checks left to pass before they
    consume it with a second call. With ``client_ip`` a wrong code also counts against that
    client's ``CODE_GUESSES_PER_IP``.

    Raises :class:`~.exceptions.InvalidCode` (``invalid_code``) for a wrong, expired, used
    or unknown code, :class:`~.exceptions.TooManyAttempts` (``too_many_attempts``) when
    this wrong guess used the last attempt (the code is destroyed), and
    :class:`~.exceptions.RateLimited` (429) when the client sent too many wrong codes (the
    code is not looked at). One round trip; on Redis Cluster with ``client_ip`` two (three
    when the code was right: the client's count is given back).
    """
    outcome = code_outcome(
        email, purpose, code, binding=binding, consume=consume, client_ip=client_ip
    )
    if outcome == "ok":
        return
    if outcome == "destroyed":
        raise TooManyAttempts()
    raise InvalidCode()


def code_outcome(
    email: str,
    purpose: str,
    code: str,
    *,
    binding: str = "",
    consume: bool = True,
    client_ip: str | None = None,
) -> str:
    """The raw outcome of one verification: ``"ok"``, ``"wrong"``, ``"destroyed"`` or
    ``"missing"`` (see ``lua/verify_code.lua``), after sending the code signals. Raises
    ``RateLimited`` when ``client_ip`` is over its ``CODE_GUESSES_PER_IP``.

    Callers facing users should use :func:`verify_code`, which folds ``wrong`` and
    ``missing`` into one answer.
    """
    _check_purpose(purpose)
    candidate = digest(email, purpose, clean_code(code), binding)
    guesses = int(auth_settings.CODE_GUESSES_PER_IP)
    ip_key = keys.ip_limits(client_ip) if client_ip and guesses > 0 else None
    redis_keys = [keys.code(email, purpose)]
    args = [candidate, int(auth_settings.CODE_MAX_ATTEMPTS), "1" if consume else "0", guesses]
    with store.guard():
        if ip_key is not None and store.is_cluster():
            result = _verify_on_cluster(redis_keys, args, ip_key, guesses)
        else:
            if ip_key is not None:
                redis_keys.append(ip_key)
            result = store.script("verify_code")(keys=redis_keys, args=args)
    outcome, wait_ms = store.decode(result[0]) or "missing", int(result[1])
    if outcome == "ip_cap":
        raise RateLimited(wait_ms / 1000)
    if outcome == "ok":
        if consume:
            code_verified.send(__name__, email=email, purpose=purpose)
    elif outcome == "destroyed":
        code_failed.send(__name__, email=email, purpose=purpose, reason="too_many_attempts")
    else:
        code_failed.send(__name__, email=email, purpose=purpose, reason="invalid")
    return outcome


def _verify_on_cluster(
    redis_keys: list[str], args: list[Any], ip_key: str, guesses: int
) -> list[Any]:
    """Two slots: take one guess from the client's count (refused over it), verify, and give
    the guess back when the code was right — only wrong codes count, as on a single Redis."""
    cap_counter = store.script("cap_counter")
    wait_ms, result = store.charge_then_run(
        lambda: cap_counter(keys=[ip_key], args=["take", guesses, "g"]),
        lambda: store.script("verify_code")(keys=redis_keys, args=args),
        lambda: cap_counter(keys=[ip_key], args=["give_back", guesses, "g"]),
        refused=lambda wait_ms: int(wait_ms) > 0,
        kept=lambda result: store.decode(result[0]) != "ok",
    )
    return ["ip_cap", wait_ms] if result is None else result
