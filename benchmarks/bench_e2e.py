"""Section 4: ``GET /auth/me/`` through gunicorn (2 sync workers) and uvicorn (2 ASGI
workers) on the example project with Postgres + Redis, load from ``wrk``; ours against the
same view authenticated by simplejwt's stateless ``JWTAuthentication``
(``/bench/me-simplejwt/``), with the same middleware stack on both sides. Under uvicorn ours
is the async path (``/bench/me-async/``, an adrf view with ``AsyncRedisJWTAuthentication``).

wrk either cycles through the tokens of many users (``wrk_tokens.lua``; each user's cache
warm, so each request is mostly a token's first in a worker's memo) or repeats one token.
"""

from __future__ import annotations

import contextlib
import functools
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


PORTS = range(16500, 16600)  # the servers this benchmark starts listen here only


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise BenchError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


def _get(url: str, token: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


SERVERS = {
    "gunicorn": lambda port: [
        sys.executable, "-m", "gunicorn",
        "--workers", str(WORKERS),
        "--bind", f"127.0.0.1:{port}",
        "--log-level", "warning",
        "demo.wsgi:application",
    ],
    "uvicorn": lambda port: [
        sys.executable, "-m", "uvicorn",
        "--workers", str(WORKERS),
        "--host", "127.0.0.1", "--port", str(port),
        "--log-level", "warning", "--no-access-log",
        "benchmarks.asgi:application",
    ],
}  # fmt: skip


@contextlib.contextmanager
def server(kind: str, env: dict[str, str], port: int, probe: Callable[[], int]) -> Iterator[None]:
    proc = subprocess.Popen(SERVERS[kind](port), cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                raise BenchError(f"{kind} exited with status {proc.returncode}")
            with contextlib.suppress(OSError):
                if probe() == 200:
                    break
            if time.monotonic() > deadline:
                raise BenchError(f"{kind} did not answer within 30 s")
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


LUA = ROOT / "benchmarks" / "wrk_tokens.lua"


def run_wrk(url: str, token: str, seconds: int, token_file: str | None = None) -> dict[str, float]:
    """One wrk run: every request with ``token``, or (``token_file``) cycling the file's."""
    auth = ["-s", str(LUA), url, "--", token_file] if token_file else [
        "-H", f"Authorization: Bearer {token}", url,
    ]  # fmt: skip
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", *auth]
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


# (server, endpoint of ours, label): each served and loaded against simplejwt's endpoint.
SETUPS = [
    ("gunicorn", "ours", "gunicorn -w 2 (sync workers)"),
    ("uvicorn", "ours_async", "uvicorn --workers 2 (ASGI; ours: the async path)"),
]
MODES = [("many", "many users' tokens cycled"), ("single", "one token repeated")]


def run(args: Any, out: Callable[[str], None]) -> list[Target]:
    env = _env()
    env["BENCH_E2E_USERS"] = str(args.e2e_users)
    ensure_database(env["DATABASE_URL"])
    helper = subprocess.run(
        [sys.executable, "-m", "benchmarks.e2e_helper"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    if helper.returncode != 0:
        raise BenchError(f"e2e setup failed:\n{helper.stderr[-3000:]}")
    setup = json.loads(helper.stdout)
    tokens, files, paths = setup["tokens"], setup["token_files"], setup["paths"]
    kinds, counts = setup["token_kind"], setup["counts"]
    reason = None
    if args.no_wrk:
        reason = "--no-wrk given"
    elif shutil.which("wrk") is None:
        reason = "wrk is not installed (Debian/Ubuntu: apt-get install -y wrk)"

    # results[(server, mode, endpoint)] = list of wrk runs
    results: dict[tuple[str, str, str], list[dict[str, float]]] = {}
    for kind, ours, _label in SETUPS:
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        pair = [ours, "simplejwt"]
        probe_url, probe_token = base + paths[ours], tokens[kinds[ours]]
        with server(kind, env, port, functools.partial(_get, probe_url, probe_token)):
            statuses = {name: _get(base + paths[name], tokens[kinds[name]]) for name in pair}
            if any(status != 200 for status in statuses.values()):
                raise BenchError(f"endpoints did not answer 200 through {kind}: {statuses}")
            if reason is not None:
                continue
            for mode, _ in MODES:

                def load(
                    name: str, seconds: int, mode: str = mode, base: str = base
                ) -> dict[str, float]:
                    file = files[kinds[name]] if mode == "many" else None
                    return run_wrk(base + paths[name], tokens[kinds[name]], seconds, file)

                if not args.quick:
                    for name in pair:  # warm both workers' connections and code
                        load(name, 1)
                # ABBA order cancels a linear drift (a neighbour's load, CPU frequency).
                order = pair if args.quick else [*pair, *reversed(pair)]
                for name in order:
                    results.setdefault((kind, mode, name), []).append(load(name, args.duration))

    out(
        f"Servers: {', '.join(label for _, _, label in SETUPS)}, serving the example project "
        "(`DEBUG=0`; DB connections: persistent under gunicorn, Django's psycopg pool under "
        "uvicorn, as Django advises for ASGI; the same middleware for every endpoint) on "
        f"Postgres + Redis; `wrk -t2 -c{CONNECTIONS} --latency`, {args.duration} s per run"
        + ("" if args.quick else ", runs in ABBA order per server and mode, figures averaged")
        + f". Many users: `wrk_tokens.lua` cycles the tokens of {setup['users']:,} users "
        "(every user's cache warm); single: one token repeated. DB queries and Redis round "
        "trips: one in-process request with the same settings.\n"
    )
    labels = {
        "ours": "ours: RedisJWTAuthentication",
        "ours_async": "ours: AsyncRedisJWTAuthentication (adrf)",
        "simplejwt": "simplejwt JWTAuthentication",
    }
    rows = []
    ratios: dict[tuple[str, str], float] = {}
    p99_lower: dict[tuple[str, str], bool] = {}
    for kind, ours, _label in SETUPS:
        for mode, mode_label in MODES:
            base_runs = results.get((kind, mode, "simplejwt"), [])
            base_avg = _average(base_runs)
            for name in (ours, "simplejwt"):
                runs = results.get((kind, mode, name), [])
                avg = _average(runs)
                c = counts[name]
                if avg:
                    vs = f"{avg['rps'] / base_avg['rps']:.2f}x"
                    cells = [
                        f"{avg['rps']:,.0f}", vs, f"{avg['p50']:.2f}", f"{avg['p99']:.2f}",
                        f"{sum(r['non2xx'] + r['socket_errors'] for r in runs):,.0f}",
                    ]  # fmt: skip
                    if name == ours:
                        ratios[(kind, mode)] = avg["rps"] / base_avg["rps"]
                        p99_lower[(kind, mode)] = avg["p99"] < base_avg["p99"]
                else:
                    cells = [f"not available: {reason}", "-", "-", "-", "-"]
                rows.append(
                    [kind, mode_label, f"GET {paths[name]}", labels[name], *cells,
                     str(c["db_queries"]), str(c["redis_round_trips"])]
                )  # fmt: skip
    markdown_table(
        ["server", "tokens", "endpoint", "authentication", "requests/s", "vs simplejwt",
         "p50 ms", "p99 ms", "errors", "DB queries/request", "Redis round trips/request"],
        rows,
        out=out,
    )  # fmt: skip

    def target(kind: str, mode: str, what: str) -> Target:
        ratio = ratios.get((kind, mode))
        lower = p99_lower.get((kind, mode))
        return Target(
            "4",
            f"end to end, {kind}, {what}: ours ≥ 1.5x the requests/s of stateless simplejwt "
            "and a lower p99",
            f"not available: {reason}"
            if ratio is None
            else f"{ratio:.2f}x, p99 {'lower' if lower else 'NOT lower'}",
            None if ratio is None else (ratio >= 1.5 and bool(lower)),
        )

    counted = [counts[name] for name in ("ours", "ours_async")]
    return [
        target("gunicorn", "many", f"{setup['users']:,} users' tokens cycled"),
        target("gunicorn", "single", "one token"),
        target("uvicorn", "many", f"{setup['users']:,} users' tokens cycled"),
        target("uvicorn", "single", "one token"),
        Target(
            "4",
            "end to end: ours (sync and async path) makes 0 DB queries and 1 Redis round "
            "trip per request",
            ", ".join(
                f"{c['db_queries']} queries, {c['redis_round_trips']} round trip(s)"
                for c in counted
            ),
            all(c["db_queries"] == 0 and c["redis_round_trips"] == 1 for c in counted),
        ),
    ]


def _average(runs: list[dict[str, float]]) -> dict[str, float]:
    if not runs:
        return {}
    return {k: sum(r[k] for r in runs) / len(runs) for k in runs[0]}
