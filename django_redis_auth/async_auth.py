"""The async authentication path: ``RedisJWTAuthentication`` on ``redis.asyncio``.

Why: under ASGI, a synchronous authentication class costs every authenticated request a
hop to a worker thread (``sync_to_async``) just to wait for Redis. This path awaits the
same single ``MGET`` on the event loop instead. It is the synchronous path with only the
I/O swapped: the same token validation (simplejwt's checks, ``token_validation``,
``verified_tokens``; CPU only), the same keys (``revocation.check_keys``) and verdict
(``revocation.verdict``), the same cached-row parsing (``users_cache.deserialize``), the same
Lua refill script (``fill_user.lua`` via ``async_store.script``) and the same outage
handling (``store.guard()``: 503 ``auth_unavailable``, or ``FAIL_OPEN``). A warm request
is one Redis round trip and no database query; a cache miss reads the row in a thread
(Django's ORM is synchronous) and refills the cache.

Use :class:`AsyncRedisJWTAuthentication` in adrf's async views (``adrf.views.APIView``),
and ``ninja_auth.AsyncRedisJWTBearer`` in django-ninja's async operations.
"""

from __future__ import annotations

import contextlib
from typing import Any

from asgiref.sync import sync_to_async
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import Token

from django_redis_auth import async_store, keys, store
from django_redis_auth.accounts import users_cache
from django_redis_auth.authentication import RedisJWTAuthentication
from django_redis_auth.exceptions import AuthUnavailable
from django_redis_auth.tokens import revocation


async def check(token: Token) -> bytes | None:
    """:func:`revocation.check` on the event loop: one MGET, the same verdict."""
    request_keys, epoch = revocation.check_keys(token)
    with store.guard():
        values = await async_store.get_client().mget(request_keys)
    return revocation.verdict(values, epoch)


async def get_user(user_id: Any, cached: bytes | str | None) -> Any | None:
    """:func:`users_cache.get_user` for an entry the caller already fetched: built from
    ``cached`` when usable, else read from the database (in a thread) and re-cached under
    the same version guard as the synchronous refill."""
    if cached is not None:
        user = users_cache.deserialize(cached)
        if user is not None:
            return user
    client = async_store.get_client()
    with store.guard():
        version = await client.get(keys.cached_user_version(user_id))
    user = await sync_to_async(users_cache.load_from_db)(user_id)
    if user is not None:
        fill_keys, fill_args = users_cache.fill_call(user_id, user, version)
        # As the synchronous refill: a refused write (maxmemory with noeviction) still
        # serves the row; a later request refills the cache.
        with contextlib.suppress(AuthUnavailable), store.guard():
            await async_store.script("fill_user")(keys=fill_keys, args=fill_args)
    return user


class AsyncRedisJWTAuthentication(RedisJWTAuthentication):
    """``RedisJWTAuthentication`` whose ``authenticate`` is a coroutine (adrf awaits it).

    The hooks stay simplejwt's (``get_header``, ``get_raw_token``, ``get_validated_token``,
    all synchronous and I/O-free); ``aget_user`` is the async ``get_user``. Only for async
    views: DRF's synchronous ``APIView`` does not await an authenticator.
    """

    async def authenticate(self, request: Any) -> tuple[Any, Token] | None:  # type: ignore[override]
        header = self.get_header(request)
        if header is None:
            return None
        raw_token = self.get_raw_token(header)
        if raw_token is None:
            return None
        validated_token = self.get_validated_token(raw_token)
        return await self.aget_user(validated_token), validated_token

    async def aget_user(self, validated_token: Token) -> Any:
        user_id = validated_token[jwt_settings.USER_ID_CLAIM]
        try:
            cached = await check(validated_token)
        except AuthUnavailable:
            self.fail_open(user_id)
            user = await sync_to_async(users_cache.load_from_db)(user_id)
        else:
            user = await get_user(user_id, cached)
        return self.accept(user)
