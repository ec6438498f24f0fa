"""The ``redis.asyncio`` client of the async authentication path (``async_auth``).

The same server, key names (``keys``) and Lua sources (``store.script_source``) as the
synchronous client in ``store``, and the same outage handling (``store.guard()``: any Redis
error becomes a 503 ``auth_unavailable``). An asyncio connection belongs to the event loop
that opened it, so there is one client per running loop: one per ASGI worker in
production, one per ``async_to_sync`` loop in a test or a management command.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
import weakref
from typing import Any

import redis.asyncio
from django.core.exceptions import ImproperlyConfigured
from redis.commands.core import AsyncScript

from django_redis_auth import store
from django_redis_auth.conf import auth_settings, on_change

_lock = threading.Lock()
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Any] = weakref.WeakKeyDictionary()
_scripts: weakref.WeakKeyDictionary[Any, dict[str, AsyncScript]] = weakref.WeakKeyDictionary()

# Keyword arguments of a synchronous connection that an asyncio connection cannot take:
# objects built for the synchronous client (its parser, retry policy, connect hook).
_SYNC_ONLY = frozenset({"parser_class", "retry", "redis_connect_func", "connection_class"})


def get_client() -> Any:
    """The ``redis.asyncio`` client for the running event loop (made on first use)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        with _lock:
            client = _clients.get(loop)
            if client is None:
                factory = auth_settings.ASYNC_REDIS_CLIENT_FACTORY
                client = factory() if factory is not None else from_sync(store.get_client())
                _clients[loop] = client
    return client


def from_sync(client: Any) -> redis.asyncio.Redis:
    """An asyncio client for the server ``client`` (the package's synchronous client)
    talks to, with its connection settings (address, database, credentials, TLS,
    timeouts). Standalone Redis only: for Sentinel or Cluster set
    ``ASYNC_REDIS_CLIENT_FACTORY``."""
    from redis.cluster import RedisCluster
    from redis.sentinel import SentinelConnectionPool

    pool = getattr(client, "connection_pool", None)
    if isinstance(client, RedisCluster) or pool is None or isinstance(pool, SentinelConnectionPool):
        raise ImproperlyConfigured(
            "DJANGO_REDIS_AUTH['ASYNC_REDIS_CLIENT_FACTORY'] must be set for the async "
            "authentication path with Redis Cluster or Sentinel (a zero-argument callable "
            "returning a redis.asyncio client)."
        )
    sync_class = pool.connection_class
    if issubclass(sync_class, redis.UnixDomainSocketConnection):
        async_class: type = redis.asyncio.UnixDomainSocketConnection
    elif issubclass(sync_class, redis.SSLConnection):
        async_class = redis.asyncio.SSLConnection
    else:
        async_class = redis.asyncio.Connection
    accepted = _parameters(async_class)
    kwargs = {
        name: value
        for name, value in pool.connection_kwargs.items()
        if name in accepted and name not in _SYNC_ONLY
    }
    async_pool = redis.asyncio.ConnectionPool(
        connection_class=async_class, max_connections=pool.max_connections, **kwargs
    )
    return redis.asyncio.Redis(connection_pool=async_pool)


def _parameters(cls: type) -> set[str]:
    names: set[str] = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None:
            names |= set(inspect.signature(init).parameters)
    return names - {"self", "args", "kwargs"}


def script(name: str) -> AsyncScript:
    """``lua/<name>.lua`` (the source ``store`` runs) on the running loop's client."""
    client = get_client()
    registered = _scripts.get(client)
    if registered is None:
        registered = _scripts[client] = {}
    s = registered.get(name)
    if s is None:
        s = registered[name] = client.register_script(store.script_source(name))
    return s


def reset() -> None:
    """Forget every loop's client (settings changed, or tests swapped Redis). Connections
    close when their loop is collected; a loop still running opens new ones on next use."""
    with _lock:
        _clients.clear()
        _scripts.clear()


on_change(reset)
