"""Recent authentication (guarantee 13): changing how a user signs in needs a sign-in or a
``reauth/`` of this very session within ``REAUTH_WINDOW``, never only a token."""

from __future__ import annotations

import jwt
import pytest
import time_machine
from django.core import mail
from rest_framework.test import APIClient

from tests.helpers import code_in, error, override_package, redis_down
from tests.mfa_helpers import PASSWORD, bearer, code_at, enrol, login_pair

pytestmark = pytest.mark.django_db

T0 = 1_900_000_000
LATER = T0 + 120  # past a 60 s window, inside the 5 min access token
WINDOW = override_package(REAUTH_WINDOW=60)


def post(client, path, body=None):
    return client.post(f"/auth/{path}", body or {}, format="json")


@pytest.fixture
def signed_in(user):
    with time_machine.travel(T0, tick=False):
        return bearer(login_pair()["access"])


def test_a_fresh_sign_in_is_recent(signed_in):
    with WINDOW, time_machine.travel(T0 + 30, tick=False):
        assert post(signed_in, "2fa/totp/setup/").status_code == 200


def test_an_old_sign_in_gets_403_with_the_methods(signed_in):
    with WINDOW, time_machine.travel(LATER, tick=False):
        body = error(post(signed_in, "2fa/totp/setup/"), 403, "reauthentication_required")
    assert body["methods"] == ["password"]


def test_reauth_with_the_password_makes_this_session_recent(signed_in):
    with WINDOW, time_machine.travel(LATER, tick=False):
        response = post(signed_in, "reauth/", {"password": PASSWORD})
        assert response.status_code == 200, response.content
        assert response.json() == {"reauthenticated_until": LATER + 60}
        assert post(signed_in, "2fa/totp/setup/").status_code == 200


def test_the_mark_dies_with_the_window(signed_in):
    with WINDOW:
        with time_machine.travel(LATER, tick=False):
            assert post(signed_in, "reauth/", {"password": PASSWORD}).status_code == 200
        with time_machine.travel(LATER + 61, tick=False):
            error(post(signed_in, "2fa/totp/setup/"), 403, "reauthentication_required")


def test_a_wrong_password_marks_nothing(signed_in):
    with WINDOW, time_machine.travel(LATER, tick=False):
        error(post(signed_in, "reauth/", {"password": "not it"}), 400, "wrong_password")
        error(post(signed_in, "2fa/totp/setup/"), 403, "reauthentication_required")


def test_one_sessions_reauth_does_not_serve_another(user):
    with time_machine.travel(T0, tick=False):
        phone, laptop = bearer(login_pair()["access"]), bearer(login_pair()["access"])
    with WINDOW, time_machine.travel(LATER, tick=False):
        assert post(phone, "reauth/", {"password": PASSWORD}).status_code == 200
        assert post(phone, "2fa/totp/setup/").status_code == 200
        error(post(laptop, "2fa/totp/setup/"), 403, "reauthentication_required")


def test_reauth_with_an_authenticator_code(user):
    with time_machine.travel(T0, tick=False):
        enrolled = enrol()
        secret, client = enrolled["secret"], bearer(enrolled["access"])
    with WINDOW, time_machine.travel(LATER, tick=False):
        body = error(post(client, "2fa/recovery-codes/"), 403, "reauthentication_required")
        assert body["methods"] == ["password", "totp", "recovery_code"]
        ok = post(client, "reauth/", {"method": "totp", "code": code_at(secret)})
        assert ok.status_code == 200, ok.content
        assert post(client, "2fa/recovery-codes/").status_code == 200


def test_a_recovery_code_reauthenticates_once(user):
    with time_machine.travel(T0, tick=False):
        enrolled = enrol()
        codes, client = enrolled["recovery_codes"], bearer(enrolled["access"])
    with WINDOW, time_machine.travel(LATER, tick=False):
        body = {"method": "recovery_code", "code": codes[0]}
        assert post(client, "reauth/", body).status_code == 200
        error(post(client, "reauth/", body), 400, "invalid_code")


def test_the_inbox_is_no_way_around_the_password(signed_in):
    with WINDOW, time_machine.travel(LATER, tick=False):
        error(post(signed_in, "reauth/", {"method": "email"}), 400, "method_not_available")
    assert mail.outbox == []


