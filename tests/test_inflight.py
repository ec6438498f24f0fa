"""A token's first request reads Redis while its signature is checked (tokens/inflight.py).

What must hold: the answer is the ordinary one in every case (valid, revoked, forged,
expired, Redis failing half-way), still one round trip, and no reply is ever left on a
pooled connection for the next command to read.
"""

from __future__ import annotations

import base64
import json
import logging

import pytest
import redis.exceptions
from rest_framework.exceptions import AuthenticationFailed

from django_redis_auth import keys, store
from django_redis_auth.authentication import RedisJWTAuthentication
from django_redis_auth.exceptions import AuthUnavailable, TokenRevoked
from django_redis_auth.tokens import inflight, revocation
from django_redis_auth.tokens import verified as verified_tokens
from django_redis_auth.tokens.issuing import issue_token_pair
from tests.conftest import drf_request
from tests.helpers import override_package

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _first_request():
    verified_tokens.clear()  # every request below is the token's first in the process
    yield
    verified_tokens.clear()


def authenticate(access: str):
    verified_tokens.clear()
    return RedisJWTAuthentication().authenticate(drf_request(access))


def forged(access: str, **changes) -> str:
    """``access`` with its payload changed and its signature kept (so no longer valid)."""
    header, payload, signature = access.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims.update(changes)
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{body}.{signature}"


def pool_is_clean() -> bool:
    """The next commands on the pool's (most recently returned) connection read their own
    replies: a reply left unread would answer the ``SET`` and shift every answer after it."""
    client = store.get_client()
    client.set("inflight:probe", "x")
    return client.get("inflight:probe") == b"x"


@pytest.fixture
def borrowed(monkeypatch):
    """The connections taken from the pool and not given back."""
    pool = store.get_client().connection_pool
    out: list = []
    take, give = type(pool).get_connection, type(pool).release

    def get_connection(self, *args, **kwargs):
        connection = take(self, *args, **kwargs)
        out.append(connection)
        return connection

    def release(self, connection):
        out.remove(connection)
        return give(self, connection)

    monkeypatch.setattr(type(pool), "get_connection", get_connection)
    monkeypatch.setattr(type(pool), "release", release)
    return out


def test_first_request_sends_the_read_before_the_signature_check(user, round_trips, monkeypatch):
    pair = issue_token_pair(user)
    authenticate(pair.access)  # fills the user cache
    order = []
    sent = inflight.send
    validate = RedisJWTAuthentication.get_validated_token

    def send(raw):
        order.append("sent")
        return sent(raw)

    def validated(self, raw):
        order.append("signature checked")
        return validate(self, raw)

    monkeypatch.setattr(inflight, "send", send)
    monkeypatch.setattr(RedisJWTAuthentication, "get_validated_token", validated)
    with round_trips() as rt:
        found, token = authenticate(pair.access)
    assert order == ["sent", "signature checked"]
    assert rt.commands == [b"MGET"]
    assert found.pk == user.pk and str(token["user_id"]) == str(user.pk)


def test_a_later_request_is_not_read_ahead(user, round_trips, monkeypatch):
    pair = issue_token_pair(user)
    RedisJWTAuthentication().authenticate(drf_request(pair.access))
    monkeypatch.setattr(inflight, "send", lambda raw: pytest.fail("read ahead"))
    with round_trips() as rt:
        RedisJWTAuthentication().authenticate(drf_request(pair.access))  # remembered
    assert rt.commands == [b"MGET"]


def test_a_revoked_token_is_refused_on_its_first_request(user, borrowed):
    pair = issue_token_pair(user)
    revocation.revoke_user(user)
    with pytest.raises(TokenRevoked):
        authenticate(pair.access)
    assert borrowed == []
    assert pool_is_clean()


@pytest.mark.parametrize(
    "change",
    [
        {"user_id": 999},  # another user's keys
        {"exp": 4102444800},  # a longer life
        {"jti": "x" * 20},
    ],
)
def test_a_forged_token_is_refused_and_its_reply_dropped(user, make_user, change, borrowed):
    other = make_user(email="bob@example.com")
    change = {"user_id": other.pk} if "user_id" in change else change
    access = issue_token_pair(user).access
    with pytest.raises(AuthenticationFailed) as refused:
        authenticate(forged(access, **change))
    assert str(refused.value.detail["code"]) == "token_not_valid"
    assert borrowed == []
    assert pool_is_clean()
    found, _token = authenticate(access)  # the same pooled connection, its own reply
    assert found.pk == user.pk


