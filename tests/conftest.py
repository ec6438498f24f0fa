"""Fixtures for both passes (fakeredis + SQLite, real Redis + Postgres)."""

from __future__ import annotations

import contextlib
import os

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from django_redis_auth import async_store, outages, store, verified_tokens
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
