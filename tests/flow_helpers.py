"""Helpers for the email-code flow tests (test_signup, test_login_second_factor,
test_otp_resend, test_password_reset): posting to the API and reading the mailbox."""

from __future__ import annotations

from typing import Any

from django.core import mail
from django.test import override_settings

from tests.helpers import code_in, package_settings, post

NEW_PASSWORD = "a brand new passphrase 42"
UNAVAILABLE = {
    "detail": "Authentication is temporarily unavailable. Try again shortly.",
    "code": "auth_unavailable",
}


def no_cooldown(**changes: Any):
    return override_settings(DJANGO_REDIS_AUTH=package_settings(RESEND_COOLDOWN=0, **changes))


def fixed_ip(request) -> str:
    """``CLIENT_IP_RESOLVER`` that puts every request on one client IP."""
    return "203.0.113.7"


def html_of(message) -> str:
    ((content, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return content


def same_answer(a, b) -> None:
    """Status, body bytes and the headers a client can see are identical."""
    assert a.status_code == b.status_code
    assert a.content == b.content
    for header in ("Content-Type", "Retry-After", "Content-Length"):
        assert a.get(header) == b.get(header)


def signup(api, email="new@example.com", password=NEW_PASSWORD):
    return post(api, "signup/", {"email": email, "password": password})


def start_login(api, password, email="alice@example.com"):
    """POST login/ for a second-factor user: (challenge, the mailed code)."""
    response = post(api, "login/", {"email": email, "password": password})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["otp_required"] is True and set(body) == {"otp_required", "challenge", "methods"}
    assert body["methods"] == ["email"]
    return body["challenge"], code_in(mail.outbox[-1])


def reset_code(api, email="alice@example.com") -> str:
    assert post(api, "password/reset/", {"email": email}).status_code == 202
    return code_in(mail.outbox[-1])


def confirm(api, code, new_password=NEW_PASSWORD, email="alice@example.com"):
    return post(
        api,
        "password/reset/confirm/",
        {"email": email, "code": code, "new_password": new_password},
    )
