"""The example project: its settings follow the environment (DESIGN.md's table), it passes
Django's checks, and the demo a newcomer starts really signs a user in.

Each case runs in a subprocess with a controlled environment: the example project's settings
are a separate Django configuration from this suite's ``tests.settings``.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_project"
MANAGE = str(EXAMPLE / "manage.py")
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password-1234"
DEV_SECRET_KEY = "django-insecure-django-redis-auth-example-project-development-key"

# Variables the example settings read: removed from the inherited environment so each case
# sees exactly what it sets.
SETTINGS_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "EMAIL_BACKEND",
    "EMAIL_FILE_PATH",
    "GOOGLE_OAUTH2_KEY",
    "GOOGLE_OAUTH2_SECRET",
    "DJANGO_SETTINGS_MODULE",
)


def environment(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    env["DJANGO_SETTINGS_MODULE"] = "demo.settings"
    # The package from this checkout, as in the test process (pytest's pythonpath).
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(overrides)
    return env


def run(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=EXAMPLE,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


PROBE = """
import json
import django

django.setup()
from django.conf import settings
from django_redis_auth.conf import DEFAULTS

cache = settings.CACHES["default"]
pool = cache["OPTIONS"].get("CONNECTION_POOL_KWARGS", {})
db = settings.DATABASES["default"]
out = {
    "debug": settings.DEBUG,
    "db_engine": db["ENGINE"],
    "db_name": str(db["NAME"]),
    "db_host": db.get("HOST", ""),
    "cache_backend": cache["BACKEND"],
    "cache_location": cache["LOCATION"],
    "cache_options": sorted(cache["OPTIONS"]),
    "connection_class": getattr(pool.get("connection_class"), "__name__", None),
    "has_server": "server" in pool,
    "secret_is_dev_key": settings.SECRET_KEY == settings.DEVELOPMENT_SECRET_KEY,
    "allowed_hosts": settings.ALLOWED_HOSTS,
    "email_backend": settings.EMAIL_BACKEND,
    "email_file_path": getattr(settings, "EMAIL_FILE_PATH", None),
    "google_key": settings.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY,
    "google_secret": settings.SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET,
    "auth_user_model": settings.AUTH_USER_MODEL,
    "installed_apps": settings.INSTALLED_APPS,
    "auth_classes": settings.REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"],
    "unknown_auth_settings": sorted(set(settings.DJANGO_REDIS_AUTH) - set(DEFAULTS)),
    "ssl_redirect": getattr(settings, "SECURE_SSL_REDIRECT", False),
    "hsts": getattr(settings, "SECURE_HSTS_SECONDS", 0),
}
if out["connection_class"]:
    # The in-process stand-in must really work, Lua included.
    from django_redis_auth import store

    client = store.get_client()
    client.set("probe", "1")
    out["stand_in_works"] = client.eval("return redis.call('GET', KEYS[1])", 1, "probe") == b"1"
