"""Helpers shared by the test modules (fixtures live in conftest.py)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import django
import redis
import redis.asyncio
from django.conf import settings
from django.test import override_settings
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from tests.redis_servers import free_ports, no_retry

DEAD_PORT = free_ports(1)[0]


def set_email_backend(settings_fixture: Any, backend: str) -> None:
    """Send the project's mail through ``backend`` the way the Django under test is
    configured: ``MAILERS`` from 6.1 on (tests/settings.py uses it there), else EMAIL_BACKEND."""
    if django.VERSION >= (6, 1):
        settings_fixture.MAILERS = {"default": {"BACKEND": backend}}
    else:
        settings_fixture.EMAIL_BACKEND = backend


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def use_smtp(settings_fixture: Any, host: str, port: int, timeout: float | None = None) -> None:
    """Send the project's mail over SMTP to ``host:port`` (``timeout`` None: the settings'
    default, which waits forever), configured as the Django under test expects it."""
    if django.VERSION >= (6, 1):
        options: dict[str, Any] = {"host": host, "port": port}
        if timeout is not None:
            options["timeout"] = timeout
        settings_fixture.MAILERS = {"default": {"BACKEND": SMTP_BACKEND, "OPTIONS": options}}
    else:
        settings_fixture.EMAIL_BACKEND = SMTP_BACKEND
        settings_fixture.EMAIL_HOST, settings_fixture.EMAIL_PORT = host, port
        settings_fixture.EMAIL_TIMEOUT = timeout


def package_settings(**changes: Any) -> dict[str, Any]:
    """The test run's DJANGO_REDIS_AUTH with ``changes`` applied (for override_settings)."""
    return {**settings.DJANGO_REDIS_AUTH, **changes}


def override_package(**changes: Any) -> override_settings:
    return override_settings(DJANGO_REDIS_AUTH=package_settings(**changes))


def dead_redis() -> redis.Redis:
    """``REDIS_CLIENT_FACTORY`` for a Redis that is down (nothing listens on the port). No
    retries: redis-py's default client would back off for seconds before giving up."""
    return redis.Redis(
        host="127.0.0.1", port=DEAD_PORT, socket_connect_timeout=0.5, retry=no_retry()
    )


def dead_async_redis() -> redis.asyncio.Redis:
    """``ASYNC_REDIS_CLIENT_FACTORY`` for the same dead Redis (the async path)."""
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return redis.asyncio.Redis(
        host="127.0.0.1", port=DEAD_PORT, socket_connect_timeout=0.5, retry=Retry(NoBackoff(), 0)
    )


@contextlib.contextmanager
def redis_down(**changes: Any) -> Iterator[None]:
    """The package's clients (sync and async) point at a Redis that refuses connections."""
    with override_package(
        REDIS_CLIENT_FACTORY="tests.helpers.dead_redis",
        ASYNC_REDIS_CLIENT_FACTORY="tests.helpers.dead_async_redis",
        **changes,
    ):
        yield


def authenticate(access: str | bytes) -> Any:
    """Run ``RedisJWTAuthentication`` on a request carrying ``access`` as its bearer token."""
    from django_redis_auth.authentication import RedisJWTAuthentication

    token = access.decode() if isinstance(access, bytes) else access
    request = Request(APIRequestFactory().get("/", HTTP_AUTHORIZATION=f"Bearer {token}"))
    return RedisJWTAuthentication().authenticate(request)


def window_count(client: Any, key: str, field: str) -> int:
    """What a sliding-hour count field of a limits hash holds (``"slice:count ..."``,
    lua/limits.lib.lua), summed over its slices; 0 when the field is absent."""
    raw = client.hget(key, field)
    if not raw:
        return 0
    return sum(int(pair.split(b":")[1]) for pair in raw.split())


def code_in(message: Any) -> str:
    """The six-digit code in an email's text body."""
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match, message.body
    return match.group(1)


def post(api: Any, path: str, body: dict[str, Any]) -> Any:
    """POST ``body`` as JSON to the package's ``/auth/<path>``."""
    return api.post(f"/auth/{path}", body, format="json")


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    """Assert an error answer's status and code (and that it says something); its body."""
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert body["detail"]
    return body


class Clock:
    """A monotonic clock the test moves by hand (``clock.now += 2``): injected where the
    code under test takes one, instead of sleeping."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now
