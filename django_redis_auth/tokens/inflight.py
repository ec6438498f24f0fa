"""A token's first request: the revocation read is sent *before* the signature check.

Why: on a token's first request in this process the two costs of authentication come one
after the other — PyJWT and simplejwt check the signature and claims (~40 µs of CPU), then
the ``MGET`` of revocation state and cached user waits for Redis (a round trip, idle time).
Nothing in the check needs Redis and nothing in the read needs the check's answer, only the
keys, which the token names. So the keys are read from the token's (not yet trusted)
payload, the ``MGET`` goes out, the signature is checked while Redis answers, and the reply
is collected afterwards: the request costs about the larger of the two, not their sum.

Why it is safe:

* nothing read is *used* before the signature is verified: the reply is only looked at
  once the verified token names exactly the same keys (else the read is made again, from
  the verified claims, exactly as without this module);
* a forged token can make the server read four keys of its choosing, and nothing else:
  only names of this package's per-user keys are built (``keys.request_keys``), from claims
  of bounded length and plain types, and the reply is discarded; a token that names no
  such keys, or has expired, is not read ahead at all;
* the reply is always read before the connection goes back to the pool, also when the
  check fails (else the next command on that connection would get this reply); if reading
  fails, the connection is closed instead;
* every failure of the early read falls back to the ordinary read with its own retries,
  503 and ``FAIL_OPEN`` handling (``revocation.check``), except a timeout, which is the
  outage itself and goes through the same guard (``store.guard``: 503, circuit breaker);
* only a plain ``redis.Redis`` client with a connection pool (django-redis' default, and
  fakeredis) is read ahead; a cluster client, a single-connection client, or an open
  circuit breaker takes the ordinary path.

Uses redis-py's public connection API only: ``ConnectionPool.get_connection`` and
``release``, ``Connection.send_command``, ``Redis.parse_response``.
"""

from __future__ import annotations

import binascii
import contextlib
import json
import time
from base64 import urlsafe_b64decode
from typing import Any

from redis import Redis
from redis.exceptions import RedisClusterException, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.tokens import Token

from django_redis_auth import keys, store
from django_redis_auth.exceptions import AuthUnavailable
from django_redis_auth.tokens import claims, revocation

__all__ = ["InFlight", "send"]

# Ids this package mints are ~16 characters; a longer claim is not one of ours.
_MAX_CLAIM = 64
_MAX_BYTES = 4096


class InFlight:
    """An ``MGET`` sent and not yet read. :meth:`check` is ``revocation.check`` for the
    token whose unverified payload named the keys; :meth:`close` must follow in every case
    (it reads and drops an unread reply, so the connection can be reused)."""

    __slots__ = ("client", "connection", "request_keys")

    def __init__(self, client: Redis, connection: Any, request_keys: list[str]) -> None:
        self.client = client
        self.connection = connection
        self.request_keys = request_keys

    def check(self, token: Token) -> bytes | None:
        """``revocation.check(token)``, answered by the reply already on its way."""
        request_keys, epoch = revocation.check_keys(token)
        if request_keys != self.request_keys:
            self.close()  # first, so the ordinary read can have the connection
            return revocation.check(token)
        values = self._collect()
        if values is None:
            return revocation.check(token)
        return revocation.verdict(values, epoch)

    def close(self) -> None:
        """Drop the reply if it was not read (the token failed its check), and give the
        connection back; never raises: the request's own answer is already decided."""
        if self.connection is None:
            return
        with contextlib.suppress(AuthUnavailable):  # a timeout; the connection is closed
            self._collect()

    def _collect(self) -> list[Any] | None:
        """The reply, or ``None`` when reading it failed for a reason worth one more try
        (a connection the server had closed); a timeout raises :class:`AuthUnavailable`."""
        connection, self.connection = self.connection, None
        pool = self.client.connection_pool
        try:
            return self.client.parse_response(connection, "MGET")
        except RedisTimeoutError:
            connection.disconnect()
            with store.guard():  # the outage the ordinary read would meet: 503 or fail open
                raise
        except (RedisError, OSError):
            connection.disconnect()
            return None
        finally:
            pool.release(connection)


def send(raw: bytes | str) -> InFlight | None:
    """Send the ``MGET`` of the keys ``raw``'s payload names, unverified; ``None`` when
    ``raw`` names none of ours, the client cannot read ahead, or sending failed."""
    request_keys = _named_keys(raw)
    if request_keys is None:
        return None
    try:
        client = store.get_client()
    except (RedisError, RedisClusterException, OSError):
        return None  # a cluster client that reaches no node; the ordinary read says 503
    if not isinstance(client, Redis):  # RedisCluster is not one
        return None
    if client.connection is not None or store.breaker_open():
        return None
    pool = client.connection_pool
    try:
        connection = pool.get_connection()
    except (RedisError, OSError):
        return None  # the ordinary read meets the same failure and answers for it
    try:
        connection.send_command("MGET", *request_keys)
    except (RedisError, OSError):
        connection.disconnect()
        pool.release(connection)
        return None
    return InFlight(client, connection, request_keys)


def _named_keys(raw: bytes | str) -> list[str] | None:
    """The request keys a token's payload names, or ``None``. Reading, not validating:
    nothing here is trusted, it only chooses what to read."""
    if isinstance(raw, str):
        raw = raw.encode("ascii", "ignore")
    if type(raw) is not bytes or len(raw) > _MAX_BYTES:
        return None
    parts = raw.split(b".")
    if len(parts) != 3:
        return None
    segment = parts[1]
    try:
        payload = json.loads(urlsafe_b64decode(segment + b"=" * (-len(segment) % 4)))
        user_id = payload[jwt_settings.USER_ID_CLAIM]
        family = payload[claims.FAMILY_CLAIM]
        jti = payload[jwt_settings.JTI_CLAIM]
        exp = payload["exp"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        return None
    if type(family) is not str or type(jti) is not str or type(user_id) not in (int, str):
        return None
    if max(len(family), len(jti), len(str(user_id))) > _MAX_CLAIM:
        return None
    if type(exp) not in (int, float) or exp < time.time():
        return None  # expired (or no expiry): the check refuses it without Redis
    return keys.request_keys(user_id, family, jti)
