"""Passwordless sign-in by emailed code (``login/code/`` → ``login/code/confirm/``): the same
hashing, limits and enumeration safety as the other codes; the pair says ``amr: ["otp"]``;
an account with an authenticator gets the second step."""

from __future__ import annotations

import jwt
import pytest
import time_machine
from django.core import mail

from tests.forked import race
from tests.helpers import code_in, error, override_package, redis_down
from tests.mfa_helpers import code_at, enrol, verify

pytestmark = pytest.mark.django_db

T0 = 1_900_000_000


def ask(api, email="alice@example.com"):
    return api.post("/auth/login/code/", {"email": email}, format="json")


def confirm(api, code, email="alice@example.com"):
    return api.post("/auth/login/code/confirm/", {"email": email, "code": code}, format="json")


def test_a_code_signs_in(api, user, bearer):
    response = ask(api)
    assert response.status_code == 202, response.content
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"] and message.alternatives
    pair = confirm(api, code_in(message))
    assert pair.status_code == 200, pair.content
    claims = jwt.decode(pair.json()["access"], options={"verify_signature": False})
    assert claims["amr"] == ["otp"]
    assert bearer(pair.json()["access"]).get("/auth/me/").status_code == 200


def test_a_code_works_once(api, user):
    ask(api)
    code = code_in(mail.outbox[-1])
    assert confirm(api, code).status_code == 200
    error(confirm(api, code), 400, "invalid_code")


def test_unknown_and_unverified_addresses_get_the_same_answer_and_no_mail(api, user, make_user):
    make_user(email="new@example.com", email_verified=False)
    known = ask(api)
    mail.outbox.clear()
    unknown = ask(api, "nobody@example.com")
    unverified = ask(api, "new@example.com")
    assert known.status_code == unknown.status_code == unverified.status_code == 202
    assert known.json() == unknown.json() == unverified.json()
    assert mail.outbox == []
    error(confirm(api, "123456", "nobody@example.com"), 400, "invalid_code")


def test_wrong_codes_are_counted_then_the_code_dies(api, user):
    ask(api)
    code = code_in(mail.outbox[-1])
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(2):
        error(confirm(api, wrong), 400, "invalid_code")
    error(confirm(api, wrong), 400, "too_many_attempts")
    error(confirm(api, code), 400, "invalid_code")  # destroyed


@pytest.mark.fake_only  # the code's TTL is Redis' own: only fakeredis follows time-machine
def test_the_code_expires(api, user):
    with time_machine.travel(T0, tick=False):
        ask(api)
    with time_machine.travel(T0 + 601, tick=False):
        error(confirm(api, code_in(mail.outbox[-1])), 400, "invalid_code")


def test_the_resend_cooldown_applies(api, user):
    assert ask(api).status_code == 202
    response = ask(api)
    error(response, 429, "rate_limited")
    assert int(response["Retry-After"]) > 0
    assert len(mail.outbox) == 1


def test_asking_uses_up_neither_reset_nor_login_budgets(api, user):
    with override_package(RESEND_COOLDOWN=0, HOURLY_CAP_PER_EMAIL=2, HOURLY_CAP_PER_IP=1000):
        for _ in range(2):
            assert ask(api).status_code == 202
        error(ask(api), 429, "rate_limited")
        assert (
            api.post(
                "/auth/password/reset/", {"email": "alice@example.com"}, format="json"
            ).status_code
            == 202
        )
        assert "reset" in mail.outbox[-1].subject.lower()


def test_an_authenticator_makes_it_the_first_of_two_steps(api, user):
    secret = enrol()["secret"]
    mail.outbox.clear()
    ask(api)
    step = confirm(api, code_in(mail.outbox[-1]))
    assert step.status_code == 202, step.content
    assert step.json()["methods"] == ["totp", "recovery_code"]
    assert len(mail.outbox) == 1  # no emailed second step
    pair = verify(step.json()["challenge"], code_at(secret), "totp")
    assert pair.status_code == 200, pair.content
    claims = jwt.decode(pair.json()["access"], options={"verify_signature": False})
    assert claims["amr"] == ["otp", "mfa"]


def test_the_emailed_step_up_alone_is_not_shrunk_to_an_inbox(api, twofa_user):
    """Password + emailed code chosen: a code alone would be one factor less. No mail."""
    assert ask(api).status_code == 202
    assert mail.outbox == []


def test_the_setting_turns_it_off(api, user):
    with override_package(LOGIN_BY_CODE=False):
        error(ask(api), 404, "login_code_disabled")
        error(confirm(api, "123456"), 404, "login_code_disabled")
        assert (
            api.post(
                "/auth/otp/", {"email": "alice@example.com", "purpose": "login_code"}, format="json"
            ).status_code
            == 202
        )
    assert mail.outbox == []


def test_otp_resends_a_sign_in_code(api, user):
    with override_package(RESEND_COOLDOWN=0):
        ask(api)
        resent = api.post(
            "/auth/otp/", {"email": "alice@example.com", "purpose": "login_code"}, format="json"
        )
    assert resent.status_code == 202
    assert len(mail.outbox) == 2
    error(confirm(api, code_in(mail.outbox[0])), 400, "invalid_code")  # replaced
    assert confirm(api, code_in(mail.outbox[1])).status_code == 200


def test_redis_down_is_503(api, user):
    with redis_down():
        error(ask(api), 503, "auth_unavailable")
        error(confirm(api, "123456"), 503, "auth_unavailable")


@pytest.mark.parametrize(
    "body",
    [{}, {"email": "not an address"}, {"email": ["x"]}, {"email": "a@b.co", "code": "x" * 99}],
)
def test_malformed_bodies_are_400(api, body):
    paths = ("login/code/confirm/",) if "code" in body else ("login/code/", "login/code/confirm/")
    for path in paths:
        response = api.post(f"/auth/{path}", body, format="json")
        assert response.status_code == 400, response.content
        assert response.json()["code"] in (
            "invalid_input",
            "invalid_email",
            "max_length",
            "required",
        )


@pytest.mark.real
@pytest.mark.django_db(transaction=True)
def test_parallel_confirms_of_one_code_one_pair(api, user):
    from django_redis_auth.accounts import code_signin
    from django_redis_auth.clients import Client

    ask(api)
    code = code_in(mail.outbox[-1])
    client = Client(ip="198.51.100.7")
    outcomes = race([lambda: code_signin.confirm("alice@example.com", code, client)] * 5)
    assert outcomes == ["invalid_code"] * 4 + ["ok"], outcomes
