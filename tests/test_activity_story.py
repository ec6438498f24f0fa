"""Issue #24's "done when", end to end over HTTP: two browsers sign in, one password fails,
the password changes; the activity list shows it all, the account was mailed about the
second browser, German gets German with the same codes, and 1,000 logins by one user leave a
bounded number of sessions in Redis. Runs on both passes (real Redis + Postgres in CI)."""

from __future__ import annotations

import pytest
from django.core import mail
from rest_framework.test import APIClient

from django_redis_auth import keys
from tests.helpers import override_package
from tests.mfa_helpers import PASSWORD, bearer

pytestmark = pytest.mark.django_db

LAPTOP = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)


def login(client, password=PASSWORD):
    return client.post(
        "/auth/login/", {"email": "alice@example.com", "password": password}, format="json"
    )


def test_two_browsers_a_failure_and_a_password_change(user):
    laptop = APIClient(HTTP_USER_AGENT=LAPTOP, REMOTE_ADDR="203.0.113.10")
    phone = APIClient(HTTP_USER_AGENT=PHONE, REMOTE_ADDR="198.51.100.20")
    first = login(laptop).json()
    assert mail.outbox == []
    login(phone)
    assert [m.subject for m in mail.outbox] == ["A sign-in from a new device"]
    assert "Safari on iOS" in mail.outbox[0].body
    assert login(phone, "not the password").status_code == 401
    changed = bearer(first["access"]).post(
        "/auth/password/change/",
        {"current_password": PASSWORD, "new_password": "the laptop's new passphrase 7"},
        format="json",
    )
    assert changed.status_code == 200
    events = bearer(changed.json()["access"]).get("/auth/account/activity/").json()
    kinds = [(e["type"], e["method"], e["ip"]) for e in events]
    assert kinds[1:] == [
        ("password_changed", "password_change", ""),
        ("sign_in_failed", "password", "198.51.100.0"),
        ("sign_in", "password", "198.51.100.0"),
        ("sign_in", "password", "203.0.113.0"),
    ]


def test_german_messages_keep_their_codes(user):
    german = APIClient(HTTP_ACCEPT_LANGUAGE="de")
    english = APIClient()
    de = login(german, "wrong").json()
    en = login(english, "wrong").json()
    assert de["code"] == en["code"] == "invalid_credentials"
    assert de["detail"] != en["detail"]
    assert "Konto" in de["detail"] or "Anmelde" in de["detail"], de


def test_a_thousand_logins_leave_a_bounded_number_of_sessions(user, redis_client):
    client = APIClient(HTTP_USER_AGENT=LAPTOP, REMOTE_ADDR="203.0.113.10")
    with override_package(LOGIN_FAILURES_PER_IP=0):
        for _ in range(1000):
            assert login(client).status_code == 200
    families = list(redis_client.scan_iter(match=f"{keys.user_tag(user.pk)}:fam:*"))
    assert len(families) == 50  # MAX_SESSIONS_PER_USER's default: the ended ones are gone
    assert redis_client.zcard(keys.session_index(user.pk)) == 50
    assert redis_client.llen(keys.activity(user.pk)) == 100  # ACTIVITY_MAX_ENTRIES
