"""The endpoints for other services: the JWK Set, introspection (RFC 7662) and
forward-auth."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from django_redis_auth.tokens import issuing
from tests.fleet_keys import ALGORITHMS, introspection_clients, key_pair, signing_with

INTROSPECT = "/auth/token/introspect/"
VERIFY = "/auth/token/verify/"
JWKS = "/auth/.well-known/jwks.json"
SECRET_MARKERS = ("PRIVATE", '"d"', '"p"', '"q"', '"dp"', '"dq"', '"qi"', '"k"', '"oct"')


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


# --- JWK Set ----------------------------------------------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_jwks_lists_the_current_and_previous_keys_with_kid_alg_use(api, user, algorithm):
    _, old_public = key_pair("RS256", 7)
    with signing_with(algorithm, previous=(old_public,)):
        pair = issuing.issue_token_pair(user)
        response = api.get(JWKS)
        assert response.status_code == 200
        assert response["Cache-Control"] == "public, max-age=300"
        keys = response.json()["keys"]
        assert [k["alg"] for k in keys] == [algorithm, "RS256"]
        assert all(k["use"] == "sig" and k["kid"] for k in keys)
        import jwt

        assert keys[0]["kid"] == jwt.get_unverified_header(pair.access)["kid"]


def test_jwks_never_shows_a_secret(api):
    """An HS key, and a private key put where public keys belong: nothing secret appears."""
    response = api.get(JWKS)  # HS256 with SECRET_KEY
    assert response.json() == {"keys": []}
    assert settings.SECRET_KEY not in response.content.decode()
    private, _ = key_pair("EdDSA", 8)
    old_private, _ = key_pair("RS256", 8)
    with signing_with("EdDSA", 8, verifying=private, previous=(old_private,)):
        text = api.get(JWKS).content.decode()
    for marker in SECRET_MARKERS:
        assert marker not in text, marker
    for pem in (private, old_private):
        body = "".join(pem.splitlines()[1:-1])
        assert body[:40] not in text


def test_jwks_max_age_is_a_setting(api):
    with override_settings(DJANGO_REDIS_AUTH={**settings.DJANGO_REDIS_AUTH, "JWKS_MAX_AGE": 60}):
        assert api.get(JWKS)["Cache-Control"] == "public, max-age=60"


# --- Introspection ----------------------------------------------------------------------


@pytest.fixture
def svc(api):
    with introspection_clients(orders="s3cret", billing="other-secret"):
        api.credentials(HTTP_AUTHORIZATION=basic("orders", "s3cret"))
        yield api


def introspect(client, token: str, **extra):
    from urllib.parse import urlencode

    body = urlencode({"token": token, **extra})  # form-encoded, as RFC 7662 says
    return client.post(INTROSPECT, body, content_type="application/x-www-form-urlencoded")


def test_a_live_token_is_active_with_its_claims(svc, user, round_trips):
    pair = issuing.issue_token_pair(user)
    introspect(svc, "warm-up")  # the server learns the rate-limit script once
    with round_trips() as rt, CaptureQueriesContext(connection) as queries:
        response = introspect(svc, pair.access, token_type_hint="access_token")
    assert response.status_code == 200
    body = response.json()
    assert body["active"] is True
    assert body["token_type"] == "access" and body["sub"] == str(user.pk)
    assert body["user_id"] == str(user.pk) and body["exp"] > body["iat"]
    assert response["Cache-Control"] == "no-store"
    assert (rt.commands, len(queries)) == ([b"EVALSHA"], 0)  # one pipeline, no query


def test_json_bodies_work_too(svc, user):
    pair = issuing.issue_token_pair(user)
    response = svc.post(INTROSPECT, {"token": pair.refresh}, format="json")
    assert response.json()["active"] is True
    assert response.json()["token_type"] == "refresh"


def dead_tokens(user, api, bearer):
    """(kind, token) for each way a token dies."""
    found = []
    pair = issuing.issue_token_pair(user)
    bearer(pair.access).post("/auth/logout/", {"refresh": pair.refresh}, format="json")
    found += [("logged out access", pair.access), ("logged out refresh", pair.refresh)]
    pair = issuing.issue_token_pair(user)
    issuing.rotate_refresh_token(pair.refresh)
    found.append(("rotated refresh", pair.refresh))
    pair = issuing.issue_token_pair(user)
    bearer(pair.access).post("/auth/logout/all/")
    found.append(("logout everywhere", pair.access))
    found += [("malformed", "not.a.token"), ("empty-ish", "x"), ("garbage", "a" * 500)]
    import jwt

    forged = jwt.encode({"user_id": user.pk, "token_type": "access"}, "w" * 40, "HS256")
    found.append(("other key", forged))
    return found


def test_every_dead_kind_is_inactive_and_nothing_more(svc, user, api, bearer, round_trips):
    introspect(svc, "warm-up")
    for kind, token in dead_tokens(user, api, bearer):
        with round_trips() as rt:
            response = introspect(svc, token)
        assert response.status_code == 200, kind
        assert response.json() == {"active": False}, kind
        assert rt.count == 1, kind  # the rate-limit count, whatever the token


def test_an_expired_token_is_inactive(svc, user):
    with time_machine.travel(datetime.now(tz=UTC), tick=False) as clock:
        pair = issuing.issue_token_pair(user)
        clock.shift(timedelta(minutes=6))
        assert introspect(svc, pair.access).json() == {"active": False}
        assert introspect(svc, pair.refresh).json()["active"] is True


def test_a_deactivated_users_tokens_are_inactive(svc, user):
    pair = issuing.issue_token_pair(user)
    user.is_active = False
    user.save()
    assert introspect(svc, pair.access).json() == {"active": False}


def test_rotated_keys_introspect_by_kid(svc, user):
    with signing_with("RS256", 9) as (_, old_public):
        old = issuing.issue_token_pair(user)
    with signing_with("EdDSA", 9, previous=(old_public,)):
        new = issuing.issue_token_pair(user)
        assert introspect(svc, old.access).json()["active"] is True
        assert introspect(svc, new.access).json()["active"] is True
    with signing_with("EdDSA", 9):
        assert introspect(svc, old.access).json() == {"active": False}


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        basic("orders", "wrong"),
        basic("nobody", "s3cret"),
        basic("billing", "s3cret"),  # another client's secret
        basic("orders", ""),
        "Basic !!!notbase64",
        "Bearer s3cret",
    ],
)
def test_bad_client_credentials_are_401_json_with_basic_challenge(api, user, authorization):
    pair = issuing.issue_token_pair(user)
    with introspection_clients(orders="s3cret", billing="other-secret"):
        if authorization:
            api.credentials(HTTP_AUTHORIZATION=authorization)
        response = introspect(api, pair.access)
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_client"
    assert response["WWW-Authenticate"].startswith("Basic ")
    assert "active" not in response.json()


def test_the_same_answer_for_an_unknown_client_and_a_wrong_secret(api, user):
    pair = issuing.issue_token_pair(user)
    with introspection_clients(orders="s3cret"):
        bodies = set()
        for header in (basic("orders", "wrong"), basic("nobody", "wrong")):
            api.credentials(HTTP_AUTHORIZATION=header)
            response = introspect(api, pair.access)
            bodies.add((response.status_code, response.content))
    assert len(bodies) == 1


def test_introspection_is_off_without_clients(api, user):
    pair = issuing.issue_token_pair(user)
    api.credentials(HTTP_AUTHORIZATION=basic("orders", "s3cret"))
    response = introspect(api, pair.access)
    assert response.status_code == 404
    assert response.json()["code"] == "introspection_not_configured"


def test_a_missing_token_is_a_400(svc):
    response = svc.post(INTROSPECT, "", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400 and response.json()["code"] == "required"


def test_introspection_is_rate_limited_per_client(api, user, redis_client):
    pair = issuing.issue_token_pair(user)
    limited = {**settings.DJANGO_REDIS_AUTH, "INTROSPECTION_RATE_LIMIT": 3}
    with introspection_clients(orders="a", billing="b"):
        with override_settings(
            DJANGO_REDIS_AUTH={**limited, "INTROSPECTION_CLIENTS": {"orders": "a", "billing": "b"}}
        ):
            api.credentials(HTTP_AUTHORIZATION=basic("orders", "a"))
            for _ in range(3):
                assert introspect(api, pair.access).json()["active"] is True
            response = introspect(api, pair.access)
            assert response.status_code == 429
            assert response.json()["code"] == "rate_limited"
            assert 1 <= int(response["Retry-After"]) <= 60
            api.credentials(HTTP_AUTHORIZATION=basic("billing", "b"))  # its own budget
            assert introspect(api, pair.access).json()["active"] is True
    for key in redis_client.scan_iter(match="dra:{c*"):
        assert 0 < redis_client.pttl(key) <= 60_000  # the counters expire by themselves


def test_redis_down_is_503(svc, user, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from django_redis_auth import store

    pair = issuing.issue_token_pair(user)

    def refuse(*args, **kwargs):
        raise RedisConnectionError("refused")

    monkeypatch.setattr(store, "execute_with_scripts", refuse)
    response = introspect(svc, pair.access)
    assert response.status_code == 503 and response.json()["code"] == "auth_unavailable"


# --- Forward-auth -----------------------------------------------------------------------


def test_forward_auth_answers_the_user_id_for_a_live_token(bearer, user, round_trips):
    pair = issuing.issue_token_pair(user)
    client = bearer(pair.access)
    client.get(VERIFY)  # the user cache is warm from here on
    with round_trips() as rt, CaptureQueriesContext(connection) as queries:
        response = client.get(VERIFY)
    assert response.status_code == 200
    assert response["X-User-Id"] == str(user.pk)
    assert response["Cache-Control"] == "no-store"
    assert (rt.count, len(queries)) == (1, 0)


def test_forward_auth_refuses_a_revoked_token_at_once(bearer, user):
    pair = issuing.issue_token_pair(user)
    client = bearer(pair.access)
    assert client.get(VERIFY).status_code == 200
    assert client.post("/auth/logout/").status_code == 204
    response = client.get(VERIFY)
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"
    assert "X-User-Id" not in response


def test_forward_auth_without_a_token_is_401(api):
    response = api.get(VERIFY)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_forward_auth_refuses_refresh_tokens(bearer, user):
    pair = issuing.issue_token_pair(user)
    assert bearer(pair.refresh).get(VERIFY).status_code == 401


def test_every_method_is_the_same_check(bearer, user):
    """Envoy's ext_authz sends the client's own method."""
    pair = issuing.issue_token_pair(user)
    client = bearer(pair.access)
    for method in ("post", "put", "patch", "delete", "head"):
        assert getattr(client, method)(VERIFY).status_code == 200, method
    assert bearer("nope").post(VERIFY).status_code == 401


def test_configured_claims_become_headers(bearer, user):
    headers = {"X-Session-Id": "fam", "X-Token-Type": "token_type", "X-Missing": "nope"}
    with override_settings(
        DJANGO_REDIS_AUTH={**settings.DJANGO_REDIS_AUTH, "FORWARD_AUTH_HEADERS": headers}
    ):
        pair = issuing.issue_token_pair(user)
        response = bearer(pair.access).get(VERIFY)
    import jwt

    claims = jwt.decode(pair.access, options={"verify_signature": False})
    assert response["X-Session-Id"] == claims["fam"]
    assert response["X-Token-Type"] == "access"
    assert "X-Missing" not in response


def test_header_values_carry_no_line_breaks():
    from django_redis_auth.fleet.forward_auth import _header_value

    assert _header_value("a\r\nSet-Cookie: x") == "aSet-Cookie: x"
    assert _header_value(["pwd", "otp"]) == "pwd,otp"
    assert _header_value({"nested": 1}) is None
    assert json.dumps(_header_value(True)) == '"true"'
