"""Section 1: what one authenticated request costs, per design, on a DRF request.

Every variant authenticates the same way DRF does (``authenticate(request)`` on a
``rest_framework.request.Request``) with warm caches and a valid token. The floors (PyJWT
decode alone, one Redis GET) show what a design that checks the signature and Redis on
every request cannot beat. Ours checks a token's signature on its first request in this
process and afterwards only its expiry (``verified_tokens``), so it is measured both ways:
"ours" is a token's later requests (the common case: one access token serves every request
of its lifetime), "a token's first request" clears that memo before each call, and "many
users" cycles through the tokens of many users (more tokens than the memo holds, more users
than the parsed-row memo holds), so every request is a token's first in the process.

The floors are what any design that checks the signature with PyJWT and Redis on every
request cannot beat: PyJWT's decode, one round trip, and (the floor the targets use, as
issue #17 defines it) one MGET of the same keys ours reads plus ``json.loads`` of the
cached row. The many-users floor does the same over the same cycle of tokens.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jwt
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import AccessToken

from benchmarks.alternatives import DBBlacklistJWTAuthentication, NaiveRedisJWTAuthentication
from benchmarks.harness import Op
from django_redis_auth import keys, store
from django_redis_auth.authentication import RedisJWTAuthentication
from django_redis_auth.tokens import verified as verified_tokens
from django_redis_auth.tokens.issuing import issue_token_pair


def drf_request(token: str) -> Request:
    return Request(APIRequestFactory().get("/auth/me/", HTTP_AUTHORIZATION=f"Bearer {token}"))


def cycling(auth_class: type, tokens: list[str]) -> Callable[[int], object]:
    """``authenticate()`` on the request of the next token, round and round: the position
    is the op's own (not the harness' index, which restarts with every ``measure``), so a
    token comes back only after every other one, however often the op is measured."""
    authenticator = auth_class()
    requests = [drf_request(token) for token in tokens]
    count = len(requests)
    position = itertools.count()

    def run(_i: int) -> object:
        result = authenticator.authenticate(requests[next(position) % count])
        if result is None:  # pragma: no cover - a broken setup, not a measurement
            raise RuntimeError(f"{auth_class.__name__} did not authenticate")
        return result

    for _ in range(count):  # fail fast; fills every user's cache entry
        run(0)
    return run


def decode_mget_parse(tokens: list[str]) -> Callable[[int], object]:
    """The floor over ``tokens``: PyJWT decode, one MGET of the keys ours reads for the
    token, ``json.loads`` of the cached row."""
    key, algorithm = jwt_settings.SIGNING_KEY, jwt_settings.ALGORITHM
    client = store.get_client()
    prepared = []
    for token in tokens:
        claims = jwt.decode(token, key, algorithms=[algorithm])
        prepared.append((token, keys.request_keys(claims["user_id"], claims["fam"], claims["jti"])))
    count = len(prepared)
    position = itertools.count()

    def run(_i: int) -> object:
        token, request_keys = prepared[next(position) % count]
        jwt.decode(token, key, algorithms=[algorithm])
        return json.loads(client.mget(request_keys)[3])

    return run


def authenticating(auth_class: type, token: str) -> Callable[[int], object]:
    authenticator = auth_class()
    request = drf_request(token)

    def run(_i: int) -> object:
        result = authenticator.authenticate(request)
        if result is None:  # pragma: no cover - a broken setup, not a measurement
            raise RuntimeError(f"{auth_class.__name__} did not authenticate")
        return result

    run(0)  # fail fast, and warm whatever the design caches
    return run


@dataclass
class AuthOps:
    decode: Op
    redis_get: Op
    floor: Op
    floor_mget: Op
    simplejwt: Op
    db_blacklist: Op
    naive_redis: Op
    ours_first_use: Op
    ours: Op
    many_floor: Op | None = None
    ours_many: Op | None = None

    @property
    def all(self) -> list[Op]:
        ops = [
            self.decode,
            self.redis_get,
            self.floor,
            self.floor_mget,
            self.simplejwt,
            self.db_blacklist,
            self.naive_redis,
            self.ours_first_use,
            self.ours,
        ]
        if self.ours_many is not None:
            ops += [self.many_floor, self.ours_many]
        return ops


def build_ops(user: Any, many: Any = None) -> AuthOps:
    ours_token = issue_token_pair(user).access
    plain_token = str(AccessToken.for_user(user))
    key = jwt_settings.SIGNING_KEY
    algorithm = jwt_settings.ALGORITHM
    client = store.get_client()
    user_key = keys.cached_user(user.pk)
    ours = authenticating(RedisJWTAuthentication, ours_token)  # also fills the user cache

    first_use = authenticating(RedisJWTAuthentication, ours_token)

    def ours_first_use(i: int) -> object:
        # As if each request brought a token this process had not seen: validated in full.
        verified_tokens.clear()
        return first_use(i)

    def decode(_i: int) -> object:
        return jwt.decode(ours_token, key, algorithms=[algorithm])

    def redis_get(_i: int) -> object:
        return client.get(user_key)

    def floor(_i: int) -> object:
        jwt.decode(ours_token, key, algorithms=[algorithm])
        return client.get(user_key)

    many_ops = {}
    if many is not None:
        many_floor = Op(
            f"many-users floor: PyJWT decode + MGET + json.loads, cycling {len(many.tokens):,} "
            f"tokens of {len(many.users):,} users",
            decode_mget_parse(many.tokens),
        )
        many_ops = {
            "many_floor": many_floor,
            "ours_many": Op(
                f"ours: many users ({len(many.tokens):,} tokens of {len(many.users):,} users "
                "cycled, each a token's first request in the process)",
                cycling(RedisJWTAuthentication, many.tokens),
                ref=many_floor,
            ),
        }
    floor_mget = Op(
        "floor: PyJWT decode + MGET of the request's keys + json.loads of the cached row",
        decode_mget_parse([ours_token]),
    )
    return AuthOps(
        decode=Op("floor: PyJWT decode alone", decode),
        redis_get=Op("floor: one Redis GET", redis_get),
        floor=Op("floor: PyJWT decode + one Redis GET", floor),
        floor_mget=floor_mget,
        simplejwt=Op(
            "simplejwt JWTAuthentication (stateless, user from Postgres)",
            authenticating(JWTAuthentication, plain_token),
        ),
        db_blacklist=Op(
            "simplejwt + DB blacklist check (token_blacklist tables)",
            authenticating(DBBlacklistJWTAuthentication, plain_token),
        ),
        naive_redis=Op(
            "naive Redis EXISTS + user from Postgres",
            authenticating(NaiveRedisJWTAuthentication, plain_token),
        ),
        ours_first_use=Op(
            "ours: a token's first request (signature checked, warm user cache)",
            ours_first_use,
        ),
        ours=Op("ours: RedisJWTAuthentication (warm user cache)", ours),
        **many_ops,
    )
