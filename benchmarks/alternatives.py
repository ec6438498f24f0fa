"""The designs ours is compared with, written the way projects usually write them."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Max, Q
from django.utils import timezone
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import Token

from django_redis_auth import store

NAIVE_PREFIX = "bench:bl:"


class DBBlacklistJWTAuthentication(JWTAuthentication):
    """simplejwt + the ``token_blacklist`` tables checked for the access token's jti on
    every request: the common "logout for access tokens" recipe (one query per request)."""

    def get_validated_token(self, raw_token: bytes) -> Token:
        from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

        token = super().get_validated_token(raw_token)
        if BlacklistedToken.objects.filter(token__jti=token[jwt_settings.JTI_CLAIM]).exists():
            raise InvalidToken("Token is blacklisted")
        return token


class NaiveRedisJWTAuthentication(JWTAuthentication):
    """A Redis blacklist bolted on: EXISTS on the jti, then the user row from the database
    (two stores per request)."""

    def get_validated_token(self, raw_token: bytes) -> Token:
        token = super().get_validated_token(raw_token)
        if store.get_client().exists(NAIVE_PREFIX + str(token[jwt_settings.JTI_CLAIM])):
            raise InvalidToken("Token is blacklisted")
        return token


# -- one-time codes in a Postgres table ---------------------------------------------------

CODE_TTL = timedelta(minutes=10)
COOLDOWN = timedelta(seconds=60)
HOURLY_CAP = 10
MAX_ATTEMPTS = 3


def _digest(code: str) -> str:
    return hmac.new(settings.SECRET_KEY.encode(), code.encode(), hashlib.sha256).hexdigest()


class CodeRefused(Exception):
    pass


def pg_issue_code(email: str, purpose: str) -> str:
    """Cooldown + hourly cap (one aggregate), invalidate earlier codes, insert the new one."""
    from benchmarks.models import PgCode

    now = timezone.now()
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        stats = PgCode.objects.filter(
            email=email, created_at__gte=now - timedelta(hours=1)
        ).aggregate(n=Count("id"), last=Max("created_at", filter=Q(purpose=purpose)))
        if stats["n"] >= HOURLY_CAP or (stats["last"] and now - stats["last"] < COOLDOWN):
            raise CodeRefused("rate limited")
        PgCode.objects.filter(email=email, purpose=purpose, used=False).update(used=True)
        PgCode.objects.create(
            email=email,
            purpose=purpose,
            digest=_digest(code),
            created_at=now,
            expires_at=now + CODE_TTL,
        )
    return code


def pg_verify_code(email: str, purpose: str, code: str) -> None:
    """Lock the newest live row, compare in constant time, count the attempt or consume it."""
    from benchmarks.models import PgCode

    now = timezone.now()
    with transaction.atomic():
        row: Any = (
            PgCode.objects.select_for_update()
            .filter(email=email, purpose=purpose, used=False, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if row is None:
            raise CodeRefused("no code")
        if hmac.compare_digest(row.digest, _digest(code)):
            PgCode.objects.filter(pk=row.pk).update(used=True)
            return
        attempts = row.attempts + 1
        PgCode.objects.filter(pk=row.pk).update(attempts=attempts, used=attempts >= MAX_ATTEMPTS)
        raise CodeRefused("wrong code")
