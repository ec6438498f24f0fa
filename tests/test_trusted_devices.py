""" "Trust this device" (MFA_TRUST_DAYS): a device that passed the second step skips it on
its next sign-ins, until it expires, logout everywhere, a factor change or a Redis flush."""

from __future__ import annotations

import jwt
import pytest
import time_machine
from rest_framework.test import APIClient

from tests.helpers import override_package
from tests.mfa_helpers import PASSWORD, bearer, challenge, code_at, enrol, post

pytestmark = pytest.mark.django_db

T0 = 1_900_000_000
ON = override_package(MFA_TRUST_DAYS=30)


def login(device_token=None):
    body = {"email": "alice@example.com", "password": PASSWORD}
    if device_token:
        body["device_token"] = device_token
    return post(APIClient(), "login/", body)


def trusted_token(secret, at=T0):
    with time_machine.travel(at, tick=False):
        response = post(
            APIClient(),
            "login/verify/",
            {
                "challenge": challenge()["challenge"],
                "code": code_at(secret, at),
                "method": "totp",
                "trust_device": True,
            },
        )
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def secret(user):
    with time_machine.travel(T0 - 3600, tick=False):
        return enrol()["secret"]


def test_off_by_default_no_token(secret):
    with time_machine.travel(T0, tick=False):
        response = post(
            APIClient(),
            "login/verify/",
            {
                "challenge": challenge()["challenge"],
                "code": code_at(secret, T0),
                "trust_device": True,
            },
        )
    assert set(response.json()) == {"access", "refresh"}


def test_a_trusted_device_skips_the_second_step(secret, redis_client):
    with ON:
        token = trusted_token(secret)["device_token"]
        with time_machine.travel(T0 + 60, tick=False):
            response = login(token)
            assert response.status_code == 200, response.content
            # no second factor was shown this time: not mfa
            assert jwt.decode(response.json()["access"], options={"verify_signature": False})[
                "amr"
            ] == ["pwd"]
            assert login().status_code == 202  # another device still gets the step
            assert login("not-a-token").status_code == 202
    # Redis keeps a digest, never the token
    dump = b"".join(
        k + b"".join(redis_client.hgetall(k).keys()) for k in redis_client.keys("*trust*")
    )
    assert dump and token.encode() not in dump


def test_the_password_is_still_needed(secret):
    with ON:
        token = trusted_token(secret)["device_token"]
        with time_machine.travel(T0 + 60, tick=False):
            body = {"email": "alice@example.com", "password": "wrong", "device_token": token}
            assert post(APIClient(), "login/", body).status_code == 401


def test_trust_expires(secret):
    with ON:
        token = trusted_token(secret)["device_token"]
        with time_machine.travel(T0 + 30 * 86400 + 1, tick=False):
            assert login(token).status_code == 202


def test_logout_everywhere_forgets_every_device(secret):
    with ON:
        result = trusted_token(secret)
        with time_machine.travel(T0 + 60, tick=False):
            assert bearer(result["access"]).post("/auth/logout/all/").status_code == 204
            assert login(result["device_token"]).status_code == 202


def test_a_factor_change_forgets_every_device(secret):
    with ON:
        result = trusted_token(secret)
        with time_machine.travel(T0 + 60, tick=False):
            fresh = bearer(result["access"])
            assert post(fresh, "2fa/recovery-codes/").status_code == 200
            assert login(result["device_token"]).status_code == 202


def test_a_redis_flush_asks_again(secret, redis_client):
    with ON:
        token = trusted_token(secret)["device_token"]
        redis_client.flushdb()
        with time_machine.travel(T0 + 60, tick=False):
            assert login(token).status_code == 202


def test_the_cap_forgets_the_oldest(secret):
    with ON, override_package(MFA_TRUST_DAYS=30, MFA_TRUST_MAX_DEVICES=2):
        tokens = [trusted_token(secret, T0 + 60 * i)["device_token"] for i in range(3)]
        with time_machine.travel(T0 + 600, tick=False):
            assert login(tokens[0]).status_code == 202
            assert login(tokens[2]).status_code == 200