def test_a_passwordless_account_reauthenticates_by_emailed_code(make_user):
    user = make_user()
    user.set_unusable_password()
    user.save()
    from django_redis_auth.tokens.issuing import issue_token_pair

    with time_machine.travel(T0, tick=False):
        client = bearer(issue_token_pair(user, amr=["google"]).access)
    with WINDOW, time_machine.travel(LATER, tick=False):
        body = error(post(client, "2fa/totp/setup/"), 403, "reauthentication_required")
        assert body["methods"] == ["email"]
        sent = post(client, "reauth/", {"method": "email"})
        assert sent.status_code == 202, sent.content
        code = code_in(mail.outbox[-1])
        assert (
            post(
                client,
                "reauth/",
                {"method": "email", "code": "000000" if code != "000000" else "111111"},
            ).status_code
            == 400
        )
        ok = post(client, "reauth/", {"method": "email", "code": code})
        assert ok.status_code == 200, ok.content
        assert post(client, "2fa/totp/setup/").status_code == 200


def test_every_way_in_change_is_gated(user, settings):
    with time_machine.travel(T0, tick=False):
        client = bearer(enrol()["access"])
    with WINDOW, time_machine.travel(LATER, tick=False):
        for path in (
            "2fa/totp/setup/",
            "2fa/totp/disable/",
            "2fa/recovery-codes/",
            "2fa/email/enable/",
        ):
            error(post(client, path), 403, "reauthentication_required")


def test_google_unlink_is_gated(api, google, make_user):
    make_user()
    with time_machine.travel(T0, tick=False):
        pair = api.post("/auth/google/", {"id_token": google.id_token()}, format="json").json()
    with WINDOW, time_machine.travel(LATER, tick=False):
        error(bearer(pair["access"]).delete("/auth/google/"), 403, "reauthentication_required")


def test_reauth_needs_a_session(api):
    assert post(APIClient(), "reauth/", {"password": PASSWORD}).status_code == 401


def test_reauth_with_redis_down_is_503(signed_in):
    with WINDOW, time_machine.travel(LATER, tick=False), redis_down():
        error(post(signed_in, "reauth/", {"password": PASSWORD}), 503, "auth_unavailable")


def test_malformed_reauth_bodies_are_400(signed_in):
    for body in ({"method": "sms"}, {"password": ["x"]}, {"code": "1" * 100}, ["x"]):
        with time_machine.travel(T0 + 1, tick=False):
            response = post(signed_in, "reauth/", body)
        assert response.status_code == 400, (body, response.content)
        assert response.json()["code"] in ("invalid_input", "invalid_choice", "max_length")


# --- what a factor change does --------------------------------------------------------------


def test_a_factor_change_mails_a_notice_and_ends_the_other_sessions(
    user, django_capture_on_commit_callbacks
):
    with (
        time_machine.travel(T0, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        other = bearer(login_pair()["access"])
        client = bearer(login_pair()["access"])
        mail.outbox.clear()
        secret = post(client, "2fa/totp/setup/").json()["secret"]
        confirmed = post(client, "2fa/totp/confirm/", {"code": code_at(secret, T0)})
        assert not [m for m in mail.outbox if "turned on" in m.body]  # not before the commit
    assert confirmed.status_code == 200, confirmed.content
    notices = [m for m in mail.outbox if "authenticator app was turned on" in m.body]
    assert [m.to for m in notices] == [["alice@example.com"]]
    assert notices[0].alternatives  # text + HTML
    with time_machine.travel(T0 + 1, tick=False):
        assert other.get("/auth/me/").status_code == 401
        assert bearer(confirmed.json()["access"]).get("/auth/me/").status_code == 200


def test_the_fresh_pair_keeps_the_callers_proof(user):
    """A factor change is not a sign-in: the new pair's auth_time is the caller's reauth."""
    with time_machine.travel(T0, tick=False):
        client = bearer(enrol()["access"])
    with WINDOW, time_machine.travel(LATER, tick=False):
        assert post(client, "reauth/", {"password": PASSWORD}).status_code == 200
        pair = post(client, "2fa/totp/disable/").json()
    claims = jwt.decode(pair["access"], options={"verify_signature": False})
    assert claims["auth_time"] == LATER
    assert claims["amr"] == ["pwd"]
