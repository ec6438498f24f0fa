"""Timing loops, round-trip counting and table printing shared by the benchmark sections.

Absolute times on a shared machine are noise; ratios measured in the same run are not. So
every section times its variants *interleaved* (round-robin batches), so a noisy neighbour
or CPU frequency change hits all of them alike, and prints each row as a ratio to a
reference row of the same table.
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from benchmarks.counting import COUNTER


@dataclass
class Op:
    """One measured operation. ``fn(i)`` runs it once; ``i`` is a fresh index per call so
    operations that need distinct inputs (a new email per issued code) can use it."""

    name: str
    fn: Callable[[int], object]
    note: str = ""
    samples_ns: list[int] = field(default_factory=list)
    redis_round_trips: int | None = None
    redis_commands: list[str] = field(default_factory=list)
    db_queries: int | None = None
    ref: Op | None = None  # the row this one's ratio is taken against (default: the table's)

    @property
    def median_us(self) -> float:
        return statistics.median(self.samples_ns) / 1000

    @property
    def p99_us(self) -> float:
        ordered = sorted(self.samples_ns)
        return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)] / 1000


def count_round_trips(op: Op, i: int) -> None:
    """Run ``op`` once, recording Redis round trips and database queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        COUNTER.start()
        try:
            op.fn(i)
        finally:
            COUNTER.stop()
    op.redis_round_trips = COUNTER.count
    op.redis_commands = COUNTER.names()
    op.db_queries = len(queries.captured_queries)


def measure(ops: Sequence[Op], n: int, *, warmup: int = 20, rounds: int = 20) -> None:
    """Warm each op up, count its round trips once, then time ``n`` calls of each op in
    ``rounds`` interleaved batches. Index ``i`` is unique per op across all phases."""
    counters = {id(op): 0 for op in ops}

    def next_index(op: Op) -> int:
        counters[id(op)] += 1
        return counters[id(op)] - 1

    for op in ops:
        for _ in range(warmup):
            op.fn(next_index(op))
    for op in ops:
        count_round_trips(op, next_index(op))
    gc.collect()
    per_round = [n // rounds + (1 if r < n % rounds else 0) for r in range(rounds)]
    clock = time.perf_counter_ns
    for batch in per_round:
        for op in ops:
            samples = op.samples_ns
            fn = op.fn
            for _ in range(batch):
                i = next_index(op)
                t0 = clock()
                fn(i)
                samples.append(clock() - t0)


def fmt_us(value: float) -> str:
    return f"{value:,.1f}"


def print_table(
    title: str,
    ops: Sequence[Op],
    reference: Op,
    *,
    out: Callable = print,
    ratio_note: str | None = None,
) -> None:
    """A Markdown table: median, p99, ratio of medians to ``reference`` (or the row's own
    ``ref``), round trips."""
    out(f"\n### {title}\n")
    if ratio_note:
        out(ratio_note + "\n")
    elif any(op.ref is not None for op in ops):
        out(
            "Ratio = median / median of the matching `ours` row; `ours` rows: median / median "
            f"of `{reference.name}` (same run).\n"
        )
    else:
        out(f"Ratio = median / median of `{reference.name}` (same run).\n")
    header = ["operation", "median µs", "p99 µs", "ratio", "Redis round trips", "DB queries"]
    rows = []
    for op in ops:
        redis = "-" if op.redis_round_trips is None else str(op.redis_round_trips)
        if op.redis_commands:
            redis += f" ({' '.join(op.redis_commands)})"
        rows.append(
            [
                op.name + (f" — {op.note}" if op.note else ""),
                fmt_us(op.median_us),
                fmt_us(op.p99_us),
                f"{op.median_us / (op.ref or reference).median_us:.2f}x",
                redis,
                "-" if op.db_queries is None else str(op.db_queries),
            ]
        )
    markdown_table(header, rows, out=out)
    if any(op.db_queries for op in ops):
        out("\nDB queries as Django counts them: a transaction's BEGIN and COMMIT are included.")


def markdown_table(
    header: Sequence[str], rows: Sequence[Sequence[str]], *, out: Callable = print
) -> None:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=True)]
    out("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    out("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in rows:
        out("| " + " | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)) + " |")


@dataclass
class Target:
    section: str
    description: str
    measured: str
    passed: bool | None  # None: not measured (see ``measured`` for why)

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "MISS", None: "n/a"}[self.passed]


def print_targets(targets: Sequence[Target], *, out: Callable = print) -> None:
    out("\n### Targets\n")
    markdown_table(
        ["section", "target", "measured", "result"],
        [[t.section, t.description, t.measured, t.verdict] for t in targets],
        out=out,
    )
