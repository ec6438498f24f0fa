import pytest
from django.core import mail

pytestmark = pytest.mark.django_db


def test_login_returns_token_pair_that_authenticates(api, user, login, bearer):
    pair = login()
    assert set(pair) == {"access", "refresh"}
    me = bearer(pair["access"]).get("/auth/me/")
    assert me.status_code == 200
    assert me.json()["email"] == "alice@example.com"


def test_login_is_case_insensitive_on_email(api, user, password):
    response = api.post(
        "/auth/login/", {"email": "ALICE@Example.COM", "password": password}, format="json"
    )
    assert response.status_code == 200


@pytest.mark.parametrize("email", ["alice@example.com", "nobody@example.com"])
def test_wrong_credentials_same_answer_for_unknown_email(api, user, email):
    response = api.post(
        "/auth/login/", {"email": email, "password": "wrong-password"}, format="json"
    )
    assert response.status_code == 401
    assert response.json() == {
        "detail": "No active account found with the given credentials.",
        "code": "invalid_credentials",
    }


def test_unverified_email_answers_like_a_wrong_password_and_sends_nothing(api, make_user, password):
    make_user(email="new@example.com", email_verified=False)
    right = api.post(
        "/auth/login/", {"email": "new@example.com", "password": password}, format="json"
    )
    wrong = api.post(
        "/auth/login/", {"email": "new@example.com", "password": "nope-nope"}, format="json"
    )
    assert right.status_code == wrong.status_code == 401
    assert right.content == wrong.content
    assert mail.outbox == []  # the owner asks otp/ for a new code


def test_unverified_email_is_403_when_revealing(api, make_user, password, settings):
    settings.DJANGO_REDIS_AUTH = {**settings.DJANGO_REDIS_AUTH, "UNVERIFIED_LOGIN": "reveal"}
    make_user(email="new@example.com", email_verified=False)
    response = api.post(
        "/auth/login/", {"email": "new@example.com", "password": password}, format="json"
    )
    assert response.status_code == 403
    assert response.json()["code"] == "email_not_verified"
    assert mail.outbox == []


def test_inactive_user_cannot_login(api, make_user, password):
    make_user(is_active=False)
    response = api.post(
        "/auth/login/", {"email": "alice@example.com", "password": password}, format="json"
    )
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
