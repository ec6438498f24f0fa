"""django-ninja integration: bearer authentication over the same per-request check.

``RedisJWTBearer`` (synchronous operations) and ``AsyncRedisJWTBearer`` (``async def``
operations, on ``redis.asyncio``, see ``async_auth``) validate the token exactly as
``RedisJWTAuthentication`` does — simplejwt's checks, one Redis round trip for revocation
and the cached user, no database query on a warm cache, 503 when Redis is unreachable —
and return the user (django-ninja stores it as ``request.auth``; ``request.user`` is set
too)::

    from ninja import NinjaAPI
    from django_redis_auth.ninja_auth import AsyncRedisJWTBearer, install

    api = NinjaAPI(auth=AsyncRedisJWTBearer())
    install(api)  # errors as {"detail", "code"}, like the rest of the package

Without :func:`install` errors are still clean answers with the right status, in
django-ninja's own shape (``{"detail": ...}``).
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja.errors import HttpError
from ninja.security import HttpBearer
from rest_framework.exceptions import APIException

from django_redis_auth.async_auth import AsyncRedisJWTAuthentication
from django_redis_auth.authentication import RedisJWTAuthentication
from django_redis_auth.exceptions import detail_and_code


class AuthError(HttpError):
    """An authentication failure with the package's stable ``code``."""

    def __init__(self, exc: APIException, www_authenticate: str | None) -> None:
        detail, code = detail_and_code(exc)
        super().__init__(exc.status_code, detail)
        self.code = code
        self.headers = {"WWW-Authenticate": www_authenticate} if www_authenticate else {}


def _failed(authentication: RedisJWTAuthentication, exc: APIException) -> AuthError:
    header = authentication.authenticate_header(None) if exc.status_code == 401 else None
    return AuthError(exc, header)


class RedisJWTBearer(HttpBearer):
    authentication_class: type[RedisJWTAuthentication] = RedisJWTAuthentication

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        authentication = self.authentication_class()
        try:
            validated = authentication.get_validated_token(token.encode())
            user = authentication.get_user(validated)
        except APIException as exc:
            raise _failed(authentication, exc) from exc
        request.user = user
        return user


class AsyncRedisJWTBearer(HttpBearer):
    authentication_class: type[AsyncRedisJWTAuthentication] = AsyncRedisJWTAuthentication

    async def authenticate(self, request: HttpRequest, token: str) -> Any:
        authentication = self.authentication_class()
        try:
            validated = authentication.get_validated_token(token.encode())
            user = await authentication.aget_user(validated)
        except APIException as exc:
            raise _failed(authentication, exc) from exc
        request.user = user
        return user


def install(api: Any) -> None:
    """Render :class:`AuthError` as ``{"detail", "code"}`` on ``api`` (a ``NinjaAPI``)."""

    def render(request: HttpRequest, exc: AuthError) -> HttpResponse:
        response = api.create_response(
            request, {"detail": exc.message, "code": exc.code}, status=exc.status_code
        )
        for name, value in exc.headers.items():
            response[name] = value
        return response

    api.add_exception_handler(AuthError, render)
