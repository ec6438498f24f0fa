"""The example project: its settings follow the environment (DESIGN.md's table), it passes
Django's checks, and the demo a newcomer starts really signs a user in.

Each case runs in a subprocess with a controlled environment: the example project's settings
are a separate Django configuration from this suite's ``tests.settings``.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import runpy
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email import message_from_string
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import fakeredis
import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from django_redis_auth.conf import DEFAULTS
from tests.redis_servers import terminate

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
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "EMAIL_TIMEOUT",
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


SETTINGS_FILE = EXAMPLE / "demo" / "settings.py"


@pytest.fixture
def load_settings(monkeypatch):
    """Evaluate the example settings module under an environment, in this process.

    ``runpy`` runs the file afresh each time and leaves ``sys.modules`` and this suite's own
    Django configuration alone, so every environment costs milliseconds, not a subprocess."""

    def load(**env: str) -> dict[str, Any]:
        for name in SETTINGS_ENV:
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE))

    return load


def test_default_environment_is_sqlite_and_in_process_redis(load_settings):
    config = load_settings()
    assert config["DEBUG"] is True
    database = config["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert str(database["NAME"]) == str(EXAMPLE / "db.sqlite3")
    cache = config["CACHES"]["default"]
    assert cache["BACKEND"] == "django_redis.cache.RedisCache"
    pool = cache["OPTIONS"]["CONNECTION_POOL_KWARGS"]
    assert pool["connection_class"] is fakeredis.FakeRedisConnection
    assert isinstance(pool["server"], fakeredis.FakeServer)
    assert "IGNORE_EXCEPTIONS" not in cache["OPTIONS"]
    assert cache["OPTIONS"]["SOCKET_CONNECT_TIMEOUT"] and cache["OPTIONS"]["SOCKET_TIMEOUT"]
    assert config["SECRET_KEY"] == DEV_SECRET_KEY
    assert config["ALLOWED_HOSTS"] == ["localhost", "127.0.0.1"]
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    assert "EMAIL_FILE_PATH" not in config
    assert config["SOCIAL_AUTH_GOOGLE_OAUTH2_KEY"] == ""
    assert config["SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET"] == ""
    assert config["AUTH_USER_MODEL"] == "django_redis_auth.User"
    assert {"rest_framework", "django_redis_auth"} <= set(config["INSTALLED_APPS"])
    assert config["REST_FRAMEWORK"]["DEFAULT_AUTHENTICATION_CLASSES"] == [
        "django_redis_auth.authentication.RedisJWTAuthentication"
    ]
    # The example spells every setting out for readers, at its real default: a new setting
    # missing from the example fails here, and so does a default that drifted.
    assert config["DJANGO_REDIS_AUTH"] == DEFAULTS
    assert "SECURE_SSL_REDIRECT" not in config


def test_database_and_redis_urls_select_real_services(load_settings):
    config = load_settings(
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/auth_demo",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )
    database = config["DATABASES"]["default"]
    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["NAME"], database["HOST"], database["PORT"]) == (
        "auth_demo",
        "127.0.0.1",
        5432,
    )
    cache = config["CACHES"]["default"]
    assert cache["LOCATION"] == "redis://127.0.0.1:6379/0"
    assert cache["OPTIONS"]["CONNECTION_POOL_KWARGS"] == {}


def test_environment_overrides(load_settings, tmp_path):
    config = load_settings(
        DEBUG="0",
        SECRET_KEY="s" * 60,
        REDIS_URL="redis://127.0.0.1:6379/0",
        ALLOWED_HOSTS="api.example.com, .example.org",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(tmp_path),
        GOOGLE_OAUTH2_KEY="google-key",
        GOOGLE_OAUTH2_SECRET="google-secret",
    )
    assert config["DEBUG"] is False
    assert config["SECRET_KEY"] == "s" * 60
    assert config["ALLOWED_HOSTS"] == ["api.example.com", ".example.org"]
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend"
    assert config["EMAIL_FILE_PATH"] == str(tmp_path)
    assert config["SOCIAL_AUTH_GOOGLE_OAUTH2_KEY"] == "google-key"
    assert config["SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET"] == "google-secret"
    assert config["SECURE_SSL_REDIRECT"] is True
    assert config["SECURE_HSTS_SECONDS"] > 0


def test_smtp_settings_come_from_the_environment(load_settings):
    defaults = load_settings()
    assert (defaults["EMAIL_HOST"], defaults["EMAIL_PORT"]) == ("localhost", 25)
    assert (defaults["EMAIL_USE_TLS"], defaults["EMAIL_USE_SSL"]) == (False, False)
    assert defaults["EMAIL_TIMEOUT"] == 10  # never unbounded
    config = load_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="smtp.example.com",
        EMAIL_PORT="587",
        EMAIL_HOST_USER="mailer",
        EMAIL_HOST_PASSWORD="hunter2",
        EMAIL_USE_TLS="1",
        EMAIL_TIMEOUT="2.5",
    )
    assert (config["EMAIL_HOST"], config["EMAIL_PORT"]) == ("smtp.example.com", 587)
    assert (config["EMAIL_HOST_USER"], config["EMAIL_HOST_PASSWORD"]) == ("mailer", "hunter2")
    assert (config["EMAIL_USE_TLS"], config["EMAIL_USE_SSL"], config["EMAIL_TIMEOUT"]) == (
        True,
        False,
        2.5,
    )
    assert load_settings(EMAIL_USE_SSL="1", EMAIL_PORT="465")["EMAIL_USE_SSL"] is True
    with pytest.raises(ImproperlyConfigured, match="not both"):
        load_settings(EMAIL_USE_TLS="1", EMAIL_USE_SSL="1")


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
def test_unsafe_production_settings_are_refused(load_settings, env, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        load_settings(**env)


# --- the project as Django runs it (subprocesses: its own Django configuration) ---------------
# These set their own environment and do not depend on the test backend, so they run once,
# in the unit pass.

DEFAULT_PROBE = """
import django
from django.core.management import call_command

