"""One code, many workers (issue #22, guarantee 12): parallel replays of one TOTP code and
parallel uses of one recovery code from several *processes*, against real Redis and
Postgres, yield one success; and a ``pg_dump`` of the database holds no factor secret.

Real services only: fakeredis lives in one process, and SQLite serializes writers anyway.
The workers are forked after the parent closed its connections; each opens its own to the
same test database and Redis database, lines up on a barrier, and signs in."""

from __future__ import annotations

import glob
import shutil
import subprocess

import pytest
from django.db import connections

from django_redis_auth import keys
from tests.forked import race
from tests.mfa_helpers import challenge, code_at, enrol

pytestmark = [pytest.mark.real, pytest.mark.django_db(transaction=True)]

WORKERS = 6


def _race(code: str, method: str) -> list[str]:
    from django_redis_auth.accounts import flows
    from django_redis_auth.clients import Client

    challenges = [challenge()["challenge"] for _ in range(WORKERS)]
    return race(
        [
            lambda c=c: flows.verify_login(c, code, Client(ip="198.51.100.9"), method=method)
            for c in challenges
        ]
    )


def test_parallel_replays_of_one_totp_code_one_success(user):
    secret = enrol()["secret"]
    outcomes = _race(code_at(secret), "totp")
    assert outcomes == ["invalid_code"] * (WORKERS - 1) + ["ok"], outcomes


def test_parallel_replays_with_redis_forgetting_the_step_one_success(user, redis_client):
    """The Redis record of the step gone (a flush between the workers' reads): the
    database's conditional update still lets one through."""
    secret = enrol()["secret"]
    from django_redis_auth.mfa import totp

    original = totp.factor_of

    def forgetful(u):
        factor = original(u)
        redis_client.delete(keys.totp_step(u.pk))
        return factor

    totp.factor_of = forgetful
    try:
        outcomes = _race(code_at(secret), "totp")
    finally:
        totp.factor_of = original
    assert outcomes.count("ok") == 1, outcomes


def test_parallel_uses_of_one_recovery_code_one_success(user):
    enrolled = enrol()
    outcomes = _race(enrolled["recovery_codes"][0], "recovery_code")
    assert outcomes == ["invalid_code"] * (WORKERS - 1) + ["ok"], outcomes
    from django_redis_auth.mfa.models import RecoveryCode

    assert RecoveryCode.objects.count() == 9


def test_a_database_dump_holds_no_totp_secret_nor_recovery_code(user):
    found = shutil.which("pg_dump") or sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))
    pg_dump = found if isinstance(found, str) else (found[-1] if found else None)
    assert pg_dump, "pg_dump not found"
    enrolled = enrol()
    db = connections["default"].settings_dict
    dump = subprocess.run(
        [
            pg_dump,
            "--data-only",
            "-h",
            db.get("HOST") or "127.0.0.1",
            "-p",
            str(db.get("PORT") or 5432),
            "-U",
            db.get("USER") or "postgres",
            db["NAME"],
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "django_redis_auth_totpfactor" in dump and "django_redis_auth_recoverycode" in dump
    assert enrolled["secret"] not in dump
    for code in enrolled["recovery_codes"]:
        assert code not in dump and code.replace("-", "") not in dump