def test_tokens_naming_none_of_our_keys_are_not_read_ahead(user, round_trips):
    access = issue_token_pair(user).access
    cases = [
        forged(access, exp=1),  # expired
        forged(access, fam=None),  # not one of ours
        forged(access, jti="j" * 65),  # longer than any id we mint
        forged(access, user_id=["a"]),
        "not.a.token",
        "abc",
        "a." + "%" * 40 + ".b",
    ]
    for raw in cases:
        assert inflight.send(raw) is None, raw
        with round_trips() as rt, pytest.raises(AuthenticationFailed):
            authenticate(raw)
        assert rt.count == 0, raw


def test_a_reply_that_cannot_be_read_falls_back_to_the_ordinary_read(
    user, round_trips, monkeypatch
):
    pair = issue_token_pair(user)
    authenticate(pair.access)
    client = store.get_client()
    real = type(client).parse_response
    failures = []

    def parse_response(self, connection, command, **options):
        if command == "MGET" and not failures:
            failures.append(command)
            raise redis.exceptions.ConnectionError("Connection closed by server.")
        return real(self, connection, command, **options)

    monkeypatch.setattr(type(client), "parse_response", parse_response)
    with round_trips() as rt:
        found, _token = authenticate(pair.access)
    assert found.pk == user.pk
    assert failures == ["MGET"]
    # The early read, then (on a new connection: that one was closed) the ordinary one.
    assert [c for c in rt.commands if c == b"MGET"] == [b"MGET", b"MGET"]
    monkeypatch.setattr(type(client), "parse_response", real)
    assert pool_is_clean()


def _timing_out(monkeypatch):
    client = store.get_client()
    real = type(client).parse_response

    def parse_response(self, connection, command, **options):
        if command == "MGET":
            raise redis.exceptions.TimeoutError("Timeout reading from socket")
        return real(self, connection, command, **options)

    monkeypatch.setattr(type(client), "parse_response", parse_response)
    return lambda: monkeypatch.setattr(type(client), "parse_response", real)


def test_a_timeout_is_the_outage_itself_503_without_a_second_wait(user, round_trips, monkeypatch):
    pair = issue_token_pair(user)
    authenticate(pair.access)
    restore = _timing_out(monkeypatch)
    with round_trips() as rt, pytest.raises(AuthUnavailable):
        authenticate(pair.access)
    assert rt.commands == [b"MGET"]  # no second try to wait for
    restore()
    assert pool_is_clean()
    store.reset()


def test_a_timeout_with_fail_open_accepts_as_the_ordinary_read_does(user, monkeypatch, caplog):
    pair = issue_token_pair(user)
    authenticate(pair.access)
    with override_package(FAIL_OPEN=True):
        restore = _timing_out(monkeypatch)
        with caplog.at_level(logging.WARNING, logger="django_redis_auth"):
            found, _token = authenticate(pair.access)
        restore()
    assert found.pk == user.pk
    assert "FAIL_OPEN" in caplog.text
    store.reset()


def test_keys_the_verified_token_does_not_name_are_read_again(user, round_trips, monkeypatch):
    """Belt and braces: a reply is only used for the keys the *verified* token names."""
    pair = issue_token_pair(user)
    authenticate(pair.access)
    monkeypatch.setattr(
        inflight, "_named_keys", lambda raw: keys.request_keys(user.pk, "other", "other")
    )
    with round_trips() as rt:
        found, _token = authenticate(pair.access)
    assert found.pk == user.pk
    assert rt.commands == [b"MGET", b"MGET"]
    assert pool_is_clean()


def test_a_subclass_with_its_own_get_user_gets_simplejwts_sequence(user, monkeypatch):
    pair = issue_token_pair(user)
    seen = []

    class Audited(RedisJWTAuthentication):
        def get_user(self, validated_token):
            seen.append(validated_token["jti"])
            return super().get_user(validated_token)

    monkeypatch.setattr(inflight, "send", lambda raw: pytest.fail("read ahead"))
    found, _token = Audited().authenticate(drf_request(pair.access))
    assert found.pk == user.pk and len(seen) == 1


def test_an_open_circuit_breaker_is_not_bypassed(user, monkeypatch):
    pair = issue_token_pair(user)
    monkeypatch.setattr(store, "breaker_open", lambda: True)
    assert inflight.send(pair.access.encode()) is None
