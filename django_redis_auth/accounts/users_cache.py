"""Cache-aside user loader: an authenticated request builds ``request.user`` from Redis.

What is cached: every concrete, non-many-to-many field of the user model except
``password`` (``id``, ``email``, ``is_active``, ``is_staff``, ``is_superuser``,
``last_login``, ``email_verified``, … and custom fields). The cached user is a real model
instance with ``password`` *deferred*: reading it loads it from the database, and
``save()`` writes only the loaded fields, so a cached user can never blank a password.
Not cached: groups, permissions and other relations (reading them queries the database as
usual). Entries live ``USER_CACHE_TTL`` seconds and are dropped when the row is saved or
deleted (see ``receivers``). A refill from the database is conditional on the user's cache
version being unchanged since before the row was read, so a request that read the row just
before a change cannot write the old row back after the change dropped it.
"""

from __future__ import annotations

import contextlib
import datetime
import decimal
import hashlib
import json
import logging
import secrets
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any, NamedTuple

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, router
from django.db.models import DEFERRED
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from django_redis_auth import keys, store
from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions import AuthUnavailable
from django_redis_auth.tokens.memo import BoundedMemo

__all__ = [
    "get_user",
    "invalidate",
    "load_from_db",
]

logger = logging.getLogger("django_redis_auth")

FORMAT_VERSION = 2
NEVER_CACHED = frozenset({"password"})


class _Encoder(DjangoJSONEncoder):
    # DjangoJSONEncoder cuts datetimes to milliseconds (ECMA-262); a cached user must equal
    # the row, so keep full precision.
    def default(self, o: Any) -> Any:
        if isinstance(o, datetime.datetime | datetime.time):
            return o.isoformat()
        return super().default(o)


@cache
def _fields(model: type[models.Model]) -> tuple[models.Field, ...]:
    return tuple(f for f in model._meta.concrete_fields if f.attname not in NEVER_CACHED)


# Fields whose JSON value is exactly what their ``to_python`` returns (exact classes only:
# a subclass may convert differently), so reading them back needs no conversion.
_AS_JSON = frozenset(
    {
        models.AutoField,
        models.BigAutoField,
        models.SmallAutoField,
        models.IntegerField,
        models.BigIntegerField,
        models.SmallIntegerField,
        models.PositiveIntegerField,
        models.PositiveBigIntegerField,
        models.PositiveSmallIntegerField,
        models.BooleanField,
        models.CharField,
        models.EmailField,
        models.SlugField,
        models.TextField,
    }
)


class _Layout(NamedTuple):
    attnames: tuple[str, ...]
    # Digest of the cached fields' names and types: an entry written before a field was
    # added, removed, renamed or retyped is not read (the row is loaded and re-cached).
    signature: str
    converters: tuple[Callable[[Any], Any] | None, ...]
    # Where, among the model's concrete fields, the fields not cached go (``password``): a
    # row of every field, those ``DEFERRED``, is what ``Model.from_db`` builds from a short
    # row anyway, by a membership scan per field (~2.4 µs of ~8).
    deferred_at: tuple[int, ...]


@cache
def _layout(model: type[models.Model]) -> _Layout:
    fields = _fields(model)
    described = repr([(f.attname, type(f).__module__, type(f).__qualname__) for f in fields])
    return _Layout(
        attnames=tuple(f.attname for f in fields),
        signature=hashlib.sha256(described.encode()).hexdigest()[:8],
        converters=tuple(None if type(f) in _AS_JSON else f.to_python for f in fields),
        deferred_at=tuple(
            i for i, f in enumerate(model._meta.concrete_fields) if f.attname in NEVER_CACHED
        ),
    )


def serialize(user: models.Model) -> str:
    """``[FORMAT_VERSION, layout signature, value, ...]``, values in ``_fields`` order: an
    array parses faster than an object, and the signature stands in for the names."""
    layout = _layout(type(user))
    return json.dumps(
        [FORMAT_VERSION, layout.signature, *(getattr(user, name) for name in layout.attnames)],
        cls=_Encoder,
        separators=(",", ":"),
    )


def _parse(model: type[models.Model], raw: bytes | str) -> tuple[Any, ...] | None:
    """The row ``raw`` holds: a value per concrete field of ``model``, ``DEFERRED`` for the
    fields not cached; ``None`` if the entry is unusable."""
    layout = _layout(model)
    try:
        data = json.loads(raw)
        if (
            type(data) is not list
            or len(data) != len(layout.attnames) + 2
            or data[0] != FORMAT_VERSION
            or data[1] != layout.signature
        ):
            return None
        row = [
            value if convert is None else convert(value)
            for convert, value in zip(layout.converters, data[2:], strict=True)
        ]
    except (ValueError, TypeError, AttributeError, ValidationError):
        logger.warning("Discarding unreadable cached user entry")
        return None
    for position in layout.deferred_at:  # ascending: each insert keeps the later ones right
        row.insert(position, DEFERRED)
    return tuple(row)


