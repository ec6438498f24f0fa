"""Every pair says when (``auth_time``) and how (``amr``, RFC 8176) its user signed in, and
refreshing keeps both: a refreshed token is not a new proof of anything."""

from __future__ import annotations

import jwt
import pytest
import time_machine
from django.core import mail

from tests.helpers import code_in
from tests.mfa_helpers import challenge, code_at, enrol, verify

pytestmark = pytest.mark.django_db


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def test_password_sign_in_says_pwd_now(api, user, login):
    with time_machine.travel(1_900_000_000, tick=False):
        pair = login()
    for token in pair.values():
        assert claims_of(token)["amr"] == ["pwd"]
        assert claims_of(token)["auth_time"] == 1_900_000_000


def test_refresh_keeps_auth_time_and_amr(api, user, login):
    with time_machine.travel(1_900_000_000, tick=False):
        pair = login()
    with time_machine.travel(1_900_000_000 + 600, tick=False):
        rotated = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert rotated.status_code == 200, rotated.content
    for token in rotated.json().values():
        assert claims_of(token)["auth_time"] == 1_900_000_000
        assert claims_of(token)["amr"] == ["pwd"]
        assert claims_of(token)["iat"] == 1_900_000_000 + 600


def test_authenticator_second_step_says_mfa(user):
    secret = enrol()["secret"]
    response = verify(challenge()["challenge"], code_at(secret), "totp")
    assert response.status_code == 200, response.content
    assert claims_of(response.json()["access"])["amr"] == ["pwd", "otp", "mfa"]


def test_emailed_second_step_is_never_mfa(api, twofa_user, password):
    """An inbox is not an authenticator: the email step-up adds ``otp``, never ``mfa``."""
    start = api.post(
        "/auth/login/", {"email": "alice@example.com", "password": password}, format="json"
    )
    assert start.status_code == 202
    response = verify(start.json()["challenge"], code_in(mail.outbox[-1]), "email")
    assert response.status_code == 200, response.content
    assert claims_of(response.json()["refresh"])["amr"] == ["pwd", "otp"]


def test_email_verification_sign_in_says_otp(api, make_user):
    make_user(email="new@example.com", email_verified=False)
    api.post(
        "/auth/otp/", {"email": "new@example.com", "purpose": "email_verification"}, format="json"
    )
    response = api.post(
        "/auth/email/verify/",
        {"email": "new@example.com", "code": code_in(mail.outbox[-1])},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert claims_of(response.json()["access"])["amr"] == ["otp"]


def test_google_sign_in_says_google(api, google):
    response = api.post("/auth/google/", {"id_token": google.id_token()}, format="json")
    assert response.status_code == 200, response.content
    assert claims_of(response.json()["access"])["amr"] == ["google"]


def test_recovery_code_second_step_says_mfa(user):
    codes = enrol()["recovery_codes"]
    response = verify(challenge()["challenge"], codes[0], "recovery_code")
    assert response.status_code == 200, response.content
    assert claims_of(response.json()["access"])["amr"] == ["pwd", "otp", "mfa"]
