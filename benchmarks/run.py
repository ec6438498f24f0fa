#!/usr/bin/env python
"""Run every benchmark against the real local Postgres and Redis and print the tables.

    python benchmarks/run.py              # full run (a few minutes)
    python benchmarks/run.py --quick      # tiny N, small scale levels, 1 s of load
    python benchmarks/run.py -n 500 --sections auth,otp

Environment: ``BENCH_DATABASE_URL`` (default ``postgres://postgres@127.0.0.1:5432/dra_bench``,
created if missing) and ``BENCH_REDIS_URL`` (default ``redis://127.0.0.1:6379/9``; the run
FLUSHDBs that db, never anything else). Each table shows medians and p99 in µs and a ratio
to a reference row measured in the same run; absolute numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

SECTIONS = ("auth", "otp", "scale", "e2e", "sessions", "mfa", "passkeys")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny run: checks the scripts work")
    parser.add_argument("-n", "--iterations", type=int, help="timed calls per operation")
    parser.add_argument(
        "--sections",
        default=",".join(SECTIONS),
        help=f"comma-separated subset of {','.join(SECTIONS)} (default: all)",
    )
    parser.add_argument("--duration", type=int, help="seconds of wrk load per endpoint")
    parser.add_argument(
        "--no-wrk",
        action="store_true",
        help="end to end: start gunicorn and check both endpoints, but apply no load",
    )
    parser.add_argument("--output", type=Path, help="also write the report (Markdown) here")
    parser.add_argument(
        "--force-flush",
        action="store_true",
        help="FLUSHDB the benchmark Redis db even if it holds keys the benchmark did not write",
    )
    args = parser.parse_args(argv)
    args.sections = [s.strip() for s in args.sections.split(",") if s.strip()]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s): {', '.join(sorted(unknown))}")
    if args.iterations is None:
        args.iterations = 40 if args.quick else 3000
    if args.duration is None:
        args.duration = 1 if args.quick else 5
    # Revoked tokens present while measuring section 1, and the scale levels of section 3.
    args.revoked = 1_000 if args.quick else 100_000
    # Section 1's many-users row: users, access tokens each.
    args.many_users = (20, 3) if args.quick else (2_000, 10)
    # Section 4: users whose tokens wrk cycles through.
    args.e2e_users = 20 if args.quick else 500
    # Section 3: users in the user cache, and the real users whose tokens are cycled.
    args.user_levels = [0, 1_000] if args.quick else [1_000, 100_000, 1_000_000]
    args.scale_many_users = (10, 2) if args.quick else (500, 10)
    args.redis_levels = [0, 1_000] if args.quick else [0, 10_000, 100_000, 1_000_000]
    args.db_levels = [0, 1_000] if args.quick else [0, 10_000, 100_000, 1_000_000]
    return args


class Report:
    """Prints as it goes and keeps the lines for ``--output``."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def __call__(self, line: str = "") -> None:
        print(line, flush=True)
        self.lines.extend(line.split("\n"))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from benchmarks import environment

    out = Report()
    started = time.perf_counter()
    try:
        environment.prepare(force_flush=args.force_flush)
    except environment.BenchError as exc:
        print(f"benchmarks: {exc}", file=sys.stderr)
        return 2

    from benchmarks import sections
    from benchmarks.harness import markdown_table, print_targets

    info = environment.machine_info()
    out("## django-redis-auth benchmarks\n")
    markdown_table(["machine", ""], [[k, v] for k, v in info.items()], out=out)
    out(
        f"\nN = {args.iterations} timed calls per operation (interleaved in 20 rounds), "
        f"{'quick' if args.quick else 'full'} run."
    )
    targets = []
    try:
        for name in args.sections:
            targets += getattr(sections, name)(args, out)
    finally:
        # Leave no million keys behind in a shared Redis.
        environment.reset_state()
    print_targets(targets, out=out)
    out(f"\nTotal run time: {time.perf_counter() - started:.0f} s")
    if args.output:
        args.output.write_text("\n".join(out.lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