# Parsed rows of recently seen entries, keyed by the entry's exact bytes: the same user
# sends many requests, and the bytes fully determine the row, so there is nothing to
# invalidate (a changed user is a different entry). Redis is still read on every request;
# this only skips re-parsing identical JSON. Rows holding mutable values (a JSONField dict,
# say) are not kept, so an instance can never alter what the next request sees.
# What it buys (benchmarks, 2026-12-07, the benchmark's user model): JSON to instance in
# 6.9 µs for a user seen among the last 1,024 instead of 12.5 µs without the memo (json.loads,
# the datetime conversions, then Model.from_db either way); a user not among them pays
# ~1 µs more than without it (13.6 µs), for the look-up and the insertion.
_ROWS = BoundedMemo(1024)
_IMMUTABLE = (
    str,
    int,
    float,
    bool,
    type(None),
    datetime.date,
    datetime.time,
    datetime.timedelta,
    decimal.Decimal,
    uuid.UUID,
)


def _instance(model: type[models.Model], row: tuple[Any, ...]) -> Any:
    """The instance Django builds for ``row`` (see :func:`_parse`) read from the database,
    ``password`` deferred: ``Model.from_db`` (so a model's own ``from_db``, ``__init__`` and
    its ``pre_init`` / ``post_init`` receivers run as for any query)."""
    return model.from_db(router.db_for_read(model), list(_layout(model).attnames), list(row))


def deserialize(raw: bytes | str) -> Any | None:
    """A user instance from its cached JSON, or ``None`` if the entry is unusable
    (another format version, or the model's fields changed since it was written).

    Every call returns a fresh instance, built by ``Model.from_db``."""
    model = get_user_model()
    memo_key = (model, raw)
    row = _ROWS.get(memo_key)
    if row is None:
        row = _parse(model, raw)
        if row is None:
            return None
        if all(v is DEFERRED or isinstance(v, _IMMUTABLE) for v in row):
            _ROWS.put(memo_key, row)
    return _instance(model, row)


def load_from_db(user_id: Any) -> Any | None:
    model = get_user_model()
    try:
        return model._default_manager.get(**{jwt_settings.USER_ID_FIELD: user_id})
    except (model.DoesNotExist, ValueError, TypeError):
        return None


def cached_version(user_id: Any) -> bytes | None:
    """The user's cache version, to read *before* reading the row from the database."""
    with store.guard():
        return store.get_client().get(keys.cached_user_version(user_id))


def fill(user_id: Any, user: models.Model, version: bytes | str | None) -> bool:
    """Cache ``user`` unless it was invalidated since ``version`` (from
    :func:`cached_version`, read before the row) — so a reader that loaded the row just
    before a change committed cannot put the old row back (a revoked ``is_staff``, say)
    for ``USER_CACHE_TTL``. Returns whether the entry was written."""
    fill_keys, fill_args = fill_call(user_id, user, version)
    with store.guard():
        written = store.script("fill_user")(keys=fill_keys, args=fill_args)
    return bool(written)


def fill_call(user_id: Any, user: models.Model, version: bytes | str | None) -> tuple[list, list]:
    """KEYS and ARGV of ``fill_user.lua`` for :func:`fill` (and its async twin)."""
    return (
        [keys.cached_user_version(user_id), keys.cached_user(user_id)],
        [version or "", serialize(user), int(auth_settings.USER_CACHE_TTL)],
    )


_UNFETCHED: Any = object()


def get_user(user_id: Any, cached: bytes | str | None = _UNFETCHED) -> Any | None:
    """The user for ``user_id``: from ``cached`` (the raw entry the caller already fetched
    in its own round trip) when usable, else from the database, refilling the cache.
    Without ``cached`` the entry is read from Redis first."""
    if cached is _UNFETCHED:
        with store.guard():
            cached = store.get_client().get(keys.cached_user(user_id))
    if cached is not None:
        user = deserialize(cached)
        if user is not None:
            return user
    version = cached_version(user_id)
    user = load_from_db(user_id)
    if user is not None:
        # Redis answered the reads (revocation is checked) but may refuse the write, e.g. at
        # maxmemory with noeviction: serve the row anyway; a later request refills the cache.
        with contextlib.suppress(AuthUnavailable):
            fill(user_id, user, version)
    return user


def invalidate(user_id: Any) -> None:
    """Drop the cached user and move its version on, in one round trip. The version goes
    first: a concurrent refill either lands before it (and is then deleted) or sees the new
    version and does not land."""
    ttl = int(auth_settings.USER_CACHE_TTL)
    with store.guard():
        pipe = store.get_client().pipeline(transaction=False)
        pipe.set(keys.cached_user_version(user_id), secrets.token_urlsafe(9), ex=ttl)
        pipe.delete(keys.cached_user(user_id))
        pipe.execute()
