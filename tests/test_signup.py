"""signup/ and email/verify/ end to end: enumeration safety, pending accounts, limits."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.test import override_settings

from django_redis_auth import keys, signals
from django_redis_auth.codes.purposes import Purpose
from tests.flow_helpers import (
    NEW_PASSWORD,
    UNAVAILABLE,
    code_in,
    confirm,
    html_of,
    no_cooldown,
    post,
    same_answer,
    signup,
    start_login,
)
from tests.helpers import package_settings, redis_down

pytestmark = pytest.mark.django_db

User = get_user_model()


def test_one_mailbox_is_one_account_whatever_its_spelling(api):
    import unicodedata

    from django.contrib.auth import get_user_model

    spellings = [
        "a@exämple.com",
        "A@XN--EXMPLE-CUA.COM",
        unicodedata.normalize("NFD", "a@exämple.com"),
    ]
    answers = [signup(api, email=e) for e in spellings]
    # one mailbox, one account, one cooldown: the other spellings hit the same resend limit
    assert [r.status_code for r in answers] == [202, 429, 429]
    assert list(get_user_model().objects.values_list("email", flat=True)) == [
        "a@xn--exmple-cua.com"
    ]
    assert [m.to for m in mail.outbox] == [["a@xn--exmple-cua.com"]]
    code = code_in(mail.outbox[0])
    verified = post(api, "email/verify/", {"email": spellings[2], "code": code})
    assert verified.status_code == 200


def test_every_endpoint_finds_the_mailbox_under_any_spelling(api, make_user, password):
    import unicodedata

    make_user(email="B@Exämple.com", otp_required=True)  # stored normalised
    assert User.objects.get().email == "b@xn--exmple-cua.com"
    unicode, ascii_, nfd = (
        "b@exämple.com",
        "B@XN--EXMPLE-CUA.COM",
        unicodedata.normalize("NFD", "b@exämple.com"),
    )
    # login: one account and one login cooldown whatever the spelling
    challenge, code = start_login(api, password, email=unicode)
    again = post(api, "login/", {"email": nfd, "password": password})
    assert again.status_code == 429
    assert post(api, "login/verify/", {"challenge": challenge, "code": code}).status_code == 200
    # password reset: one reset cooldown; the code works under another spelling
    assert post(api, "password/reset/", {"email": ascii_}).status_code == 202
    assert mail.outbox[-1].to == ["b@xn--exmple-cua.com"]
    code = code_in(mail.outbox[-1])
    resend = post(api, "otp/", {"email": nfd, "purpose": "password_reset"})
    assert resend.status_code == 429
    assert confirm(api, code, email=unicode).status_code == 200
    with override_settings(DJANGO_REDIS_AUTH=package_settings(SECOND_FACTOR="off")):
        assert post(api, "login/", {"email": nfd, "password": NEW_PASSWORD}).status_code == 200


@pytest.mark.parametrize("email", ["a@ex..ämple.com", "a@" + "ä" * 70 + ".com"])
def test_unencodable_unicode_domain_is_400_invalid_email(api, email):
    response = signup(api, email=email)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_email"


def test_signup_creates_unverified_user_and_mails_a_verification_code(api):
    response = signup(api)
    assert response.status_code == 202
    user = User.objects.get(email="new@example.com")
    assert not user.email_verified
    assert user.check_password(NEW_PASSWORD)
    (message,) = mail.outbox
    assert message.to == ["new@example.com"]
    assert message.subject == "Your verification code"
    code = code_in(message)
    assert code in html_of(message)
    assert "10 minutes" in message.body


def test_email_verify_marks_verified_and_returns_a_working_pair(api, bearer, password):
    signup(api, password=NEW_PASSWORD)
    code = code_in(mail.outbox[0])
    response = post(api, "email/verify/", {"email": "NEW@example.com", "code": code})
    assert response.status_code == 200
    pair = response.json()
    assert set(pair) == {"access", "refresh"}
    assert User.objects.get(email="new@example.com").email_verified
    assert bearer(pair["access"]).get("/auth/me/").json()["email_verified"] is True
    # The pair is a signed-in session of its own (documented): a login opens a second one.
    assert len(bearer(pair["access"]).get("/auth/sessions/").json()) == 1
    login = post(api, "login/", {"email": "new@example.com", "password": NEW_PASSWORD})
    assert login.status_code == 200
    assert len(bearer(pair["access"]).get("/auth/sessions/").json()) == 2
    again = post(api, "email/verify/", {"email": "new@example.com", "code": code})
    assert again.status_code == 400
    assert again.json()["code"] == "invalid_code"


def test_login_before_verification_is_refused_like_a_wrong_password(api):
    signup(api)
    response = post(api, "login/", {"email": "new@example.com", "password": NEW_PASSWORD})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"


def test_signup_then_login_does_not_tell_taken_from_fresh(api, make_user):
    """Sign up with someone's address and your own password, then log in: a taken address
    and a fresh pending one must answer alike (the fresh one used to be 403)."""
    make_user(email="taken@example.com")
    answers = []
    for email in ("taken@example.com", "fresh@example.com"):
        assert signup(api, email=email, password=NEW_PASSWORD).status_code == 202
        answers.append(post(api, "login/", {"email": email, "password": NEW_PASSWORD}))
    same_answer(*answers)
    assert answers[0].status_code == 401


def test_repeated_logins_after_signup_do_not_tell_taken_from_fresh(api, make_user):
    """The same probe, repeated until the password guard steps in: a fresh account's right
    password counts as the failure its answer claims, so both addresses reach the delay."""
    make_user(email="taken@example.com")
    sequences = []
    for email in ("taken@example.com", "fresh@example.com"):
        signup(api, email=email, password=NEW_PASSWORD)
        body = {"email": email, "password": NEW_PASSWORD}
        sequences.append([post(api, "login/", body).status_code for _ in range(7)])
    assert sequences[0] == sequences[1]
    assert sequences[0][-1] == 429


def test_signup_for_taken_address_is_indistinguishable(api, make_user, redis_client):
    make_user(email="taken@example.com")
    known = signup(api, email="taken@example.com")
    unknown = signup(api, email="new@example.com")
    same_answer(known, unknown)
    assert known.status_code == 202
    # The owner gets a notice, no code; the account is untouched.
    notice = next(m for m in mail.outbox if m.to == ["taken@example.com"])
    assert notice.subject == "Someone tried to sign up with your address"
    assert "already have one" in notice.body and "already have one" in html_of(notice)
    assert not re.search(r"\b\d{6}\b", notice.body)
    assert not redis_client.exists(keys.code("taken@example.com", Purpose.EMAIL_VERIFICATION))
    assert User.objects.get(email="taken@example.com").check_password(
        "correct horse battery staple"
    )
    assert len(mail.outbox) == 2  # one message per sign-up, whatever the case


def test_signup_repeated_inside_cooldown_is_the_same_429_for_taken_and_new(api, make_user):
    make_user(email="taken@example.com")
    answers = {}
    for email in ("taken@example.com", "new@example.com"):
        assert signup(api, email=email).status_code == 202
        answers[email] = signup(api, email=email)
    same_answer(answers["taken@example.com"], answers["new@example.com"])
    assert answers["new@example.com"].status_code == 429
    assert answers["new@example.com"].json()["code"] == "rate_limited"
    assert 55 <= int(answers["new@example.com"]["Retry-After"]) <= 60


class CountingHasher(MD5PasswordHasher):
    calls = 0

    def encode(self, password, salt, *args, **kwargs):
        CountingHasher.calls += 1
        return super().encode(password, salt, *args, **kwargs)


@override_settings(PASSWORD_HASHERS=["tests.test_signup.CountingHasher"])
def test_signup_pays_the_same_hashing_cost_on_every_path(api, make_user):
    make_user(email="verified@example.com")
    make_user(email="pending@example.com", email_verified=False)
    costs = {}
    for email in ("new@example.com", "verified@example.com", "pending@example.com"):
        CountingHasher.calls = 0
        assert signup(api, email=email).status_code == 202
        costs[email] = CountingHasher.calls
    assert set(costs.values()) == {1}, costs


def test_signup_hands_exactly_one_message_to_the_sender_on_every_path(api, make_user):
    make_user(email="verified@example.com")
    make_user(email="pending@example.com", email_verified=False)
    sent: list[Any] = []
    with override_settings(
        DJANGO_REDIS_AUTH=package_settings(EMAIL_SENDER="tests.test_signup.record_sender")
    ):
        RECORDED.clear()
        for email in ("new@example.com", "verified@example.com", "pending@example.com"):
            signup(api, email=email)
        sent = list(RECORDED)
    assert [(m.to, m.kind) for m in sent] == [
        ("new@example.com", "email_verification"),
        ("verified@example.com", "signup_exists"),
        ("pending@example.com", "signup_exists"),
    ]


RECORDED: list[Any] = []


def record_sender(message) -> None:
    RECORDED.append(message)


def test_second_signup_never_changes_a_pending_account(api):
    """Pre-hijacking: a second sign-up for an address whose verification is pending must not
    set its password (the owner would then verify the attacker's password)."""
    with no_cooldown():
        signup(api, password="first passphrase 111")
        pending = code_in(mail.outbox[0])
        signup(api, password=NEW_PASSWORD)
    assert User.objects.get(email="new@example.com").check_password("first passphrase 111")
    notice = mail.outbox[1]
    assert "already have one" in notice.body
    assert not re.search(r"\b\d{6}\b", notice.body)
    # The owner's pending code still verifies the owner's account.
    response = post(api, "email/verify/", {"email": "new@example.com", "code": pending})
    assert response.status_code == 200


@pytest.mark.parametrize("email", ["new@example.com", "taken@example.com"])
def test_signup_runs_password_validators(api, make_user, email):
    make_user(email="taken@example.com")
    response = signup(api, email=email, password="123")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "password_invalid"
    assert any("too short" in m for m in body["errors"]["password"])
    assert not User.objects.filter(email="new@example.com").exists()
    assert mail.outbox == []


def test_signup_password_validator_answers_do_not_depend_on_the_account(api, make_user):
    make_user(email="taken@example.com", first_name="Zanzibarius")
    known = signup(api, email="taken@example.com", password="password")
    unknown = signup(api, email="new@example.com", password="password")
    assert known.content.replace(b"taken", b"new") == unknown.content


def test_signup_with_redis_down_is_503_and_creates_nothing(api):
    with redis_down():
        response = signup(api)
    assert response.status_code == 503
    assert response.json() == UNAVAILABLE
    assert not User.objects.filter(email="new@example.com").exists()
    assert mail.outbox == []


def test_signup_over_the_ip_cap_is_429_and_creates_nothing(api):
    with override_settings(
        DJANGO_REDIS_AUTH=package_settings(
            HOURLY_CAP_PER_IP=1, CLIENT_IP_RESOLVER="tests.flow_helpers.fixed_ip"
        )
    ):
        assert signup(api, email="one@example.com").status_code == 202
        response = signup(api, email="two@example.com")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert not User.objects.filter(email="two@example.com").exists()


def test_bad_input_is_400_json(api):
    response = post(api, "signup/", {"email": "not-an-email", "password": NEW_PASSWORD})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_email"
    response = post(api, "email/verify/", {"email": "a@example.com", "code": "1" * 100})
    assert response.status_code == 400
    response = post(api, "otp/", {"email": "a@example.com", "purpose": "banana"})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_choice"


def test_email_verify_wrong_unknown_and_too_many(api):
    signup(api)
    code = code_in(mail.outbox[0])
    bad = f"{(int(code) + 1) % 1000000:06d}"
    unknown = post(api, "email/verify/", {"email": "nobody@example.com", "code": bad})
    first = post(api, "email/verify/", {"email": "new@example.com", "code": bad})
    same_answer(first, unknown)
    assert first.json() == {"detail": "The code is invalid or has expired.", "code": "invalid_code"}
    post(api, "email/verify/", {"email": "new@example.com", "code": bad})
    third = post(api, "email/verify/", {"email": "new@example.com", "code": bad})
    assert third.status_code == 400
    assert third.json()["code"] == "too_many_attempts"
    late = post(api, "email/verify/", {"email": "new@example.com", "code": code})
    assert late.json()["code"] == "invalid_code"
    assert not User.objects.get(email="new@example.com").email_verified


def test_email_verify_with_redis_down_is_503(api):
    signup(api)
    code = code_in(mail.outbox[0])
    with redis_down():
        response = post(api, "email/verify/", {"email": "new@example.com", "code": code})
    assert (response.status_code, response.json()) == (503, UNAVAILABLE)
    assert not User.objects.get(email="new@example.com").email_verified


def test_signals_never_carry_the_code(api):
    received: list[dict] = []

    def receiver(signal, sender, **kwargs):
        received.append(kwargs)

    for signal in (signals.code_issued, signals.code_verified, signals.code_failed):
        signal.connect(receiver, weak=False)
    try:
        signup(api)
        code = code_in(mail.outbox[0])
        post(api, "email/verify/", {"email": "new@example.com", "code": "000000"})
        post(api, "email/verify/", {"email": "new@example.com", "code": code})
    finally:
        for signal in (signals.code_issued, signals.code_verified, signals.code_failed):
            signal.disconnect(receiver)
    assert len(received) >= 2
    assert code not in repr(received)
