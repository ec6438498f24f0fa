"""DRF authentication: simplejwt's token checks plus Redis revocation, in one round trip."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import Token

from django_redis_auth.accounts import users_cache
from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions import AuthUnavailable, UserInactive, UserNotFound
from django_redis_auth.tokens import claims, inflight, revocation
from django_redis_auth.tokens import validation as token_validation
from django_redis_auth.tokens import verified as verified_tokens

__all__ = [
    "RedisJWTAuthentication",
]

logger = logging.getLogger("django_redis_auth")


class RedisJWTAuthentication(JWTAuthentication):
    """``JWTAuthentication`` whose ``get_user`` also enforces revocation.

    The extension points stay simplejwt's: ``get_header`` → ``get_raw_token`` →
    ``get_validated_token`` (signature, expiry, type; no I/O; the configured token classes
    verifying with the key set, see ``token_validation``; a token this process validated
    before only has its expiry re-checked, see ``verified_tokens``) → ``get_user``, which makes
    the request's single Redis round trip, which returns the revocation state *and* the cached
    user together; only a cache miss touches the database (and refills the cache).
    """

    def authenticate(self, request: Any) -> tuple[Any, Token] | None:
        """simplejwt's sequence; on a token's first request its Redis read is sent before
        the signature check and collected after it (``inflight``: same checks, same
        answers, one round trip, less waiting). A subclass with its own ``get_user`` gets
        simplejwt's sequence as is."""
        if type(self).get_user is not RedisJWTAuthentication.get_user:
            return super().authenticate(request)
        header = self.get_header(request)
        if header is None:
            return None
        raw_token = self.get_raw_token(header)
        if raw_token is None:
            return None
        token = verified_tokens.recall(raw_token)
        if token is not None:
            return self.get_user(token), token
        pending = inflight.send(raw_token)
        if pending is None:
            token = self.get_validated_token(raw_token)
            return self.get_user(token), token
        try:
            token = self.get_validated_token(raw_token)
            return self.user_for(token, pending.check), token
        finally:
            pending.close()

    def get_validated_token(self, raw_token: bytes) -> Token:
        token = verified_tokens.recall(raw_token)
        if token is None:
            token = token_validation.validate(raw_token)  # simplejwt's checks, PyJWT's decode
            claims.of(token)  # refuse tokens minted elsewhere with the same key
            verified_tokens.remember(raw_token, token)
        return token

    def get_user(self, validated_token: Token) -> Any:
        return self.user_for(validated_token, revocation.check)

    def user_for(self, validated_token: Token, check: Callable[[Token], bytes | None]) -> Any:
        """The user of ``validated_token`` once ``check`` (the revocation read, which also
        brings the cached user) has passed."""
        user_id = validated_token[jwt_settings.USER_ID_CLAIM]
        try:
            cached = check(validated_token)
        except AuthUnavailable:
            self.fail_open(user_id)
            user = users_cache.load_from_db(user_id)
        else:
            user = users_cache.get_user(user_id, cached)
        return self.accept(user)

    def fail_open(self, user_id: Any) -> None:
        """Called while handling :class:`AuthUnavailable`: re-raise it (503), unless
        ``FAIL_OPEN`` says to go on (logged)."""
        if not auth_settings.FAIL_OPEN:
            raise  # the AuthUnavailable the caller is handling
        # No user id: a log line must not say who used the service during the outage.
        logger.warning(
            "django_redis_auth FAIL_OPEN: Redis unreachable, accepting a token without "
            "checking revocation"
        )

    def accept(self, user: Any) -> Any:
        """``user`` if it may authenticate, else 401 (shared by the sync and async paths)."""
        if user is None:
            raise UserNotFound()
        if not self.user_can_authenticate(user):
            raise UserInactive()
        return user

    def user_can_authenticate(self, user: Any) -> bool:
        # simplejwt's own switch, read as simplejwt reads it. (Its CHECK_REVOKE_TOKEN is not
        # honoured: password changes revoke through signals, see check W005.)
        return not jwt_settings.CHECK_USER_IS_ACTIVE or getattr(user, "is_active", True)
