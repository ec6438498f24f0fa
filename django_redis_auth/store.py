"""The raw Redis client, the Lua scripts, and the one place an outage becomes a 503.

Security state never goes through Django's cache API: with django-redis'
``IGNORE_EXCEPTIONS`` a cache error reads as "nothing there", which for a blacklist means
"not revoked". Here every Redis error surfaces as :class:`~.exceptions.AuthUnavailable`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from importlib import resources
from typing import Any, TypeVar

from redis import Redis
from redis.commands.core import Script
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisClusterException, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from django_redis_auth import outages
from django_redis_auth.conf import auth_settings, on_change
from django_redis_auth.exceptions import AuthUnavailable

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
    ``lua/<lib>.lib.lua`` (Redis scripts cannot import; shared Lua is pasted in). Libraries
    may include libraries; each is pasted once, at its first include."""
    if name not in _sources:
        _sources[name] = _expand(f"{name}.lua", set())
    return _sources[name]


def _expand(file: str, pasted: set[str]) -> str:
    lua = resources.files(__package__) / "lua"
    out = []
    for line in (lua / file).read_text().splitlines(keepends=True):
        if not line.startswith("--#include "):
            out.append(line)
            continue
        lib = line.split()[1]
        if lib not in pasted:
            pasted.add(lib)
            out.append(_expand(f"{lib}.lib.lua", pasted))
    return "".join(out)


def script(name: str) -> Script:
    """The Lua script ``lua/<name>.lua``, read once; redis-py runs it by EVALSHA and
    reloads it transparently after NOSCRIPT (a restarted or failed-over server)."""
    s = _scripts.get(name)
    if s is None:
        s = _scripts[name] = get_client().register_script(script_source(name))
    return s


class ScriptPipeline:
    """A non-transactional pipeline and the Lua scripts queued on it, so that after NOSCRIPT
    (a restarted or failed-over server) exactly those can be loaded again. Every other
    command (``set``, ``wait``, ...) is the pipeline's own.

    Scripts go on as plain EVALSHA: redis-py's own pipeline scripts cost a ``SCRIPT EXISTS``
    round trip on every execute."""

    __slots__ = ("length", "pipe", "queued", "scripts")

    def __init__(self, client: Any) -> None:
        self.pipe = client.pipeline(transaction=False)
        self.scripts: list[Script] = []
        # (position in the pipeline, script, keys, args) of each script call
        self.queued: list[tuple[int, Script, list[str], list[Any]]] = []
        self.length = 0  # commands queued so far (their results come in this order)

    def script(self, name: str, keys: list[str], args: list[Any]) -> None:
        """Queue ``lua/<name>.lua`` over ``keys`` with ``args``."""
        s = script(name)
        self.queued.append((self.length, s, keys, args))
        self.pipe.evalsha(s.sha, len(keys), *keys, *args)
        self.length += 1
        self.scripts.append(s)

    def __getattr__(self, name: str) -> Any:
        command = getattr(self.pipe, name)
        if name == "execute" or not callable(command):
            return command

        def queue(*args: Any, **kwargs: Any) -> Any:
            self.length += 1
            return command(*args, **kwargs)

        return queue


def execute_with_scripts(client: Any, build: Callable[[ScriptPipeline], Any]) -> list[Any]:
    """``build(pipe)`` on a fresh :class:`ScriptPipeline` and execute it; after NOSCRIPT
    load the scripts that were missing and run *those calls* again. Only those: the other
    commands already ran, and some (an activity entry) must not run twice."""
    pipe = ScriptPipeline(client)
    build(pipe)
    results = pipe.execute(raise_on_error=False)
    missing = [q for q in pipe.queued if isinstance(results[q[0]], NoScriptError)]
    if missing:
        for s in {id(q[1]): q[1] for q in missing}.values():
            client.script_load(s.script)
        again = client.pipeline(transaction=False)
        for _position, s, keys, args in missing:
            again.evalsha(s.sha, len(keys), *keys, *args)
        for (position, *_rest), result in zip(missing, again.execute(), strict=True):
            results[position] = result
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results


def reset() -> None:
    """Forget the client and registered scripts (settings changed, or tests swapped Redis)."""
    global _client
    with _lock:
        _client = None
        _scripts.clear()
    _guard.close()


