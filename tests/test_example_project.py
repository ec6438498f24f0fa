"""The example project: its settings follow the environment (DESIGN.md's table), it passes
Django's checks, and the demo a newcomer starts really signs a user in.

Each case runs in a subprocess with a controlled environment: the example project's settings
are a separate Django configuration from this suite's ``tests.settings``.
"""

from __future__ import annotations

import json
import re
import runpy
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request
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
from tests.example_server import EXAMPLE, SETTINGS_ENV, run, runserver

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password-1234"
DEMO_2FA_EMAIL = "demo-2fa@example.com"
DEV_SECRET_KEY = "django-insecure-django-redis-auth-example-project-development-key"

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
    assert config["EMAIL_BACKEND"] == "demo.mailbox.MailboxBackend"
    assert "EMAIL_FILE_PATH" not in config
    assert config["MAILBOX_DIR"] == EXAMPLE / "mailbox"
    assert config["SOCIAL_AUTH_GOOGLE_OAUTH2_KEY"] == ""
    assert config["SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET"] == ""
    assert config["AUTH_USER_MODEL"] == "django_redis_auth.User"
    assert {"rest_framework", "django_redis_auth"} <= set(config["INSTALLED_APPS"])
    assert config["REST_FRAMEWORK"]["DEFAULT_AUTHENTICATION_CLASSES"] == [
        "django_redis_auth.authentication.RedisJWTAuthentication"
    ]
    # The example sets only what it decides (from the environment): real settings, and
    # without the environment each at its default.
    assert set(config["DJANGO_REDIS_AUTH"]) == {
        "TRUSTED_PROXIES",
        "FORWARDED_HEADER",
        "GOOGLE_EXTRA_AUDIENCES",
        "GOOGLE_REDIRECT_ALLOWED",
        "PASSKEY_RP_ID",
        "PASSKEY_ORIGINS",
    }
    assert all(DEFAULTS[name] == value for name, value in config["DJANGO_REDIS_AUTH"].items())
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
    assert config["MAILBOX_DIR"] == tmp_path
    assert config["SOCIAL_AUTH_GOOGLE_OAUTH2_KEY"] == "google-key"
    assert config["SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET"] == "google-secret"
    assert config["DJANGO_REDIS_AUTH"]["GOOGLE_REDIRECT_ALLOWED"] == ("/",)
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


def test_proxy_settings_follow_the_environment(load_settings):
    """Behind a reverse proxy the per-IP limits need TRUSTED_PROXIES (issue #11, item 3)."""
    default = load_settings()["DJANGO_REDIS_AUTH"]
    assert (default["TRUSTED_PROXIES"], default["FORWARDED_HEADER"]) == (0, "X-Forwarded-For")
    proxied = load_settings(TRUSTED_PROXIES="2", FORWARDED_HEADER="Forwarded")
    assert proxied["DJANGO_REDIS_AUTH"]["TRUSTED_PROXIES"] == 2
    assert proxied["DJANGO_REDIS_AUTH"]["FORWARDED_HEADER"] == "Forwarded"


def test_development_mailbox_is_the_default_only_with_debug(load_settings):
    config = load_settings(DEBUG="0", SECRET_KEY="s" * 60, REDIS_URL="redis://127.0.0.1:6379/0")
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.console.EmailBackend"
    config = load_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend")
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.locmem.EmailBackend"


def test_google_environment(load_settings):
    config = load_settings(
        GOOGLE_OAUTH2_KEY="web.apps.googleusercontent.com",
        GOOGLE_OAUTH2_EXTRA_AUDIENCES="ios.apps.googleusercontent.com, android.apps.x",
        GOOGLE_REDIRECT_ALLOWED="https://app.example.com/,/demo/",
    )
    assert "social_django" in config["INSTALLED_APPS"]
    package = config["DJANGO_REDIS_AUTH"]
    assert package["GOOGLE_EXTRA_AUDIENCES"] == (
        "ios.apps.googleusercontent.com",
        "android.apps.x",
    )
    assert package["GOOGLE_REDIRECT_ALLOWED"] == ("https://app.example.com/", "/demo/")


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
        ({"TRUSTED_PROXIES": "one"}, "is not a whole number"),
    ],
    ids=["no-secret-key", "development-key", "in-process-redis", "bad-debug", "bad-proxies"],
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


def admin_login(base: str, email: str, password: str) -> int:
    """Sign in to /admin/ with a browser-like form post (CSRF cookie + token); the status
    of the admin index afterwards (200 for staff, 302 back to the login otherwise)."""
    import http.cookiejar

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/admin/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": email, "password": password, "next": "/admin/"}
    ).encode()
    request = urllib.request.Request(
        f"{base}/admin/login/", data=form, headers={"Referer": f"{base}/admin/login/"}
    )
    opener.open(request, timeout=10).read()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    check = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    try:
        with check.open(f"{base}/admin/", timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


SETUP = """
import django
from django.core.management import call_command

django.setup()
call_command("migrate", interactive=False, verbosity=0)
call_command("demo_user")
call_command("demo_user")  # idempotent: `make demo` runs it every time
"""


def demo_sign_in(tmp_path: Path, **env: str) -> None:
    """What `make demo` does (migrate, demo_user, runserver), then sign in over HTTP."""
    result = run("-c", SETUP, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    staff = f"{DEMO_EMAIL} / {DEMO_PASSWORD} (email verified, staff: opens /admin/)"
    two_factor = f"{DEMO_2FA_EMAIL} / {DEMO_PASSWORD} (email verified, second factor on)"
    assert result.stdout.splitlines() == [
        f"Created: {staff}",
        f"Created: {two_factor}",
        f"Ready: {staff}",
        f"Ready: {two_factor}",
    ]

    with runserver(tmp_path, **env) as base:
        status, index = http("GET", f"{base}/api/")
        assert status == 200
        assert "/auth/login/" in {e["path"] for e in index["endpoints"]}
        with urllib.request.urlopen(f"{base}/", timeout=10) as response:
            assert response.headers["Content-Type"].startswith("text/html")
            assert b'id="demo-config"' in response.read()

        # The demo user opens the admin (staff), through Django's own admin login.
        assert admin_login(base, DEMO_EMAIL, DEMO_PASSWORD) == 200

        status, body = http(
            "POST", f"{base}/auth/login/", {"email": DEMO_2FA_EMAIL, "password": DEMO_PASSWORD}
        )
        assert (status, body["otp_required"]) == (202, True), body

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
