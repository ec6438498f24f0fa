"""Fixtures for both passes (fakeredis + SQLite, real Redis + Postgres)."""

from __future__ import annotations

import contextlib
import os
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from django_redis_auth import async_store, outages, store
from django_redis_auth.tokens import verified as verified_tokens
from tests.redis_counting import ROUND_TRIPS

REAL = settings.REAL

# The ``google`` fixture: Google sign-in configured against a fake Google.
pytest_plugins = ("tests.google_fake",)


def pytest_collection_modifyitems(config, items):
    """``real`` tests run only in the real-services pass, ``fake_only`` ones (they move
    Redis' clock, which only fakeredis allows) only in the fakeredis pass."""
    drop = "fake_only" if REAL else "real"
    keep = [item for item in items if drop not in item.keywords]
    deselected = [item for item in items if drop in item.keywords]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = keep


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "fake_only: runs only in the fakeredis pass (moves Redis' clock, or needs no backend)",
    )
    if not REAL:
        return
    problems = _service_problems()
    if problems:
        message = "Real services unavailable: " + "; ".join(problems)
        if os.environ.get("CI"):
            pytest.exit(message + " (CI is set: failing, not skipping)", returncode=3)
        pytest.exit(message + " (set CI to make this an error)", returncode=0)


def _test_databases() -> set[str]:
    """This pass's test databases on the server (``test_<name>`` and ``test_<name>_*``)."""
    import psycopg

    db = settings.DATABASES["default"]
    prefix = "test_" + str(db.get("TEST", {}).get("NAME") or db["NAME"]).removeprefix("test_")
    with psycopg.connect(
        host=db.get("HOST") or "127.0.0.1",
        port=db.get("PORT") or 5432,
        user=db.get("USER") or "postgres",
        dbname="postgres",
        connect_timeout=3,
    ) as conn:
        return {
            name
            for (name,) in conn.execute("SELECT datname FROM pg_database").fetchall()
            if name == prefix or name.startswith(prefix + "_")
        }


_DATABASES_BEFORE: set[str] = set()


def pytest_sessionstart(session):
    if REAL and not _service_problems():
        _DATABASES_BEFORE.update(_test_databases())


def pytest_sessionfinish(session, exitstatus):
    """The integration pass leaves no database behind: pytest-django drops the test
    database, and every test that makes one next to it (``test_<name>_*``) drops it too.
    Databases that were there before the run (another pass on a shared server, whose
    name only shares the prefix) are not this run's to judge."""
    if not REAL or exitstatus != 0:
        return
    left = sorted(_test_databases() - _DATABASES_BEFORE)
    if left:
        session.config.get_terminal_writer().line(f"test databases left behind: {left}", red=True)
        session.exitstatus = 1