django.setup()
call_command("check", fail_level="WARNING")  # raises SystemCheckError on any warning
from django_redis_auth import store

# The in-process stand-in really answers, Lua included.
client = store.get_client()
client.set("probe", "1")
assert client.eval("return redis.call('GET', KEYS[1])", 1, "probe") == b"1"
print("ok")
"""

PRODUCTION_PROBE = """
import django
from django.core.management import CommandError, call_command

django.setup()
call_command("check", deploy=True, fail_level="WARNING")
try:
    call_command("demo_user")
except CommandError as exc:
    print("demo_user refused:", exc)
"""


@pytest.mark.fake_only
def test_default_project_passes_checks_and_stand_in_works():
    result = run("-c", DEFAULT_PROBE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-2:] == [
        "System check identified no issues (0 silenced).",
        "ok",
    ]


@pytest.mark.fake_only
def test_production_mode_passes_deploy_checks_and_refuses_demo_user():
    result = run(
        "-c",
        PRODUCTION_PROBE,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/auth_demo",
        REDIS_URL="redis://127.0.0.1:6379/0",
        ALLOWED_HOSTS="auth.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "demo_user refused: DEBUG is off" in result.stdout


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


SETUP = """
import django
from django.core.management import call_command

django.setup()
call_command("migrate", interactive=False, verbosity=0)
call_command("demo_user")
call_command("demo_user")  # idempotent: `make demo` runs it every time
"""


@contextlib.contextmanager
def runserver(tmp_path: Path, **env: str) -> Iterator[str]:
    """``manage.py runserver`` on a free port; yields its base URL, stops it afterwards."""
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
        yield f"http://127.0.0.1:{port}"
    finally:
        terminate(server, timeout=10)


def demo_sign_in(tmp_path: Path, **env: str) -> None:
    """What `make demo` does (migrate, demo_user, runserver), then sign in over HTTP."""
    result = run("-c", SETUP, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == [
        f"Created: {DEMO_EMAIL} / {DEMO_PASSWORD} (email verified)",
        f"Ready: {DEMO_EMAIL} / {DEMO_PASSWORD} (email verified)",
    ]

    with runserver(tmp_path, **env) as base:
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


CODE_FLOWS_SETUP = """
import django
from django.core.management import call_command

django.setup()
call_command("migrate", interactive=False, verbosity=0)
from django.contrib.auth import get_user_model