print(json.dumps(out))
"""


def probe(**env: str) -> dict[str, Any]:
    result = run("-c", PROBE, **env)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_default_environment_is_sqlite_and_in_process_redis():
    config = probe()
    assert config["debug"] is True
    assert config["db_engine"] == "django.db.backends.sqlite3"
    assert config["db_name"] == str(EXAMPLE / "db.sqlite3")
    assert config["cache_backend"] == "django_redis.cache.RedisCache"
    assert config["connection_class"] == "FakeRedisConnection"
    assert config["has_server"] is True
    assert config["stand_in_works"] is True
    assert "IGNORE_EXCEPTIONS" not in config["cache_options"]
    assert {"SOCKET_CONNECT_TIMEOUT", "SOCKET_TIMEOUT"} <= set(config["cache_options"])
    assert config["secret_is_dev_key"] is True
    assert config["allowed_hosts"] == ["localhost", "127.0.0.1"]
    assert config["email_backend"] == "django.core.mail.backends.console.EmailBackend"
    assert config["email_file_path"] is None
    assert config["google_key"] == config["google_secret"] == ""
    assert config["auth_user_model"] == "django_redis_auth.User"
    assert {"rest_framework", "django_redis_auth"} <= set(config["installed_apps"])
    assert config["auth_classes"] == ["django_redis_auth.authentication.RedisJWTAuthentication"]
    assert config["unknown_auth_settings"] == []
    assert config["ssl_redirect"] is False


def test_database_and_redis_urls_select_real_services():
    config = probe(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/auth_demo",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert config["db_engine"] == "django.db.backends.postgresql"
    assert config["db_name"] == "auth_demo"
    assert config["db_host"] == "127.0.0.1"
    assert config["cache_location"] == "redis://127.0.0.1:6379/0"
    assert config["connection_class"] is None
    assert config["has_server"] is False


def test_environment_overrides(tmp_path):
    config = probe(
        DEBUG="0",
        SECRET_KEY="s" * 60,
        REDIS_URL="redis://127.0.0.1:6379/0",
        ALLOWED_HOSTS="api.example.com, .example.org",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(tmp_path),
        GOOGLE_OAUTH2_KEY="google-key",
        GOOGLE_OAUTH2_SECRET="google-secret",
    )
    assert config["debug"] is False
    assert config["secret_is_dev_key"] is False
    assert config["allowed_hosts"] == ["api.example.com", ".example.org"]
    assert config["email_backend"] == "django.core.mail.backends.filebased.EmailBackend"
    assert config["email_file_path"] == str(tmp_path)
    assert (config["google_key"], config["google_secret"]) == ("google-key", "google-secret")
    assert config["ssl_redirect"] is True
    assert config["hsts"] > 0


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DEBUG": "0", "REDIS_URL": "redis://127.0.0.1:6379/0"}, "SECRET_KEY must be set"),
        (
            {"DEBUG": "0", "REDIS_URL": "redis://127.0.0.1:6379/0", "SECRET_KEY": DEV_SECRET_KEY},
            "SECRET_KEY must be set",
        ),
        ({"DEBUG": "0", "SECRET_KEY": "s" * 60}, "REDIS_URL must be set"),
        ({"DEBUG": "maybe"}, "is not a boolean"),
    ],
    ids=["no-secret-key", "development-key", "in-process-redis", "bad-debug"],
)
def test_unsafe_production_settings_are_refused(env, message):
    result = run("-c", "import django; django.setup()", **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert message in result.stderr


def test_manage_py_check_is_clean():
    result = run(MANAGE, "check", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_deploy_check_is_clean_in_production_mode():
    result = run(
        MANAGE,
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/auth_demo",
        REDIS_URL="redis://127.0.0.1:6379/0",
        ALLOWED_HOSTS="auth.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_demo_user_command_refuses_without_debug():
    result = run(
        MANAGE,
        "demo_user",
        DEBUG="0",
        SECRET_KEY="s" * 60,
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    assert result.returncode != 0
    assert "DEBUG is off" in result.stderr


# --- end to end: what `make demo` does, then a sign-in over HTTP ------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def http(method: str, url: str, body: dict | None = None, token: str | None = None):
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            return response.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        return exc.code, json.loads(raw) if raw else None


def wait_for_port(port: int, server: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"runserver exited with {server.returncode}:\n{log.read_text()}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"runserver did not listen on {port} within {timeout}s:\n{log.read_text()}")


def demo_sign_in(tmp_path: Path, **env: str) -> None:
    """migrate + demo_user (twice: it is idempotent) + runserver, then sign in over HTTP."""
    for args in (("migrate", "--noinput"), ("demo_user",), ("demo_user",)):
        result = run(MANAGE, *args, **env)
        assert result.returncode == 0, result.stdout + result.stderr
    assert "Ready: demo@example.com" in result.stdout

    port = free_port()
    log = tmp_path / "runserver.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, MANAGE, "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=EXAMPLE,
            env=environment(**env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, server, log)
        base = f"http://127.0.0.1:{port}"

        status, index = http("GET", f"{base}/")
        assert status == 200
        assert "/auth/login/" in {e["path"] for e in index["endpoints"]}

        status, body = http(
            "POST", f"{base}/auth/login/", {"email": DEMO_EMAIL, "password": "wrong"}
        )
        assert (status, body["code"]) == (401, "invalid_credentials")

        status, pair = http(
            "POST", f"{base}/auth/login/", {"email": DEMO_EMAIL, "password": DEMO_PASSWORD}
        )
        assert status == 200, pair
        assert set(pair) == {"access", "refresh"}

        status, me = http("GET", f"{base}/auth/me/", token=pair["access"])
        assert status == 200, me
        assert (me["email"], me["email_verified"]) == (DEMO_EMAIL, True)

        status, _ = http("POST", f"{base}/auth/logout/", {}, token=pair["access"])
        assert status == 204
        status, body = http("GET", f"{base}/auth/me/", token=pair["access"])
        assert (status, body["code"]) == (401, "token_revoked")
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def test_demo_signs_in_on_embedded_default(tmp_path):
    demo_sign_in(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}")


@pytest.fixture
def example_database():
    """A Postgres database of its own for the example project, dropped afterwards."""
    import psycopg

    db = settings.DATABASES["default"]
    name = f"{db['NAME']}_example"
    host, port, user = db.get("HOST") or "127.0.0.1", db.get("PORT") or 5432, db.get("USER")
    with psycopg.connect(
        host=host, port=port, user=user or "postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"postgres://{user or 'postgres'}@{host}:{port}/{name}"
    with psycopg.connect(
        host=host, port=port, user=user or "postgres", dbname="postgres", autocommit=True
    ) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.real
def test_demo_signs_in_on_postgres_and_redis(tmp_path, example_database):
    demo_sign_in(tmp_path, DATABASE_URL=example_database, REDIS_URL=settings.REDIS_URL)