def _service_problems() -> list[str]:
    import psycopg
    import redis

    problems = []
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        problems.append(f"Redis at {settings.REDIS_URL}: {exc}")
    db = settings.DATABASES["default"]
    try:
        psycopg.connect(
            host=db.get("HOST") or "127.0.0.1",
            port=db.get("PORT") or 5432,
            user=db.get("USER") or "postgres",
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except psycopg.Error as exc:
        problems.append(f"PostgreSQL: {exc}")
    return problems


@pytest.fixture(autouse=True)
def _clean_redis():
    """Every test starts with an empty Redis, the default client and no remembered tokens."""
    store.reset()
    async_store.reset()
    verified_tokens.clear()
    outages.reset()
    store.get_client().flushdb()
    yield
    store.reset()
    async_store.reset()


@pytest.fixture(autouse=True)
def _answers_are_declared(monkeypatch):
    """Every answer of a package view, in every test, is one its OpenAPI schema declares:
    an error's status and code, a success's status and body fields. The views' declarations
    cannot fall behind what they do. (Checked as each answer leaves, under the settings of
    that moment: USER_SERIALIZER decides me/'s body.)"""
    from django_redis_auth.api import BaseAPIView

    undeclared: set[tuple[str, ...]] = set()
    finalize = BaseAPIView.finalize_response

    def checking(self, request, response, *args, **kwargs):
        response = finalize(self, request, response, *args, **kwargs)
        problem = _undeclared(type(self), request.method.lower(), response)
        if problem:
            undeclared.add((type(self).__name__, request.method.lower(), *problem))
        return response

    monkeypatch.setattr(BaseAPIView, "finalize_response", checking)
    yield
    assert undeclared == set(), f"undeclared answers: {sorted(undeclared)}"


def _undeclared(view: type, method: str, response: Any) -> tuple[str, ...] | None:
    from rest_framework.serializers import ListSerializer

    from django_redis_auth.schema import error_codes_for, success_responses

    status_code, data = response.status_code, getattr(response, "data", None)
    if status_code == 405:  # an operation the schema does not have
        return None
    if status_code >= 400:
        code = data.get("code") if isinstance(data, dict) else None
        declared = error_codes_for(view, method).get(status_code, [])
        return None if code in {e.code for e in declared} else (str(status_code), str(code))
    successes = success_responses(view, method)
    if status_code not in successes:
        return (str(status_code), "undeclared success status")
    serializer = successes[status_code]
    if serializer is None:
        return None if data is None else (str(status_code), "a body, none declared")
    if isinstance(serializer, ListSerializer):
        fields = set(serializer.child.fields)
        if not isinstance(data, list) or any(set(item) != fields for item in data):
            return (str(status_code), "not a list of the declared items")
        return None
    if getattr(serializer, "extra_fields_allowed", False):  # e.g. introspection's claims
        required = {name for name, f in serializer().fields.items() if f.required}
        return None if required <= set(data or {}) else (str(status_code), f"fields {data}")
    fields = serializer().fields
    required = {name for name, f in fields.items() if f.required}
    # Every required field, and only declared ones (an optional field may be absent).
    if not required <= set(data or {}) <= set(fields):
        return (str(status_code), f"fields {sorted(data or {})}")
    return None


@pytest.fixture
def redis_client():
    return store.get_client()


@pytest.fixture
def round_trips():
    """``with round_trips() as rt: ...`` then ``rt.count`` is the number of round trips."""

    @contextlib.contextmanager
    def counting():
        ROUND_TRIPS.reset()
        yield ROUND_TRIPS

    return counting


@pytest.fixture
def api():
    return APIClient()


PASSWORD = "correct horse battery staple"


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def make_user(db):
    from django.contrib.auth import get_user_model

    def make(email="alice@example.com", password=PASSWORD, **extra):
        extra.setdefault("email_verified", True)
        return get_user_model().objects.create_user(email=email, password=password, **extra)

    return make


@pytest.fixture
def user(make_user):
    return make_user()


@pytest.fixture
def twofa_user(make_user):
    """alice@example.com with the emailed second factor on."""
    return make_user(otp_required=True)


@pytest.fixture
def login(api, password):
    """POST login/ and return the token pair (asserts success)."""

    def do(email="alice@example.com", pw=password, client=None):
        response = (client or api).post(
            "/auth/login/", {"email": email, "password": pw}, format="json"
        )
        assert response.status_code == 200, response.content
        return response.json()

    return do


@pytest.fixture
def bearer():
    def make(access: str) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
        return client

    return make


def drf_request(access: str):
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    return Request(APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {access}"))


@pytest.fixture(params=["sync", "async"])
def authenticate(request):
    """``authenticate(access)`` -> ``(user, token)`` through ``RedisJWTAuthentication``, or
    through ``AsyncRedisJWTAuthentication`` awaited on an event loop (as adrf awaits it):
    tests taking this fixture run on both paths."""
    from asgiref.sync import async_to_sync

    from django_redis_auth.async_auth import AsyncRedisJWTAuthentication
    from django_redis_auth.authentication import RedisJWTAuthentication

    if request.param == "sync":
        return lambda access: RedisJWTAuthentication().authenticate(drf_request(access))
    return lambda access: async_to_sync(AsyncRedisJWTAuthentication().authenticate)(
        drf_request(access)
    )


# The same "who am I" answer through each way of authenticating: DRF (sync), adrf's async
# view, django-ninja's sync and async bearers (tests/async_views.py).
ME_PATHS = {
    "drf": "/auth/me/",
    "adrf-async": "/async/me/",
    "ninja": "/ninja/me",
    "ninja-async": "/ninja/async-me",
}


@pytest.fixture(params=list(ME_PATHS))
def me_path(request):
    return ME_PATHS[request.param]


@pytest.fixture
def as_if_on_cluster(monkeypatch):
    """The Cluster code path on this Redis (tests/test_cluster.py runs it on a real one)."""
    from django_redis_auth import store

    monkeypatch.setattr(store, "is_cluster", lambda client=None: True)


@pytest.fixture
def script_keys(monkeypatch):
    """The KEYS of every Lua script call, in order (to check each call is one slot)."""
    from django_redis_auth import store

    seen: list[list[str]] = []
    original = store.script

    def spy(name):
        script = original(name)

        def call(keys, args):
            seen.append(keys)
            return script(keys=keys, args=args)

        return call

    monkeypatch.setattr(store, "script", spy)
    return seen


@pytest.fixture
def pyjwt_decodes(monkeypatch):
    """Every token simplejwt's backend (so PyJWT) decoded: one per signature check."""
    from rest_framework_simplejwt.backends import TokenBackend

    calls = []
    real = TokenBackend.decode

    def counting(self, token, verify=True):
        calls.append(token)
        return real(self, token, verify)

    monkeypatch.setattr(TokenBackend, "decode", counting)
    return calls