get_user_model().objects.create_user(
    email="twofa@example.com", password="demo-password-1234", email_verified=True,
    otp_required=True,
)
"""
NEW_PASSWORD = "a brand new passphrase 42"


class FileOutbox:
    """The messages Django's file-based email backend writes to a directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.taken: set[str] = set()  # Message-IDs already returned by ``wait_for``

    def messages(self) -> list[EmailMessage]:
        separator = "\n" + "-" * 79 + "\n"
        messages = []
        for path in self.directory.glob("*.log"):
            # Each message is followed by the separator: the last piece is "" or a message
            # still being written.
            for chunk in path.read_text().split(separator)[:-1]:
                messages.append(message_from_string(chunk, policy=email_policy.default))
        return messages

    def wait_for(self, to: str, subject: str) -> EmailMessage:
        """The one new message to ``to`` with ``subject``. The app sends off the request
        path, so it lands shortly after the answer; "new" by Message-ID, because the
        backend's file names do not sort in sending order."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = [
                m
                for m in self.messages()
                if (m["To"], m["Subject"]) == (to, subject) and m["Message-ID"] not in self.taken
            ]
            if found:
                assert len(found) == 1, [str(m) for m in found]
                self.taken.add(found[0]["Message-ID"])
                return found[0]
            time.sleep(0.05)
        pytest.fail(f"no {subject!r} mail to {to} in {[str(m) for m in self.messages()]}")


def code_of(message: EmailMessage) -> str:
    text = message.get_body(("plain",)).get_content()
    match = re.search(r"\b(\d{6})\b", text)
    assert match, text
    html = message.get_body(("html",)).get_content()
    assert match.group(1) in html
    assert match.group(1) not in message["Subject"]
    return match.group(1)


def demo_code_flows(tmp_path: Path, **env: str) -> None:
    """Sign-up + verification, second-factor sign-in and password reset over HTTP, each
    code read from the email backend the example project is configured with."""
    outbox = FileOutbox(tmp_path / "mail")
    outbox.directory.mkdir()
    env.update(
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(outbox.directory),
    )
    result = run("-c", CODE_FLOWS_SETUP, **env)
    assert result.returncode == 0, result.stdout + result.stderr

    with runserver(tmp_path, **env) as base:
        # sign-up → verification code by mail → email/verify → token pair
        signup = {"email": "new@example.com", "password": DEMO_PASSWORD}
        status, body = http("POST", f"{base}/auth/signup/", signup)
        assert status == 202, body
        message = outbox.wait_for("new@example.com", "Your verification code")
        status, pair = http(
            "POST",
            f"{base}/auth/email/verify/",
            {"email": "new@example.com", "code": code_of(message)},
        )
        assert status == 200, pair
        status, me = http("GET", f"{base}/auth/me/", token=pair["access"])
        assert (status, me["email"], me["email_verified"]) == (200, "new@example.com", True)

        # second factor: password → challenge, code by mail → login/verify → token pair
        status, body = http(
            "POST", f"{base}/auth/login/", {"email": "twofa@example.com", "password": DEMO_PASSWORD}
        )
        assert status == 202 and body["otp_required"] is True, body
        message = outbox.wait_for("twofa@example.com", "Your sign-in code")
        status, pair = http(
            "POST",
            f"{base}/auth/login/verify/",
            {"challenge": body["challenge"], "code": code_of(message)},
        )
        assert status == 200 and set(pair) == {"access", "refresh"}, pair

        # password reset: code by mail → confirm → notice by mail, old sessions revoked
        status, old = http("POST", f"{base}/auth/login/", signup)
        assert status == 200, old
        status, _ = http("POST", f"{base}/auth/password/reset/", {"email": "new@example.com"})
        assert status == 202
        message = outbox.wait_for("new@example.com", "Your password reset code")
        reset = {"email": "new@example.com", "code": code_of(message), "new_password": NEW_PASSWORD}
        status, body = http("POST", f"{base}/auth/password/reset/confirm/", reset)
        assert status == 200, body
        outbox.wait_for("new@example.com", "Your password was changed")
        status, body = http("GET", f"{base}/auth/me/", token=old["access"])
        assert (status, body["code"]) == (401, "token_revoked")
        status, pair = http(
            "POST",
            f"{base}/auth/login/",
            {"email": "new@example.com", "password": NEW_PASSWORD},
        )
        assert status == 200, pair


@pytest.mark.fake_only
def test_demo_code_flows_land_in_the_email_backend_on_embedded_default(tmp_path):
    demo_code_flows(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'demo.sqlite3'}")


@pytest.mark.fake_only
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


@pytest.mark.real
def test_demo_code_flows_land_in_the_email_backend_on_postgres_and_redis(
    tmp_path, example_database
):
    demo_code_flows(tmp_path, DATABASE_URL=example_database, REDIS_URL=settings.REDIS_URL)
