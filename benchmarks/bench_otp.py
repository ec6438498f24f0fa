"""Section 2: one-time codes. Ours (one Lua script per operation in Redis) against
django-otp's ``EmailDevice`` and a plain Postgres table, issue and verify.

Every call uses a fresh identity (email, device, client IP), so resend cooldowns and hourly
caps are checked on every call, as on a real request, but never refuse one.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from benchmarks import fixtures
from benchmarks.alternatives import pg_issue_code, pg_verify_code
from benchmarks.harness import Op, Target, markdown_table, measure, print_table

PURPOSE = "login"
WARMUP = 20


def unavailable() -> str | None:
    """Why this section cannot run, or ``None``."""
    try:
        from django_redis_auth.codes import otp

        otp.issue_code  # noqa: B018 - the API this section measures
        otp.verify_code  # noqa: B018
    except (ImportError, AttributeError) as exc:
        return f"django_redis_auth.codes.otp is missing ({exc})"
    return None


def _ip(i: int) -> str:
    return f"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}"


def _devices(prefix: str, count: int) -> list[int]:
    from django_otp.plugins.otp_email.models import EmailDevice

    users = fixtures.bulk_users(prefix, count)
    devices = EmailDevice.objects.bulk_create(
        [EmailDevice(user=u, name="email", email=u.email, confirmed=True) for u in users],
        batch_size=2000,
    )
    return [d.pk for d in devices]


def build_ops(total: int) -> list[Op]:
    from django_otp.plugins.otp_email.models import EmailDevice

    from django_redis_auth.codes import otp, senders
    from django_redis_auth.codes.purposes import EmailKind
    from django_redis_auth.conf import auth_settings

    minutes = max(1, int(auth_settings.CODE_TTL) // 60)
    ours_codes: dict[int, str] = {}
    otp_tokens: dict[int, str] = {}
    pg_codes: dict[int, str] = {}
    plain_devices = _devices("otp-plain-", total)
    mail_devices = _devices("otp-mail-", total)

    def ours_issue(i: int) -> None:
        ours_codes[i] = otp.issue_code(f"o{i}@bench.example", PURPOSE, client_ip=_ip(i))

    def ours_issue_mail(i: int) -> None:
        email = f"m{i}@bench.example"
        code = otp.issue_code(email, PURPOSE, client_ip=_ip(i))
        senders.deliver(
            senders.AuthEmail(
                to=email, kind=EmailKind.LOGIN, context={"code": code, "code_ttl_minutes": minutes}
            )
        )

    def ours_verify(i: int) -> None:
        otp.verify_code(f"o{i}@bench.example", PURPOSE, ours_codes.pop(i))

    def otp_generate(i: int) -> None:
        # generate_challenge() without the email: cooldown check, cooldown set, token saved.
        device = EmailDevice.objects.get(pk=plain_devices[i])
        allowed, _ = device.generate_is_allowed()
        assert allowed
        device.cooldown_set(commit=False)
        device.generate_token(valid_secs=600, commit=True)
        otp_tokens[i] = device.token

    def otp_challenge(i: int) -> None:
        device = EmailDevice.objects.get(pk=mail_devices[i])
        device.generate_challenge()

    def otp_verify(i: int) -> None:
        device = EmailDevice.objects.get(pk=plain_devices[i])
        assert device.verify_token(otp_tokens.pop(i))

    def pg_issue(i: int) -> None:
        pg_codes[i] = pg_issue_code(f"p{i}@bench.example", PURPOSE)

    def pg_verify(i: int) -> None:
        pg_verify_code(f"p{i}@bench.example", PURPOSE, pg_codes.pop(i))

    o_issue = Op("ours: issue_code", ours_issue)
    o_verify = Op("ours: verify_code", ours_verify)
    o_mail = Op("ours: issue_code + render & send the email (locmem)", ours_issue_mail)

    def alt(name: str, fn: Callable[[int], None], ref: Op) -> Op:
        return Op(name, fn, ref=ref)

    return [
        o_issue,
        alt(
            "django-otp EmailDevice: load + cooldown check + generate_token", otp_generate, o_issue
        ),
        alt("Postgres table: cap/cooldown query + invalidate + insert", pg_issue, o_issue),
        o_mail,
        alt("django-otp EmailDevice: load + generate_challenge (locmem)", otp_challenge, o_mail),
        o_verify,
        alt("django-otp EmailDevice: load + verify_token", otp_verify, o_verify),
        alt("Postgres table: select for update + update", pg_verify, o_verify),
    ]


def _code_memory(out: Callable[[str], None]) -> dict[str, int]:
    from django_redis_auth import keys, store
    from django_redis_auth.codes import otp

    client = store.get_client()
    sizes: dict[str, list[int]] = {"code": [], "limits": [], "ip counter": []}
    for i in range(20):
        email = f"mem{i}@bench.example"
        otp.issue_code(email, PURPOSE, client_ip=f"192.0.2.{i}")
        for label, key in (
            ("code", keys.code(email, PURPOSE)),
            ("limits", keys.limits(email)),
            ("ip counter", keys.ip_limits(f"192.0.2.{i}")),
        ):
            sizes[label].append(client.memory_usage(key, samples=0) or 0)
    medians = {label: int(statistics.median(v)) for label, v in sizes.items()}
    out("\n### Redis memory per live code\n")
    markdown_table(
        ["key", "MEMORY USAGE", "lives"],
        [
            ["code hash (digest, attempts)", f"{medians['code']} B", "CODE_TTL (10 min)"],
            [
                "limits hash of the address (sliding-hour count, cooldown end)",
                f"{medians['limits']} B",
                "until the count (60-75 min) and the cooldown end",
            ],
            [
                "limits hash per client IP (shared by all codes of that IP)",
                f"{medians['ip counter']} B",
                "until its count ends (60-75 min)",
            ],
        ],
        out=out,
    )
    return medians


def run(args: Any, out: Callable[[str], None]) -> list[Target]:
    from django.core import mail

    total = WARMUP + 1 + args.iterations
    ops = build_ops(total)
    out(
        "Each call uses a fresh email / device / client IP, so the limits are checked but "
        "never refuse. django-otp rows include loading the device row (as a view must). "
        "Mail goes to the locmem backend."
    )
    measure(ops, args.iterations, warmup=WARMUP)
    mail.outbox = []
    print_table("One-time codes", ops, ops[0], out=out)
    by_name = {op.name: op for op in ops}
    ours = by_name["ours: issue_code"].median_us + by_name["ours: verify_code"].median_us
    django_otp = (
        by_name["django-otp EmailDevice: load + cooldown check + generate_token"].median_us
        + by_name["django-otp EmailDevice: load + verify_token"].median_us
    )
    with_mail = (
        by_name["django-otp EmailDevice: load + generate_challenge (locmem)"].median_us
        + by_name["django-otp EmailDevice: load + verify_token"].median_us
    ) / (
        by_name["ours: issue_code + render & send the email (locmem)"].median_us
        + by_name["ours: verify_code"].median_us
    )
    trips = [
        by_name["ours: issue_code"].redis_round_trips,
        by_name["ours: verify_code"].redis_round_trips,
    ]
    memory = _code_memory(out)
    # What one live code keeps in Redis: its hash and its address's limits hash (cooldown and
    # hourly count; shared by the address's other purposes, counted whole here). The per-IP
    # counter is shared by every code of that client, so not counted.
    code_bytes = memory["code"] + memory["limits"]
    return [
        Target(
            "2",
            "ours ≥ 4x faster than django-otp (issue + verify, without mail)",
            f"{django_otp / ours:.2f}x (with mail rendering on both sides: {with_mail:.2f}x)",
            django_otp / ours >= 4,
        ),
        Target(
            "2",
            "ours: 1 Redis round trip each for issue and verify, 0 DB queries",
            f"issue {trips[0]}, verify {trips[1]}",
            trips == [1, 1]
            and by_name["ours: issue_code"].db_queries == 0
            and by_name["ours: verify_code"].db_queries == 0,
        ),
        Target(
            "3",
            "MEMORY USAGE per live code ≤ 300 B (code hash + address limits hash)",
            f"{code_bytes} B (code hash alone: {memory['code']} B)",
            code_bytes <= 300,
        ),
    ]
