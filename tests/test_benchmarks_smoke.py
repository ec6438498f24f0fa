"""The benchmarks must keep running: one tiny run of every section in a subprocess.

No timing is asserted (benchmarks are not tests); only that each section ran, measured
the alternatives and printed its tables. The end-to-end section starts gunicorn and checks
both endpoints but applies no load (``--no-wrk``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from benchmarks.bench_e2e import parse_wrk

ROOT = Path(__file__).resolve().parent.parent

WRK_OUTPUT = """\
Running 1s test @ http://127.0.0.1:18765/auth/me/
  2 threads and 4 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.88ms    3.00ms  14.86ms   64.13%
    Req/Sec   412.40    128.55     0.87k    90.00%
  Latency Distribution
     50%  428.00us
     75%    7.23ms
     90%    8.68ms
     99%    1.21s
  825 requests in 1.01s, 418.95KB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:    818.86
Transfer/sec:    415.83KB
"""


def test_wrk_output_is_parsed():
    assert parse_wrk(WRK_OUTPUT) == {
        "rps": 818.86,
        "p50": pytest.approx(0.428),
        "p99": pytest.approx(1210.0),
        "requests": 825,
        "non2xx": 7,
        "socket_errors": 3,
    }


def _database_url(name: str) -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{password}@{host}:{port}/{name}"


@pytest.fixture
def scratch_database():
    """``name(suffix)``: a database next to the test database for a benchmark run (which
    creates it, and ``<name>_e2e`` for its end-to-end section), dropped afterwards:
    benchmarks keep theirs between runs, a test run must leave none behind."""
    created: list[str] = []

    def name(suffix: str) -> str:
        database = f"{settings.DATABASES['default']['NAME']}_{suffix}"
        created.extend((database, f"{database}_e2e"))
        return database

    yield name
    import psycopg
    from psycopg import sql

    db = settings.DATABASES["default"]
    with psycopg.connect(
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        user=db.get("USER") or "postgres",
        password=db.get("PASSWORD") or None,
        dbname="postgres",
        autocommit=True,
    ) as conn:
        for leftover in created:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(leftover))
            )


@pytest.mark.real
def test_every_benchmark_section_runs(scratch_database):
    env = dict(os.environ)
    env.update(
        {
            # The test pass's own Redis db (every test starts by flushing it anyway) and a
            # database next to the test database.
            "BENCH_REDIS_URL": settings.REDIS_URL,
            "BENCH_DATABASE_URL": _database_url(scratch_database("bench_smoke")),
        }
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--quick", "-n", "5", "--no-wrk"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = result.stdout
    assert result.returncode == 0, result.stderr[-3000:] + output[-3000:]
    for heading in (
        "## 1. Per-request authentication cost",
        "## 2. One-time codes: issue and verify",
        "## 3. Scale: cost as revoked tokens and cached users accumulate",
        "### Ours: cost vs users in the user cache",
        "## 4. End to end: GET /auth/me/ through gunicorn and uvicorn",
        "## 5. Signed-in sessions: memory per session, listing and refresh",
        "## 6. Authenticator codes (TOTP): ours and django-otp's TOTPDevice",
        "## 7. Passkey sign-in against a password sign-in (PBKDF2)",
        "### Targets",
    ):
        assert heading in output
    for row in (
        "simplejwt + DB blacklist check",
        "naive Redis EXISTS + user from Postgres",
        "ours: RedisJWTAuthentication (warm user cache)",
        "floor: PyJWT decode + MGET of the request's keys + json.loads of the cached row",
        "ours: many users (",
        "GET /bench/me-async/",
        "django-otp EmailDevice: load + verify_token",
        "Postgres table: select for update + update",
        "code hash (digest, attempts)",
        "family key with its record (MEMORY USAGE)",
        "GET /bench/me-simplejwt/",
        "django-otp TOTPDevice: load + verify_token",
        "ours: password sign-in (login/: PBKDF2 + pair)",
    ):
        assert row in output
    # Every section measured something: the only "not available" is the load we skipped.
    assert output.count("not available") == output.count("not available: --no-wrk given")


@pytest.mark.real
def test_enumeration_benchmark_runs(scratch_database):
    """benchmarks/enumeration.py with a tiny n: every endpoint answers the same status for
    known and unknown addresses (it exits non-zero otherwise) and the table is printed."""
    env = dict(os.environ)
    env.update(
        {
            "ENUM_REDIS_URL": settings.REDIS_URL,
            "ENUM_DATABASE_URL": _database_url(scratch_database("enum")),
        }
    )
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "benchmarks/enumeration.py", "-n", "3"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
    for row in (
        "| signup |",
        "| email/verify (wrong code) |",
        "| login (wrong password) |",
        "| login: fresh sign-up (A) vs taken (B) |",
        "| otp email_verification |",
        "| otp login (no challenge) |",
        "| otp password_reset |",
        "| password/reset |",
        "| password/reset/confirm (wrong code) |",
    ):
        assert row in result.stdout


@pytest.mark.real
def test_fleet_benchmark_runs():
    """benchmarks/bench_fleet.py with tiny slices: gunicorn answers all three endpoints 200
    (it exits non-zero otherwise) and the table shows one round trip, no query, for ours."""
    env = dict(os.environ)
    env["BENCH_REDIS_URL"] = settings.REDIS_URL
    env.pop("DJANGO_SETTINGS_MODULE", None)
    result = subprocess.run(
        [sys.executable, "benchmarks/bench_fleet.py", "--seconds", "0.2", "--rounds", "1"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:] + result.stdout[-3000:]
    rows = {line.split(" | ")[0].strip("| "): line for line in result.stdout.splitlines()}
    assert rows["introspection"].endswith("| 1 | 0 |")
    assert rows["forward-auth"].endswith("| 1 | 0 |")
    assert rows["simplejwt TokenVerifyView"].endswith("| 0 | 0 |")
