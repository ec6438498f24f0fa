"""The raw Redis client, the Lua scripts, and the one place an outage becomes a 503.

Security state never goes through Django's cache API: with django-redis'
``IGNORE_EXCEPTIONS`` a cache error reads as "nothing there", which for a blacklist means
"not revoked". Here every Redis error surfaces as :class:`~.exceptions.AuthUnavailable`.
"""

from __future__ import annotations

import logging
import threading
from importlib import resources
from typing import Any

from redis import Redis
from redis.commands.core import Script
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .conf import auth_settings, on_change
from .exceptions import AuthUnavailable

logger = logging.getLogger("django_redis_auth")

_lock = threading.Lock()
_client: Any = None
_scripts: dict[str, Script] = {}
_sources: dict[str, str] = {}


def get_client() -> Redis:
    """The redis-py client for every key of this package (cached; reset on setting change)."""
    global _client
    client = _client
    if client is None:
        with _lock:
            if _client is None:
                factory = auth_settings.REDIS_CLIENT_FACTORY
                if factory is not None:
                    _client = factory()
                else:
                    from django_redis import get_redis_connection

                    _client = get_redis_connection(auth_settings.CACHE_ALIAS)
            client = _client
    return client


def is_cluster(client: Any | None = None) -> bool:
    from redis.cluster import RedisCluster

    return isinstance(client if client is not None else get_client(), RedisCluster)


def script_source(name: str) -> str:
    """``lua/<name>.lua``, with each ``--#include <lib>`` line replaced by
    ``lua/<lib>.lib.lua`` (Redis scripts cannot import; shared Lua is pasted in)."""
    if name not in _sources:
        lua = resources.files(__package__) / "lua"
        lines = (lua / f"{name}.lua").read_text().splitlines(keepends=True)
        _sources[name] = "".join(
            (lua / f"{line.split()[1]}.lib.lua").read_text()
            if line.startswith("--#include ")
            else line
            for line in lines
        )
    return _sources[name]


def script(name: str) -> Script:
    """The Lua script ``lua/<name>.lua``, read once; redis-py runs it by EVALSHA and
    reloads it transparently after NOSCRIPT (a restarted or failed-over server)."""
    s = _scripts.get(name)
    if s is None:
        s = _scripts[name] = get_client().register_script(script_source(name))
    return s


def reset() -> None:
    """Forget the client and registered scripts (settings changed, or tests swapped Redis)."""
    global _client
    with _lock:
        _client = None
        _scripts.clear()


class _Guard:
    """Turn any Redis failure inside the block into a 503 ``auth_unavailable``.

    A class rather than ``@contextmanager``: it runs on every authenticated request and a
    generator-based context manager costs several times more to enter and leave.
    """

    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None:
            return False
        if isinstance(exc, RedisConnectionError | RedisTimeoutError | OSError):
            logger.error("Redis unreachable: %s", exc)
            raise AuthUnavailable() from exc
        if isinstance(exc, RedisError | RedisClusterException):
            # RedisClusterException is not a RedisError: a cluster with no reachable node
            # raises it (even from the client's constructor), and it must be a 503 too.
            logger.error("Redis error: %r", exc, exc_info=(exc_type, exc, tb))
            raise AuthUnavailable() from exc
        return False


_guard = _Guard()
on_change(reset)


def guard() -> _Guard:
    """``with guard(): ...`` — any Redis failure in the block becomes :class:`AuthUnavailable`."""
    return _guard


def decode(value: bytes | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.decode()
