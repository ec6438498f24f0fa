"""Helpers for the multi-factor tests: enrol an authenticator over the API, compute its
codes (pyotp, as an app would), sign in with it."""

from __future__ import annotations

import time
from typing import Any

import pyotp
from rest_framework.test import APIClient

PASSWORD = "correct horse battery staple"


def post(client: Any, path: str, body: dict | None = None) -> Any:
    return client.post(f"/auth/{path}", body or {}, format="json")


def bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def login_pair(email: str = "alice@example.com", password: str = PASSWORD) -> dict[str, str]:
    response = post(APIClient(), "login/", {"email": email, "password": password})
    assert response.status_code == 200, response.content
    return response.json()


def code_at(secret: str, at: float | None = None, offset: int = 0) -> str:
    """The code an authenticator app shows at ``at`` (default now), ``offset`` steps on."""
    otp = pyotp.TOTP(secret)
    return otp.generate_otp(otp.timecode(time.time() if at is None else at) + offset)


def enrol(email: str = "alice@example.com") -> dict[str, Any]:
    """Set up and confirm an authenticator for a signed-in user; returns the setup's
    ``secret`` and the confirm's ``recovery_codes``, ``access`` and ``refresh``."""
    client = bearer(login_pair(email)["access"])
    setup = post(client, "2fa/totp/setup/")
    assert setup.status_code == 200, setup.content
    secret = setup.json()["secret"]
    # The confirm's code must not be usable to sign in afterwards: confirm with the
    # previous step's code so tests can sign in with the current one.
    confirm = post(client, "2fa/totp/confirm/", {"code": code_at(secret, offset=-1)})
    assert confirm.status_code == 200, confirm.content
    return {"secret": secret, **confirm.json()}


def challenge(email: str = "alice@example.com", password: str = PASSWORD) -> dict[str, Any]:
    response = post(APIClient(), "login/", {"email": email, "password": password})
    assert response.status_code == 202, response.content
    return response.json()


def verify(challenge_: str, code: str, method: str | None = None) -> Any:
    body = {"challenge": challenge_, "code": code}
    if method:
        body["method"] = method
    return post(APIClient(), "login/verify/", body)


def error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert set(body) >= {"detail", "code"}
    return body
