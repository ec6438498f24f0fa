"""Bulk state for the benchmarks: users, revoked tokens in Redis, blacklist rows in Postgres.

Bulk loads use the same key functions as the package (``django_redis_auth.keys``) and the
same value and expiry shape as ``revocation.revoke_token``; Postgres rows are generated
server-side (``generate_series``) because a million ORM inserts would dominate the run.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

from django_redis_auth import keys, store

REVOKED_KEY_TTL = 3 * 3600  # outlives the run; real records die with their token
BATCH = 10_000
# A realistic encoded JWT is ~250 characters; the blacklist rows carry one.
FAKE_TOKEN = "eyJ" + "x" * 247


def make_user(email: str) -> Any:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user(
        email=email, password="bench password 1234", email_verified=True
    )


def bulk_users(prefix: str, count: int) -> list[Any]:
    """``count`` users without signals or hashing (only their rows matter)."""
    from django.contrib.auth import get_user_model

    model = get_user_model()
    users = [
        model(email=f"{prefix}{i}@bench.example", password="!", email_verified=True)
        for i in range(count)
    ]
    return model.objects.bulk_create(users, batch_size=2000)


class ManyUsers:
    """``users`` users with ``per_user`` access tokens each (signed in through the package,
    so each token has its live session family), every user's cache entry warm: what a
    server sees when many clients each bring their own token."""

    def __init__(self, users: int, per_user: int, prefix: str = "bench-many-") -> None:
        from django_redis_auth.tokens.issuing import issue_token_pair

        t0 = time.perf_counter()
        self.users = bulk_users(prefix, users)
        self.tokens = [issue_token_pair(u).access for _ in range(per_user) for u in self.users]
        self.load_s = time.perf_counter() - t0


class CachedUsers:
    """Other users' cache entries and session epochs in Redis (``keys.cached_user``,
    ``keys.epoch``), written in the package's own format (``users_cache.serialize`` of a
    template user under each id), added incrementally: a user cache of N users."""

    def __init__(self, template: Any) -> None:
        from django_redis_auth.accounts import users_cache

        self.count = 0
        entry = json.loads(users_cache.serialize(template))
        assert entry[2] == template.pk  # [version, layout, pk, ...]: the id comes first
        self.head = json.dumps(entry[:2], separators=(",", ":"))[:-1] + ","
        self.tail = "," + json.dumps(entry[3:], separators=(",", ":"))[1:]

    def grow_to(self, target: int) -> float:
        t0 = time.perf_counter()
        client = store.get_client()
        while self.count < target:
            pipe = client.pipeline(transaction=False)
            for i in range(self.count, min(target, self.count + BATCH)):
                user_id = 20_000_000 + i
                entry = f"{self.head}{user_id}{self.tail}"
                pipe.set(keys.cached_user(user_id), entry, ex=REVOKED_KEY_TTL)
                pipe.set(keys.epoch(user_id), os.urandom(9).hex(), ex=REVOKED_KEY_TTL)
            self.count = min(target, self.count + BATCH)
            pipe.execute()
        return time.perf_counter() - t0


class RevokedKeys:
    """Revocation records (``keys.revoked_jti``) for many users, added incrementally."""

    def __init__(self, users: int = 100_000) -> None:
        self.count = 0
        self.users = users

    def grow_to(self, target: int) -> float:
        """Add records until ``target`` exist; returns the seconds it took."""
        t0 = time.perf_counter()
        client = store.get_client()
        while self.count < target:
            pipe = client.pipeline(transaction=False)
            for i in range(self.count, min(target, self.count + BATCH)):
                jti = os.urandom(16).hex()  # simplejwt's jti is uuid4().hex: 32 hex chars
                pipe.set(keys.revoked_jti(10_000_000 + i % self.users, jti), 1, ex=REVOKED_KEY_TTL)
            self.count = min(target, self.count + BATCH)
            pipe.execute()
        return time.perf_counter() - t0


class NaiveKeys(RevokedKeys):
    """The naive design's blacklist: ``bench:bl:<jti>`` per revoked token."""

    def grow_to(self, target: int) -> float:
        from benchmarks.alternatives import NAIVE_PREFIX

        t0 = time.perf_counter()
        client = store.get_client()
        while self.count < target:
            pipe = client.pipeline(transaction=False)
            for _ in range(self.count, min(target, self.count + BATCH)):
                pipe.set(NAIVE_PREFIX + os.urandom(16).hex(), 1, ex=REVOKED_KEY_TTL)
            self.count = min(target, self.count + BATCH)
            pipe.execute()
        return time.perf_counter() - t0


class BlacklistRows:
    """Revoked tokens in simplejwt's ``token_blacklist`` tables (OutstandingToken +
    BlacklistedToken), owned by ``user_id``."""

    def __init__(self, user_id: int) -> None:
        self.user_id = user_id
        self.count = self._existing()

    def _existing(self) -> int:
        from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken

        return BlacklistedToken.objects.count()

    def grow_to(self, target: int) -> float:
        from django.db import connection
        from rest_framework_simplejwt.token_blacklist.models import (
            BlacklistedToken,
            OutstandingToken,
        )

        if target <= self.count:
            return 0.0
        t0 = time.perf_counter()
        outstanding = OutstandingToken._meta.db_table
        blacklisted = BlacklistedToken._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH new AS (
                    INSERT INTO {outstanding} (user_id, jti, token, created_at, expires_at)
                    SELECT %s, md5('bench-' || g || '-' || random()), %s,
                           now() - interval '1 minute', now() + interval '1 day'
                    FROM generate_series(%s, %s) AS g
                    RETURNING id
                )
                INSERT INTO {blacklisted} (token_id, blacklisted_at)
                SELECT id, now() FROM new
                """,
                [self.user_id, FAKE_TOKEN, self.count + 1, target],
            )
            cursor.execute(f"ANALYZE {outstanding}")
            cursor.execute(f"ANALYZE {blacklisted}")
        self.count = target
        return time.perf_counter() - t0
