"""Section 4: ``GET /auth/me/`` through gunicorn (2 sync workers) on the example project
with Postgres + Redis, load from ``wrk``; ours against the same view authenticated by
simplejwt's stateless ``JWTAuthentication`` (``/bench/me-simplejwt/``).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

from benchmarks.environment import ROOT, BenchError, ensure_database
from benchmarks.harness import Target, markdown_table

WORKERS = 2
CONNECTIONS = 8
SECRET_KEY = "benchmark-e2e-secret-key-not-for-production-0123456789abcdef"


def _env() -> dict[str, str]:
    db = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dra_bench")
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": os.environ.get("BENCH_E2E_DATABASE_URL", db + "_e2e"),
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
            "DEBUG": "0",
            "SECRET_KEY": SECRET_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DJANGO_SETTINGS_MODULE": "benchmarks.e2e_settings",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "example_project")]),
        }
    )
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@contextlib.contextmanager
def gunicorn(env: dict[str, str], port: int, probe: Callable[[], int]) -> Iterator[None]:
    command = [
        sys.executable, "-m", "gunicorn",
        "--workers", str(WORKERS),
        "--bind", f"127.0.0.1:{port}",
        "--log-level", "warning",
        "demo.wsgi:application",
    ]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise BenchError(f"gunicorn exited with status {proc.returncode}")
            with contextlib.suppress(OSError):
                if probe() == 200:
                    break
            if time.monotonic() > deadline:
                raise BenchError("gunicorn did not answer within 30 s")
            time.sleep(0.2)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()
    return float(number) * _UNITS[unit]


def run_wrk(url: str, token: str, seconds: int) -> dict[str, float]:
    command = [
        "wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency",
        "-H", f"Authorization: Bearer {token}", url,
    ]  # fmt: skip
    output = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=seconds + 60
    ).stdout
    return parse_wrk(output)


def parse_wrk(output: str) -> dict[str, float]:
    """Requests/s, p50 and p99 (ms), request count and failures from ``wrk --latency``."""
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+(?:us|ms|s))\s*$", output, re.MULTILINE))
    total = int(re.search(r"(\d+) requests in", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    return {
        "rps": rps,
        "p50": _ms(latency["50"]),
        "p99": _ms(latency["99"]),
        "requests": total,
        "non2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
    }


def run(args: Any, out: Callable[[str], None]) -> list[Target]:
    env = _env()
    ensure_database(env["DATABASE_URL"])
    helper = subprocess.run(
        [sys.executable, "-m", "benchmarks.e2e_helper"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    if helper.returncode != 0:
        raise BenchError(f"e2e setup failed:\n{helper.stderr[-3000:]}")
    setup = json.loads(helper.stdout)
    tokens, paths, counts = setup["tokens"], setup["paths"], setup["counts"]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    wrk = shutil.which("wrk")
    reason = None
    if args.no_wrk:
        reason = "--no-wrk given"
    elif wrk is None:
        reason = "wrk is not installed (Debian/Ubuntu: apt-get install -y wrk)"

    results: dict[str, list[dict[str, float]]] = {name: [] for name in paths}
    with gunicorn(env, port, lambda: _get(base + paths["ours"], tokens["ours"])):
        statuses = {name: _get(base + path, tokens[name]) for name, path in paths.items()}
        if any(status != 200 for status in statuses.values()):
            raise BenchError(f"endpoints did not answer 200 through gunicorn: {statuses}")
        if reason is None:
            if not args.quick:
                for name, path in paths.items():  # warm both workers' connections and code
                    run_wrk(base + path, tokens[name], 1)
            # ABBA order cancels a linear drift (a neighbour's load, CPU frequency).
            order = (
                ["ours", "simplejwt"] if args.quick else ["ours", "simplejwt", "simplejwt", "ours"]
            )
            for name in order:
                results[name].append(run_wrk(base + paths[name], tokens[name], args.duration))

    out(
        f"`gunicorn -w {WORKERS}` (sync workers) serving the example project "
        "(`DEBUG=0`, persistent DB connections) on Postgres + Redis; "
        f"`wrk -t2 -c{CONNECTIONS} --latency`, {args.duration} s per run"
        + ("" if args.quick else ", runs in ABBA order, figures averaged")
        + ". DB queries and Redis round trips: one in-process request with the same settings.\n"
    )
    rows = []
    summary: dict[str, dict[str, float]] = {}
    for name, path in paths.items():
        c = counts[name]
        runs = results[name]
        label = "ours: RedisJWTAuthentication" if name == "ours" else "simplejwt JWTAuthentication"
        if runs:
            avg = {k: sum(r[k] for r in runs) / len(runs) for k in runs[0]}
            summary[name] = avg
            cells = [
                f"{avg['rps']:,.0f}",
                f"{avg['p50']:.2f}",
                f"{avg['p99']:.2f}",
                f"{sum(r['non2xx'] + r['socket_errors'] for r in runs):,.0f}",
            ]
        else:
            cells = [f"not available: {reason}", "-", "-", "-"]
        rows.append(
            [f"GET {path}", label, *cells, str(c["db_queries"]), str(c["redis_round_trips"])]
        )
    if summary:
        ratio = summary["ours"]["rps"] / summary["simplejwt"]["rps"]
        for row, name in zip(rows, paths, strict=True):
            row.insert(3, f"{summary[name]['rps'] / summary['simplejwt']['rps']:.2f}x")
    else:
        ratio = None
        for row in rows:
            row.insert(3, "-")
    markdown_table(
        ["endpoint", "authentication", "requests/s", "vs simplejwt", "p50 ms", "p99 ms",
         "errors", "DB queries/request", "Redis round trips/request"],
        rows,
        out=out,
    )  # fmt: skip
    ours_counts = counts["ours"]
    return [
        Target(
            "4",
            "end to end: ours ≥ 1.5x the throughput of stateless simplejwt",
            f"{ratio:.2f}x" if ratio is not None else f"not available: {reason}",
            None if ratio is None else ratio >= 1.5,
        ),
        Target(
            "4",
            "end to end: ours makes 0 DB queries and 1 Redis round trip per request",
            f"{ours_counts['db_queries']} queries, "
            f"{ours_counts['redis_round_trips']} round trip(s)",
            ours_counts["db_queries"] == 0 and ours_counts["redis_round_trips"] == 1,
        ),
    ]
