#!/usr/bin/env python
"""Known vs unknown addresses: how long each endpoint that takes an email answers.

    python benchmarks/enumeration.py            # n = 300 per case
    python benchmarks/enumeration.py -n 1000 --output /tmp/enum.md

Every endpoint that takes an email address is timed for an address with an account
("known") and one without ("unknown"), in process (Django's test client through the whole
DRF stack) against real PostgreSQL and Redis. The cases are interleaved: each round runs
every endpoint once per case, in a fresh random order, so drift hits both alike. Printed per
endpoint: both medians, their difference with a bootstrap 95 % interval, and the ratio. A
difference whose interval contains 0 is not measurable at this n.

Limits (cooldowns, hourly caps, the password guard) are lifted for the run: a 429 would
measure the limiter, not the endpoint. Mail goes through the package's default sender
(``send_in_background``) into Django's in-memory backend, as a deployment would queue it.
Passwords use the benchmarks' fast hasher: both cases hash exactly once, so a slow hasher
would only add the same time to each and hide smaller differences.

Environment: ``ENUM_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/dra_bench_enum``,
created if missing) and ``ENUM_REDIS_URL`` (default ``redis://127.0.0.1:6379/10``, FLUSHed).
No timing is asserted anywhere (tests/test_benchmarks_smoke.py only runs it with tiny n).
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PASSWORD = "correct horse battery staple"
WRONG = "a wrong password, long enough"
NEW_PASSWORD = "a brand new long passphrase"
LIFTED = {
    "RESEND_COOLDOWN": 0,
    "HOURLY_CAP_PER_EMAIL": 10**9,
    "HOURLY_CAP_PER_IP": 10**9,
    "CODE_GUESSES_PER_IP": 0,
    "LOGIN_FAILURES_BEFORE_DELAY": 10**9,
    "LOGIN_STEP_UP_AFTER": 10**9,
    "LOGIN_FAILURES_PER_IP": 0,
    "USER_CACHE_TTL": 300,
}


def discard(message: Any) -> None:
    """An EMAIL_SENDER that sends nothing (``--sender benchmarks.enumeration.discard``)."""


@dataclass
class Case:
    """One endpoint, two ways in. ``known(i)`` / ``unknown(i)`` prepare (untimed) and return
    the request body; the same path and expected status for both."""

    name: str
    path: str
    known: Callable[[int], dict[str, Any]]
    unknown: Callable[[int], dict[str, Any]]
    status: int
    samples: dict[str, list[int]] = field(default_factory=lambda: {"known": [], "unknown": []})
    statuses: set[tuple[str, int]] = field(default_factory=set)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", "--iterations", type=int, default=300, help="requests per case")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--output", type=Path, help="also write the table (Markdown) here")
    parser.add_argument("--force-flush", action="store_true", help="see benchmarks/run.py")
    parser.add_argument(
        "--sender",
        default="django_redis_auth.codes.senders.send_in_background",
        help="EMAIL_SENDER for the run; benchmarks.enumeration.discard drops every message "
        "(to tell the mail's share of a difference from the rest)",
    )
    parser.add_argument("--cases", help="comma-separated substrings: run only matching cases")
    return parser.parse_args(argv)


def build_cases() -> list[Case]:
    from django.contrib.auth import get_user_model

    from django_redis_auth.codes import otp
    from django_redis_auth.codes.purposes import Purpose

    users = get_user_model().objects
    known = "known@bench.example.com"
    pending = "pending@bench.example.com"  # signed up, not verified
    nobody = "nobody@bench.example.com"
    users.create_user(email=known, password=PASSWORD, email_verified=True)
    users.create_user(email=pending, password=PASSWORD, email_verified=False)

    def code_for(email: str, purpose: str) -> str:
        """A pending code (untimed), and a guess that is wrong for it."""
        code = otp.issue_code(email, purpose) or "000000"
        return f"{(int(code) + 1) % 10**6:06d}"

    def same_setup(purpose: str) -> str:
        """The unknown side's untimed preparation does the same work (a code for an
        address nobody asks about), so neither side starts with warmer caches."""
        code_for("bystander@bench.example.com", purpose)
        return "123456"

    def body(**fields: Any) -> Callable[[int], dict[str, Any]]:
        return lambda i: dict(fields)

    return [
        Case(
            "signup",
            "/auth/signup/",
            body(email=known, password=NEW_PASSWORD),
            lambda i: {"email": f"fresh{i}@bench.example.com", "password": NEW_PASSWORD},
            202,
        ),
        Case(
            "email/verify (wrong code)",
            "/auth/email/verify/",
            lambda i: {"email": pending, "code": code_for(pending, Purpose.EMAIL_VERIFICATION)},
            lambda i: {"email": nobody, "code": same_setup(Purpose.EMAIL_VERIFICATION)},
            400,
        ),
        Case(
            "login (wrong password)",
            "/auth/login/",
            body(email=known, password=WRONG),
            body(email=nobody, password=WRONG),
            401,
        ),
        Case(
            # The pre-registration probe of issue #11 (4a): a fresh sign-up the prober made
            # (right password, unverified: a code is mailed) against a taken address.
            "login: fresh sign-up (A) vs taken (B)",
            "/auth/login/",
            body(email=pending, password=PASSWORD),
            body(email=known, password=WRONG),
            401,
        ),
        Case(
            "otp email_verification",
            "/auth/otp/",
            body(email=pending, purpose="email_verification"),
            body(email=nobody, purpose="email_verification"),
            202,
        ),
        Case(
            "otp login (no challenge)",
            "/auth/otp/",
            body(email=known, purpose="login"),
            body(email=nobody, purpose="login"),
            202,
        ),
        Case(
            "otp password_reset",
            "/auth/otp/",
            body(email=known, purpose="password_reset"),
            body(email=nobody, purpose="password_reset"),
            202,
        ),
        Case(
            "password/reset",
            "/auth/password/reset/",
            body(email=known),
            body(email=nobody),
            202,
        ),
        Case(
            "password/reset/confirm (wrong code)",
            "/auth/password/reset/confirm/",
            lambda i: {
                "email": known,
                "code": code_for(known, Purpose.PASSWORD_RESET),
                "new_password": NEW_PASSWORD,
            },
            lambda i: {
                "email": nobody,
                "code": same_setup(Purpose.PASSWORD_RESET),
                "new_password": NEW_PASSWORD,
            },
            400,
        ),
    ]


def run(cases: list[Case], n: int, seed: int) -> None:
    from django.core import mail
    from rest_framework.test import APIClient

    client = APIClient(REMOTE_ADDR="198.51.100.20")
    rng = random.Random(seed)
    warm = 5
    for i in range(-warm, n):
        order = [(case, which) for case in cases for which in ("known", "unknown")]
        rng.shuffle(order)
        gc.collect()
        gc.disable()
        try:
            for case, which in order:
                data = (case.known if which == "known" else case.unknown)(i + warm)
                started = time.perf_counter_ns()
                response = client.post(case.path, data, format="json")
                elapsed = time.perf_counter_ns() - started
                case.statuses.add((which, response.status_code))
                if i >= 0:
                    case.samples[which].append(elapsed)
        finally:
            gc.enable()
        if hasattr(mail, "outbox"):
            mail.outbox.clear()


def bootstrap_ci(a: list[int], b: list[int], seed: int, rounds: int = 1000) -> tuple[float, float]:
    """95 % interval of median(a) - median(b), resampling both."""
    rng = random.Random(seed)
    diffs = sorted(
        statistics.median(rng.choices(a, k=len(a))) - statistics.median(rng.choices(b, k=len(b)))
        for _ in range(rounds)
    )
    return diffs[int(0.025 * rounds)], diffs[int(0.975 * rounds) - 1]


def report(cases: list[Case], n: int, seed: int) -> list[str]:
    lines = [
        f"n = {n} requests per case, interleaved; times in µs (median); "
        "difference = known - unknown, bootstrap 95 % interval",
        "",
        "| endpoint | known (A) | unknown (B) | difference | 95 % interval | ratio | statuses |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for case in cases:
        known = statistics.median(case.samples["known"]) / 1000
        unknown = statistics.median(case.samples["unknown"]) / 1000
        low, high = bootstrap_ci(case.samples["known"], case.samples["unknown"], seed)
        statuses = ", ".join(f"{w} {s}" for w, s in sorted(case.statuses))
        lines.append(
            f"| {case.name} | {known:.0f} | {unknown:.0f} | {known - unknown:+.0f} "
            f"| {low / 1000:+.0f} … {high / 1000:+.0f} | {known / unknown:.3f} | {statuses} |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.environ["BENCH_DATABASE_URL"] = os.environ.get(
        "ENUM_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dra_bench_enum"
    )
    os.environ["BENCH_REDIS_URL"] = os.environ.get("ENUM_REDIS_URL", "redis://127.0.0.1:6379/10")
    from benchmarks import environment

    try:
        environment.prepare(force_flush=args.force_flush)
    except environment.BenchError as exc:
        print(f"enumeration: {exc}", file=sys.stderr)
        return 2
    from django.conf import settings
    from django.test import override_settings

    environment.reset_state()
    failed = False
    try:
        config = {**settings.DJANGO_REDIS_AUTH, **LIFTED, "EMAIL_SENDER": args.sender}
        with override_settings(DJANGO_REDIS_AUTH=config):
            cases = build_cases()
            if args.cases:
                wanted = [w.strip() for w in args.cases.split(",") if w.strip()]
                cases = [c for c in cases if any(w in c.name for w in wanted)]
            run(cases, args.iterations, args.seed)
    finally:
        environment.reset_state()
    title = f"## Known vs unknown addresses, per endpoint (EMAIL_SENDER = {args.sender})"
    lines = [title, "", *report(cases, args.iterations, args.seed)]
    for case in cases:
        if {s for _, s in case.statuses} != {case.status}:
            failed = True
            lines.append(f"\nUNEXPECTED: {case.name} answered {sorted(case.statuses)}")
    print("\n".join(lines), flush=True)
    if args.output:
        args.output.write_text("\n".join(lines) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
