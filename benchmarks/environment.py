"""Preparing the real services for a run: a dedicated Postgres database and Redis db."""

from __future__ import annotations

import os
import platform
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUR_PREFIXES = (b"dra:", b"bench:")


class BenchError(RuntimeError):
    """A precondition for running the benchmarks is not met (message says what to do)."""


def ensure_database(url: str) -> None:
    """Create the benchmark database if it does not exist (it is never dropped)."""
    import dj_database_url
    import psycopg
    from psycopg import sql

    cfg = dj_database_url.parse(url)
    if "postgresql" not in cfg["ENGINE"]:
        raise BenchError(f"BENCH_DATABASE_URL must point at PostgreSQL, got {url!r}")
    params = {
        "host": cfg.get("HOST") or "127.0.0.1",
        "port": cfg.get("PORT") or 5432,
        "user": cfg.get("USER") or "postgres",
        "password": cfg.get("PASSWORD") or None,
        "connect_timeout": 5,
    }
    try:
        with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", [cfg["NAME"]]
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(cfg["NAME"])))
    except psycopg.OperationalError as exc:
        raise BenchError(f"PostgreSQL is not reachable ({url}): {exc}") from exc


def check_redis(url: str, *, force_flush: bool) -> None:
    """Refuse to FLUSHDB a Redis db that holds keys this benchmark did not write."""
    import redis

    client = redis.Redis.from_url(url, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        raise BenchError(f"Redis is not reachable ({url}): {exc}") from exc
    if force_flush:
        return
    for key in client.scan_iter(count=1000):
        if not key.startswith(OUR_PREFIXES):
            raise BenchError(
                f"Redis db in {url} holds foreign keys (e.g. {key[:60]!r}); the benchmark "
                "FLUSHDBs its db. Point BENCH_REDIS_URL at an unused db or pass --force-flush."
            )


DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/dra_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"


def prepare(*, force_flush: bool = False) -> None:
    """Everything a benchmark script needs before it measures: its database exists, its
    Redis db is ours to flush, Django is set up and migrated."""
    ensure_database(os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    check_redis(os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL), force_flush=force_flush)
    setup_django()


def setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "benchmarks.settings"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", run_syncdb=True, verbosity=0)


def reset_state() -> None:
    """Empty the benchmark's tables and Redis db so every run starts from the same place."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from benchmarks.models import PgCode
    from django_redis_auth import store

    tables = [get_user_model()._meta.db_table, PgCode._meta.db_table]
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE "
            + ", ".join(connection.ops.quote_name(t) for t in tables)
            + " RESTART IDENTITY CASCADE"
        )
    store.reset()
    store.get_client().flushdb()


def machine_info() -> dict[str, str]:
    """What the numbers were measured on (for docs/benchmarks.md)."""
    import redis
    from django.db import connection
    from redis.utils import HIREDIS_AVAILABLE

    from django_redis_auth import store

    cpu = "unknown"
    try:
        text = Path("/proc/cpuinfo").read_text()
        match = re.search(r"^model name\s*:\s*(.+)$", text, re.MULTILINE)
        cpu = match.group(1).strip() if match else cpu
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    info = store.get_client().info("server")
    return {
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": __import__("django").get_version(),
        "redis server": str(info.get("redis_version")),
        "redis-py": f"{redis.__version__} ({'hiredis' if HIREDIS_AVAILABLE else 'Python'} parser)",
        "postgres": pg,
    }