class _Guard:
    """Turn any Redis failure inside the block into a 503 ``auth_unavailable``, log the
    outage once (``outages``), and trip a per-process circuit breaker on slow Redis.

    The breaker: after ``CIRCUIT_BREAKER_TIMEOUTS`` consecutive timeouts, every block
    answers 503 at once for ``CIRCUIT_BREAKER_SECONDS`` instead of making each request wait
    for its own socket timeout (sync workers queue behind each other, so a 1 s timeout
    becomes several seconds per client). Then requests try Redis again; one more timeout
    opens it again, one success closes it. Connection refusals are already fast and do not
    count.

    A class rather than ``@contextmanager``: it runs on every authenticated request and a
    generator-based context manager costs several times more to enter and leave. When all
    is well, entering reads one attribute and leaving reads one more.
    """

    __slots__ = ("clock", "open_until", "timeouts", "troubled")

    def __init__(self) -> None:
        self.clock = time.monotonic
        self.close()

    def close(self) -> None:
        """Forget the breaker and outage state (settings changed, or a test swapped Redis)."""
        self.open_until = 0.0  # monotonic time until which the breaker refuses; 0 = closed
        self.timeouts = 0  # consecutive timeouts
        # A failure happened since the last success (or an outage is still being logged).
        self.troubled = outages.redis.down_since is not None

    def __enter__(self) -> None:
        if self.open_until:
            self._while_open()
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool:
        if exc is None:
            if self.troubled:
                self._recovered()
            return False
        # RedisClusterException is not a RedisError: a cluster with no reachable node
        # raises it (even from the client's constructor), and it must be a 503 too.
        if not isinstance(exc, RedisError | RedisClusterException | OSError):
            return False
        self.troubled = True
        if isinstance(exc, RedisTimeoutError | TimeoutError):
            self._timed_out()
        elif not isinstance(exc, RedisConnectionError | OSError):
            self.timeouts = 0
        # Never the exception text as is: redis-py quotes whole commands (key names with
        # user and family ids) in it. describe() keeps the class and a safe message.
        outages.redis.failed(outages.describe(exc), consequence="; answering 503")
        raise AuthUnavailable() from exc

    def _while_open(self) -> None:
        if self.clock() < self.open_until:
            outages.redis.failed("circuit breaker open")
            raise AuthUnavailable()
        # Half-open: let requests try again; one more timeout opens the breaker at once.
        self.open_until = 0.0
        self.timeouts = max(0, int(auth_settings.CIRCUIT_BREAKER_TIMEOUTS) - 1)

    def _timed_out(self) -> None:
        self.timeouts += 1
        threshold = int(auth_settings.CIRCUIT_BREAKER_TIMEOUTS)
        if threshold and self.timeouts >= threshold:
            seconds = float(auth_settings.CIRCUIT_BREAKER_SECONDS)
            self.open_until = self.clock() + seconds
            outages.redis.failed(f"circuit breaker opened for {seconds:g} s")

    def _recovered(self) -> None:
        self.timeouts = 0
        if outages.redis.recovered():
            self.troubled = False


_guard = _Guard()
on_change(reset)


def breaker_open() -> bool:
    """Whether the circuit breaker refuses Redis at the moment (no I/O)."""
    return bool(_guard.open_until) and _guard.clock() < _guard.open_until


def guard() -> _Guard:
    """``with guard(): ...`` — any Redis failure in the block becomes :class:`AuthUnavailable`."""
    return _guard


C = TypeVar("C")
R = TypeVar("R")


def charge_then_run(
    charge: Callable[[], C],
    run: Callable[[], R],
    give_back: Callable[[], Any] | None,
    *,
    refused: Callable[[C], bool],
    kept: Callable[[R], bool],
) -> tuple[C, R | None]:
    """Two hash slots on Redis Cluster (a client IP's limit and an address' keys), two
    scripts: ``charge()`` the IP's limit; if ``refused(answer)``, stop there and return
    ``(answer, None)``. Else ``run()`` the address' script and return ``(answer, result)``;
    when it raises, or ``kept(result)`` is false, ``give_back()`` the charge, so a request
    the second step refused or failed costs the IP nothing, as in one script on a single
    Redis. ``give_back=None``: nothing was charged that could be given back.

    Giving back is best effort: the caller's answer (a 429, or the 503 of the failed step)
    matters more than one count, which leaves its sliding hour anyway."""
    answer = charge()
    if refused(answer):
        return answer, None
    try:
        result = run()
    except BaseException:
        _give_back(give_back)
        raise
    if not kept(result):
        _give_back(give_back)
    return answer, result


def _give_back(give_back: Callable[[], Any] | None) -> None:
    if give_back is None:
        return
    try:
        with _guard:
            give_back()
    except AuthUnavailable:
        logger.warning("Could not give back a client IP's count")


def decode(value: bytes | str | None) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.decode()
