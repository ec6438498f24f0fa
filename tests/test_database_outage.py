"""Database unreachable (guarantee 9): every endpoint that needs it answers 503
``database_unavailable`` (JSON, ``Retry-After``) — never an HTML 500 — the outage is logged
once, and the paths a warm user cache serves keep working.

The database is made unreachable by making every new cursor fail the way a refused or dropped
connection does (``OperationalError``); the fault suite (tests/reliability) does the same
against a real Postgres that refuses connections.
"""

from __future__ import annotations

import logging
import re

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.db.backends.signals import connection_created

from django_redis_auth.accounts import users_cache

pytestmark = pytest.mark.django_db

UNAVAILABLE = {
    "detail": "The service is temporarily unavailable. Try again shortly.",
    "code": "database_unavailable",
}


@pytest.fixture
def database_down(monkeypatch):
    """From now on every query fails as with the server gone."""

    def refuse(*args, **kwargs):
        raise OperationalError('connection to server at "127.0.0.1", port 5432 failed')

    def down() -> None:
        monkeypatch.setattr(connection, "cursor", refuse)
        monkeypatch.setattr(connection, "chunked_cursor", refuse)

    down.up = monkeypatch.undo
    return down


def assert_database_unavailable(response) -> None:
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "5"
    assert response.json() == UNAVAILABLE


def public_requests(user, password, challenge: str, refresh: str):
    """Every public endpoint, with a body that needs the database to be answered."""
    return [
        ("/auth/login/", {"email": user.email, "password": password}),
        ("/auth/signup/", {"email": "new@example.com", "password": "a fresh long passphrase 9"}),
        ("/auth/password/reset/", {"email": user.email}),
        ("/auth/otp/", {"email": user.email, "purpose": "password_reset"}),
        ("/auth/otp/", {"email": user.email, "purpose": "email_verification"}),
        ("/auth/otp/", {"email": user.email, "purpose": "login", "challenge": challenge}),
        ("/auth/login/verify/", {"challenge": challenge, "code": "123456"}),
        ("/auth/email/verify/", {"email": user.email, "code": "123456"}),
        (
            "/auth/password/reset/confirm/",
            {"email": user.email, "code": "123456", "new_password": "a fresh long passphrase 9"},
        ),
        ("/auth/token/refresh/", {"refresh": refresh}),
    ]


def test_every_endpoint_answers_503_json_when_the_database_is_down(
    api, make_user, password, login, bearer, database_down
):
    twofa = make_user("bob@example.com", otp_required=True)
    challenge = api.post(
        "/auth/login/", {"email": twofa.email, "password": password}, format="json"
    ).json()["challenge"]
    user = make_user()
    pair = login()
    users_cache.invalidate(user.pk)  # an uncached user: authentication needs the row
    database_down()
    for path, body in public_requests(user, password, challenge, pair["refresh"]):
        assert_database_unavailable(api.post(path, body, format="json"))
    client = bearer(pair["access"])
    assert_database_unavailable(client.get("/auth/me/"))
    assert_database_unavailable(client.post("/auth/logout/", {}, format="json"))
    assert_database_unavailable(client.post("/auth/logout/all/"))


def test_warm_cache_paths_keep_working_while_the_database_is_down(
    api, user, login, bearer, database_down, django_assert_num_queries
):
    pair = login()
    client = bearer(pair["access"])
    assert client.get("/auth/me/").status_code == 200  # fills the user cache
    database_down()
    with django_assert_num_queries(0):
        assert client.get("/auth/me/").json()["email"] == user.email
        refreshed = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
        assert refreshed.status_code == 200, refreshed.content
        fresh = refreshed.json()
        assert bearer(fresh["access"]).get("/auth/me/").status_code == 200
        response = bearer(fresh["access"]).post(
            "/auth/logout/", {"refresh": fresh["refresh"]}, format="json"
        )
        assert response.status_code == 204
        assert bearer(fresh["access"]).get("/auth/me/").status_code == 401


def test_a_dropped_connection_is_503_too(api, user, password, monkeypatch):
    def dropped(*args, **kwargs):
        raise InterfaceError("connection already closed")

    monkeypatch.setattr(connection, "cursor", dropped)
    response = api.post("/auth/login/", {"email": user.email, "password": password}, format="json")
    assert_database_unavailable(response)


def test_one_log_line_per_outage_and_none_from_django_per_request(
    api, user, password, database_down, caplog
):
    database_down()
    caplog.set_level(logging.INFO)
    for _ in range(5):
        response = api.post(
            "/auth/login/", {"email": user.email, "password": password}, format="json"
        )
        assert response.status_code == 503
    ours = [r for r in caplog.records if r.name == "django_redis_auth"]
    assert [r.levelno for r in ours] == [logging.ERROR]
    assert ours[0].getMessage().startswith("Database unavailable (OperationalError: ")
    assert user.email not in caplog.text and password not in caplog.text
    # Django logs every 5xx on "django.request"; the outage line replaces those.
    assert not [r for r in caplog.records if r.name == "django.request"]

    caplog.clear()
    connection_created.send(sender=type(connection), connection=connection)  # it is back
    (back,) = [r for r in caplog.records if r.name == "django_redis_auth"]
    assert back.levelno == logging.INFO
    assert back.getMessage().startswith("Database back after ")
    assert back.getMessage().endswith("(5 failures)")


def test_a_verification_code_survives_a_database_outage(api, database_down):
    from django.core import mail

    body = {"email": "new@example.com", "password": "a fresh long passphrase 9"}
    assert api.post("/auth/signup/", body, format="json").status_code == 202
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    database_down()
    verify = {"email": "new@example.com", "code": code}
    assert_database_unavailable(api.post("/auth/email/verify/", verify, format="json"))
    database_down.up()
    response = api.post("/auth/email/verify/", verify, format="json")
    assert response.status_code == 200, response.content  # the code was not spent
