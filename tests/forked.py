"""Races between processes: the same request from several forked workers at one moment,
against real Redis and Postgres (fakeredis lives in one process, SQLite serializes writers).

The parent closes its connections before forking; each worker opens its own to the same test
database and Redis database, waits on a barrier, runs its call and reports ``"ok"`` or the
refusal's error code."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable
from typing import Any

from django.db import connections


def _worker(barrier: Any, results: Any, call: Callable[[], Any]) -> None:
    from django_redis_auth import store

    store.reset()  # never share the parent's sockets
    barrier.wait(timeout=30)
    try:
        call()
        results.put("ok")
    except Exception as exc:  # the refusal's error code, or what went wrong
        results.put(getattr(exc, "default_code", type(exc).__name__))
    finally:
        connections.close_all()


def race(calls: list[Callable[[], Any]]) -> list[str]:
    """Run each of ``calls`` in its own forked process, all at once; their outcomes, sorted."""
    from django_redis_auth import store

    connections.close_all()
    store.reset()
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(len(calls)), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(barrier, results, call)) for call in calls]
    for p in procs:
        p.start()
    outcomes = [results.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    return sorted(outcomes)
