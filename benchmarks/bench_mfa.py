"""Section 6: verifying an authenticator (TOTP) code. Ours (``mfa.factors.verify``: the
factor read, AES-GCM decryption, one Lua call for the counts and the replay step, the
conditional update of ``last_used_step``) side by side with django-otp's
``TOTPDevice.verify_token`` (the device read, its throttling and drift bookkeeping, a save
on every verification).

Every call verifies the current code of a fresh user / device, so each is accepted (a
second use of one step is refused by both, which would measure the refusal instead).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks import fixtures
from benchmarks.harness import Op, Target, measure, print_table

WARMUP = 20


def unavailable() -> str | None:
    try:
        from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: F401

        from django_redis_auth.mfa import factors  # noqa: F401
    except ImportError as exc:
        return f"{exc}"
    return None


def build_ops(total: int) -> list[Op]:
    import pyotp
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from django_redis_auth.mfa import crypto, factors, totp
    from django_redis_auth.mfa.models import TOTPFactor

    ours_users = fixtures.bulk_users("mfa-ours-", total)
    secrets = {u.pk: pyotp.random_base32() for u in ours_users}
    TOTPFactor.objects.bulk_create(
        [
            TOTPFactor(user_id=u.pk, secret=crypto.encrypt(secrets[u.pk], totp.secret_context(u)))
            for u in ours_users
        ],
        batch_size=2000,
    )
    otp_users = fixtures.bulk_users("mfa-otp-", total)
    devices = TOTPDevice.objects.bulk_create(
        [TOTPDevice(user=u, name="app", confirmed=True) for u in otp_users], batch_size=2000
    )
    device_pks = [d.pk for d in devices]

    def ours(i: int) -> None:
        user = ours_users[i]
        factors.verify(
            user, "totp", pyotp.TOTP(secrets[user.pk]).now(), scope=f"bench-{i}", scope_ttl=600
        )

    def django_otp(i: int) -> None:
        device = TOTPDevice.objects.get(pk=device_pks[i])
        code = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token()
        assert device.verify_token(code)

    def code_only(i: int) -> None:
        user = ours_users[i]
        totp.matching_step(secrets[user.pk], "000000")

    o = Op("ours: factors.verify (totp)", ours)
    alt: Callable[[str, Callable[[int], None]], Op] = lambda name, fn: Op(name, fn, ref=o)  # noqa: E731
    return [
        o,
        alt("django-otp TOTPDevice: load + verify_token", django_otp),
        alt("the algorithm alone: 3 HMAC-SHA1 steps (pyotp)", code_only),
    ]


def run(args: Any, out: Callable[[str], None]) -> list[Target]:
    total = WARMUP + 1 + args.iterations
    ops = build_ops(total)
    out(
        "Each call verifies the current code of a fresh user's authenticator (accepted). "
        "Both rows include loading the factor / device row, as a view must; django-otp's "
        "includes computing the code from its key."
    )
    measure(ops, args.iterations, warmup=WARMUP)
    print_table("TOTP verification", ops, ops[0], out=out)
    ours, theirs = ops[0], ops[1]
    ratio = theirs.median_us / ours.median_us
    out(
        f"\ndjango-otp / ours: time {ratio:.2f}x; Redis round trips "
        f"{theirs.redis_round_trips} vs {ours.redis_round_trips}; queries "
        f"{theirs.db_queries} vs {ours.db_queries}."
    )
    return [
        Target(
            "6",
            "TOTP verify: ≤ 2 queries and 1 Redis round trip (time: reported, not a target)",
            f"{ours.db_queries} queries, {ours.redis_round_trips} round trip; "
            f"django-otp / ours = {ratio:.2f}x",
            ours.db_queries is not None and ours.db_queries <= 2 and ours.redis_round_trips == 1,
        )
    ]
