"""password/reset/ and password/reset/confirm/ end to end."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from django_redis_auth.accounts import flows
from tests.flow_helpers import (
    NEW_PASSWORD,
    UNAVAILABLE,
    code_in,
    confirm,
    html_of,
    post,
    reset_code,
    same_answer,
)
from tests.helpers import redis_down

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_password_reset_request_is_identical_for_known_and_unknown(api, user):
    known = post(api, "password/reset/", {"email": "alice@example.com"})
    unknown = post(api, "password/reset/", {"email": "nobody@example.com"})
    same_answer(known, unknown)
    assert known.status_code == 202
    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "Your password reset code"
    assert code_in(message) in html_of(message)


def test_password_reset_changes_password_and_revokes_every_session(
    api, user, login, bearer, password
):
    devices = [login(), login()]
    code = reset_code(api)
    response = confirm(api, code)
    assert response.status_code == 200
    assert response.json()["detail"]
    for pair in devices:
        me = bearer(pair["access"]).get("/auth/me/")
        assert me.status_code == 401
        refreshed = post(api, "token/refresh/", {"refresh": pair["refresh"]})
        assert refreshed.status_code == 401
    old = post(api, "login/", {"email": "alice@example.com", "password": password})
    assert old.status_code == 401
    fresh = login(pw=NEW_PASSWORD)
    assert bearer(fresh["access"]).get("/auth/me/").status_code == 200
    notice = mail.outbox[-1]
    assert notice.subject == "Your password was changed"
    assert "signed out" in notice.body and "signed out" in html_of(notice)
    assert confirm(api, code).json()["code"] == "invalid_code"  # single use


def test_password_reset_validators_run_before_the_code_is_consumed(api, user):
    code = reset_code(api)
    response = confirm(api, code, new_password="123")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "password_invalid"
    assert any("too short" in m for m in body["errors"]["new_password"])
    assert confirm(api, code).status_code == 200  # the code survived


def test_password_reset_confirm_answers_alike_for_unknown_email(api, user):
    user.first_name = "Zanzibarius"
    user.save()
    known = confirm(api, "123456")
    unknown = confirm(api, "123456", email="nobody@example.com")
    same_answer(known, unknown)
    assert known.json()["code"] == "invalid_code"
    weak_known = confirm(api, "123456", new_password="123")
    weak_unknown = confirm(api, "123456", new_password="123", email="nobody@example.com")
    same_answer(weak_known, weak_unknown)
    assert weak_known.json()["code"] == "password_invalid"
    # Only the real account knows the first name: until the code is proven, a password
    # "too similar to the first name" must answer as for an unknown address.
    similar_known = confirm(api, "123456", new_password="Zanzibarius")
    similar_unknown = confirm(api, "123456", new_password="Zanzibarius", email="nobody@example.com")
    same_answer(similar_known, similar_unknown)
    assert similar_known.json()["code"] == "invalid_code"


def test_password_reset_confirm_does_not_reveal_the_account_through_its_validators(api, make_user):
    """UserAttributeSimilarityValidator knows the real user's name; the answer must not,
    until the code is proven."""
    make_user(email="zed@example.com", first_name="Zanzibarius")
    known = confirm(api, "123456", new_password="Zanzibarius", email="zed@example.com")
    unknown = confirm(api, "123456", new_password="Zanzibarius", email="nobody@example.com")
    same_answer(known, unknown)
    assert known.json()["code"] == "invalid_code"


def test_a_password_refused_for_the_real_user_keeps_the_code(api, make_user):
    make_user(email="zed@example.com", first_name="Zanzibarius")
    code = reset_code(api, email="zed@example.com")
    refused = confirm(api, code, new_password="Zanzibarius", email="zed@example.com")
    assert refused.status_code == 400
    assert refused.json()["code"] == "password_invalid"
    for _ in range(3):  # proving a right code costs no attempt
        confirm(api, code, new_password="Zanzibarius", email="zed@example.com")
    assert confirm(api, code, email="zed@example.com").status_code == 200
    assert confirm(api, code, email="zed@example.com").json()["code"] == "invalid_code"


def test_password_reset_confirm_wrong_guesses_count_and_destroy_the_code(api, make_user):
    """The proof before the last validators is a real guess: three wrong ones destroy the
    code, whichever password comes with them."""
    make_user(email="zed@example.com", first_name="Zanzibarius")
    code = reset_code(api, email="zed@example.com")
    bad = f"{(int(code) + 1) % 10**6:06d}"
    answers = [
        confirm(api, bad, new_password=pw, email="zed@example.com").json()["code"]
        for pw in ("Zanzibarius", NEW_PASSWORD, "Zanzibarius")
    ]
    assert answers == ["invalid_code", "invalid_code", "too_many_attempts"]
    assert confirm(api, code, email="zed@example.com").json()["code"] == "invalid_code"
    assert User.objects.get(email="zed@example.com").check_password("correct horse battery staple")


def test_password_reset_verifies_an_unverified_address(api, make_user):
    make_user(email="pending@example.com", email_verified=False)
    code = reset_code(api, email="pending@example.com")
    assert confirm(api, code, email="pending@example.com").status_code == 200
    assert User.objects.get(email="pending@example.com").email_verified


def test_password_reset_with_redis_down_is_503(api, user):
    with redis_down():
        assert post(api, "password/reset/", {"email": "alice@example.com"}).status_code == 503
    code = reset_code(api)
    with redis_down():
        response = confirm(api, code)
    assert (response.status_code, response.json()) == (503, UNAVAILABLE)
    assert User.objects.get(pk=user.pk).check_password("correct horse battery staple")


def test_password_reset_writes_nothing_if_revocation_fails(api, user, login, bearer, monkeypatch):
    """Redis fails after the code was consumed: the password is not saved, so no state where
    the new password is set while old sessions live."""
    from django_redis_auth.exceptions import AuthUnavailable

    pair = login()
    code = reset_code(api)

    def fail(*args, **kwargs):
        raise AuthUnavailable()

    monkeypatch.setattr(flows.receivers.revocation, "revoke_user_id", fail)
    response = confirm(api, code)
    assert response.status_code == 503
    assert User.objects.get(pk=user.pk).check_password("correct horse battery staple")
    assert mail.outbox[-1].subject == "Your password reset code"  # no "changed" notice
    monkeypatch.undo()
    assert bearer(pair["access"]).get("/auth/me/").status_code == 200


def test_a_failed_save_leaves_the_reset_code_usable(api, user, monkeypatch):
    """The database fails at the save: 503, nothing changed, and the same code still works
    once it is back (the code is spent last, inside the transaction)."""
    from django.db import OperationalError

    code = reset_code(api)
    real_save = User.save

    def failing_save(self, *args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(User, "save", failing_save)
    response = confirm(api, code)
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    monkeypatch.setattr(User, "save", real_save)
    assert confirm(api, code).status_code == 200
    assert User.objects.get(pk=user.pk).check_password(NEW_PASSWORD)
    assert confirm(api, code).status_code == 400  # and then it is spent


def test_password_reset_of_inactive_account_sends_nothing(api, make_user):
    make_user(is_active=False)
    response = post(api, "password/reset/", {"email": "alice@example.com"})
    assert response.status_code == 202
    assert mail.outbox == []


def test_password_reset_revokes_once_with_its_reason(api, user, login):
    from django_redis_auth.signals import tokens_revoked

    login()
    code = reset_code(api)
    seen = []

    def receiver(**kwargs):
        seen.append((kwargs["scope"], kwargs["reason"]))

    tokens_revoked.connect(receiver, dispatch_uid="reset-reason")
    try:
        assert confirm(api, code).status_code == 200
    finally:
        tokens_revoked.disconnect(dispatch_uid="reset-reason")
    assert seen == [("user", "password_reset")]
