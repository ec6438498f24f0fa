"""The email-code endpoints end to end: signup, email/verify, login 2FA, otp/, password reset."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import MD5PasswordHasher
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from django_redis_auth import flows, keys, otp, signals
from tests.helpers import package_settings, redis_down

pytestmark = pytest.mark.django_db

User = get_user_model()
NEW_PASSWORD = "a brand new passphrase 42"
UNAVAILABLE = {
    "detail": "Authentication is temporarily unavailable. Try again shortly.",
    "code": "auth_unavailable",
}


def no_cooldown(**changes: Any):
    return override_settings(DJANGO_REDIS_AUTH=package_settings(RESEND_COOLDOWN=0, **changes))


def fixed_ip(request) -> str:
    return "203.0.113.7"


def code_in(message) -> str:
    match = re.search(r"\b(\d{6})\b", message.body)
    assert match, message.body
    return match.group(1)


def html_of(message) -> str:
    ((content, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return content


def post(api, path: str, body: dict) -> Any:
    return api.post(f"/auth/{path}", body, format="json")


def same_answer(a, b) -> None:
    """Status, body bytes and the headers a client can see are identical."""
    assert a.status_code == b.status_code
    assert a.content == b.content
    for header in ("Content-Type", "Retry-After", "Content-Length"):
        assert a.get(header) == b.get(header)


def signup(api, email="new@example.com", password=NEW_PASSWORD):
    return post(api, "signup/", {"email": email, "password": password})


# --- signup and email verification ----------------------------------------------------------


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
    login = post(api, "login/", {"email": "new@example.com", "password": NEW_PASSWORD})
    assert login.status_code == 200
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
    assert not redis_client.exists(keys.code("taken@example.com", otp.EMAIL_VERIFICATION))
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


@override_settings(PASSWORD_HASHERS=["tests.test_otp_flows.CountingHasher"])
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
        DJANGO_REDIS_AUTH=package_settings(EMAIL_SENDER="tests.test_otp_flows.record_sender")
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
            HOURLY_CAP_PER_IP=1, CLIENT_IP_RESOLVER="tests.test_otp_flows.fixed_ip"
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


# --- login second factor ---------------------------------------------------------------------


@pytest.fixture
def twofa_user(make_user):
    return make_user(otp_required=True)


def start_login(api, password, email="alice@example.com"):
    response = post(api, "login/", {"email": email, "password": password})
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["otp_required"] is True and set(body) == {"otp_required", "challenge"}
    return body["challenge"], code_in(mail.outbox[-1])


def test_login_with_second_factor_end_to_end(api, twofa_user, password, bearer):
    challenge, code = start_login(api, password)
    message = mail.outbox[-1]
    assert message.subject == "Your sign-in code" and code in html_of(message)
    response = post(api, "login/verify/", {"challenge": challenge, "code": code})
    assert response.status_code == 200
    pair = response.json()
    assert bearer(pair["access"]).get("/auth/me/").json()["email"] == "alice@example.com"
    replay = post(api, "login/verify/", {"challenge": challenge, "code": code})
    assert replay.json()["code"] == "invalid_code"


def test_global_second_factor_policy(api, user, password):
    with override_settings(DJANGO_REDIS_AUTH=package_settings(SECOND_FACTOR="required")):
        start_login(api, password)
    with override_settings(DJANGO_REDIS_AUTH=package_settings(SECOND_FACTOR="off")):
        response = post(api, "login/", {"email": "alice@example.com", "password": password})
        assert response.status_code == 200


def test_wrong_password_sends_no_code(api, twofa_user):
    response = post(api, "login/", {"email": "alice@example.com", "password": "wrong pass"})
    assert response.status_code == 401
    assert mail.outbox == []


def test_login_code_needs_its_own_challenge(api, twofa_user, password):
    with no_cooldown():
        _first_challenge, first_code = start_login(api, password)
        second_challenge, second_code = start_login(api, password)
    # The first code died with the second login; and a code never works with another challenge.
    response = post(api, "login/verify/", {"challenge": second_challenge, "code": first_code})
    if first_code != second_code:
        assert response.json()["code"] == "invalid_code"
    tampered = second_challenge[:-2] + ("AA" if not second_challenge.endswith("AA") else "BB")
    response = post(api, "login/verify/", {"challenge": tampered, "code": second_code})
    assert (response.status_code, response.json()["code"]) == (400, "invalid_code")
    response = post(api, "login/verify/", {"challenge": "", "code": second_code})
    assert response.status_code == 400
    response = post(api, "login/verify/", {"code": second_code})
    assert response.status_code == 400
    ok = post(api, "login/verify/", {"challenge": second_challenge, "code": second_code})
    assert ok.status_code == 200


def test_code_alone_cannot_sign_in_through_other_endpoints(api, twofa_user, password):
    _challenge, code = start_login(api, password)
    # email/verify is a different purpose: the login code is worthless there.
    response = post(api, "email/verify/", {"email": "alice@example.com", "code": code})
    assert response.json()["code"] == "invalid_code"


def test_challenge_dies_when_the_password_changes(api, twofa_user, password):
    challenge, code = start_login(api, password)
    twofa_user.set_password(NEW_PASSWORD)
    twofa_user.save()
    response = post(api, "login/verify/", {"challenge": challenge, "code": code})
    assert response.json()["code"] == "invalid_code"


def test_challenge_expires_with_the_code(api, twofa_user, password):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        challenge, code = start_login(api, password)
        clock.shift(timedelta(seconds=601))
        response = post(api, "login/verify/", {"challenge": challenge, "code": code})
    assert response.json()["code"] == "invalid_code"


ROTATED_SECRET_KEY = "a-rotated-secret-key-" + "x" * 40


def test_with_otp_hmac_key_a_secret_key_rotation_keeps_pending_codes(api, twofa_user, password):
    """docs/settings.md: set OTP_HMAC_KEY to rotate SECRET_KEY without voiding pending codes.
    Key names and code digests follow OTP_HMAC_KEY; the login challenge, signed with
    SECRET_KEY, follows SECRET_KEY_FALLBACKS like any Django signature."""
    with override_settings(DJANGO_REDIS_AUTH=package_settings(OTP_HMAC_KEY="k" * 32)):
        challenge, login_code = start_login(api, password)
        code = reset_code(api)
        with override_settings(
            SECRET_KEY=ROTATED_SECRET_KEY, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]
        ):
            verified = post(api, "login/verify/", {"challenge": challenge, "code": login_code})
            assert verified.status_code == 200, verified.content
            assert confirm(api, code).status_code == 200


def test_without_a_fallback_a_secret_key_rotation_ends_pending_logins(api, twofa_user, password):
    with override_settings(DJANGO_REDIS_AUTH=package_settings(OTP_HMAC_KEY="k" * 32)):
        challenge, code = start_login(api, password)
        with override_settings(SECRET_KEY=ROTATED_SECRET_KEY):
            response = post(api, "login/verify/", {"challenge": challenge, "code": code})
    assert response.json()["code"] == "invalid_code"


def test_without_otp_hmac_key_a_secret_key_rotation_voids_pending_codes(api, user):
    code = reset_code(api)
    with override_settings(
        SECRET_KEY=ROTATED_SECRET_KEY, SECRET_KEY_FALLBACKS=[settings.SECRET_KEY]
    ):
        assert confirm(api, code).json()["code"] == "invalid_code"
    assert confirm(api, code).status_code == 200  # still pending under the old key


def test_login_inside_cooldown_is_429(api, twofa_user, password):
    start_login(api, password)
    response = post(api, "login/", {"email": "alice@example.com", "password": password})
    assert response.status_code == 429
    assert "Retry-After" in response


def test_login_verify_with_redis_down_is_503(api, twofa_user, password):
    challenge, code = start_login(api, password)
    with redis_down():
        response = post(api, "login/verify/", {"challenge": challenge, "code": code})
    assert (response.status_code, response.json()) == (503, UNAVAILABLE)


def test_login_with_redis_down_is_503(api, twofa_user, password):
    with redis_down():
        response = post(api, "login/", {"email": "alice@example.com", "password": password})
    assert (response.status_code, response.json()) == (503, UNAVAILABLE)
    assert mail.outbox == []


# --- otp/ (resend) ---------------------------------------------------------------------------


def test_resend_verification_code_replaces_the_old_one(api):
    with no_cooldown():
        signup(api)
        old = code_in(mail.outbox[0])
        response = post(api, "otp/", {"email": "new@example.com", "purpose": "email_verification"})
    assert response.status_code == 202
    new = code_in(mail.outbox[1])
    assert mail.outbox[1].subject == "Your verification code"
    if old != new:
        stale = post(api, "email/verify/", {"email": "new@example.com", "code": old})
        assert stale.status_code == 400
    fresh = post(api, "email/verify/", {"email": "new@example.com", "code": new})
    assert fresh.status_code == 200


@pytest.mark.parametrize("purpose", ["email_verification", "password_reset", "login"])
def test_resend_is_identical_for_known_and_unknown_addresses(api, make_user, purpose):
    make_user(email="pending@example.com", email_verified=False)
    first = {}
    second = {}
    for email in ("pending@example.com", "nobody@example.com"):
        first[email] = post(api, "otp/", {"email": email, "purpose": purpose})
        second[email] = post(api, "otp/", {"email": email, "purpose": purpose})
    same_answer(first["pending@example.com"], first["nobody@example.com"])
    same_answer(second["pending@example.com"], second["nobody@example.com"])
    assert first["nobody@example.com"].status_code == 202
    if purpose == "login":
        # Without a challenge nothing per-address is charged (only the client IP's cap).
        assert second["nobody@example.com"].status_code == 202
    else:
        assert second["nobody@example.com"].status_code == 429
        assert int(second["nobody@example.com"]["Retry-After"]) >= 55
    assert all(m.to == ["pending@example.com"] for m in mail.outbox)


def test_nobody_can_lock_a_user_out_by_asking_for_login_codes_in_their_name(
    api, twofa_user, password
):
    for i in range(15):  # more than the cooldown and the per-email hourly cap allow
        response = api.post(
            "/auth/otp/",
            {"email": "alice@example.com", "purpose": "login"},
            format="json",
            REMOTE_ADDR=f"198.51.100.{i}",
        )
        assert response.status_code == 202
    assert mail.outbox == []
    challenge, code = start_login(api, password)  # her own sign-in still gets its code
    assert post(api, "login/verify/", {"challenge": challenge, "code": code}).status_code == 200
    reset = post(api, "password/reset/", {"email": "alice@example.com"})
    assert reset.status_code == 202
    assert mail.outbox[-1].to == ["alice@example.com"]


def test_nobody_can_lock_a_user_out_of_sign_in_by_asking_for_resets_in_their_name(
    api, twofa_user, password
):
    """Reset and verification codes need no credential, so their hourly count must not be
    the one the password-checked login code is charged against."""
    with no_cooldown(HOURLY_CAP_PER_EMAIL=3):
        answers = [
            api.post(
                "/auth/otp/" if i % 2 else "/auth/password/reset/",
                {"email": "alice@example.com", "purpose": "password_reset"},
                format="json",
                REMOTE_ADDR=f"198.51.100.{i}",
            ).status_code
            for i in range(6)
        ]
        assert answers == [202] * 3 + [429] * 3  # the address's open budget is used up ...
        challenge, code = start_login(api, password)  # ... her sign-in's is not
        verified = post(api, "login/verify/", {"challenge": challenge, "code": code})
        assert verified.status_code == 200


def test_login_code_requests_without_a_challenge_still_count_per_ip(api):
    with override_settings(
        DJANGO_REDIS_AUTH=package_settings(
            HOURLY_CAP_PER_IP=2, CLIENT_IP_RESOLVER="tests.test_otp_flows.fixed_ip"
        )
    ):
        body = {"email": "x@example.com", "purpose": "login"}
        assert [post(api, "otp/", body).status_code for _ in range(3)] == [202, 202, 429]


def test_resend_verification_to_verified_account_sends_nothing(api, user):
    response = post(api, "otp/", {"email": "alice@example.com", "purpose": "email_verification"})
    assert response.status_code == 202
    assert mail.outbox == []


def test_resend_login_code_needs_a_challenge(api, twofa_user, password):
    with no_cooldown():
        challenge, old = start_login(api, password)
        sent = len(mail.outbox)
        response = post(api, "otp/", {"email": "alice@example.com", "purpose": "login"})
        assert response.status_code == 202
        assert len(mail.outbox) == sent  # no challenge, no code
        response = post(
            api,
            "otp/",
            {"email": "alice@example.com", "purpose": "login", "challenge": challenge},
        )
        assert response.status_code == 202
        assert len(mail.outbox) == sent + 1
        new = code_in(mail.outbox[-1])
        # A challenge of another address does not unlock a code for this one.
        post(api, "otp/", {"email": "bob@example.com", "purpose": "login", "challenge": challenge})
        assert len(mail.outbox) == sent + 1
    if old != new:
        response = post(api, "login/verify/", {"challenge": challenge, "code": old})
        assert response.json()["code"] == "invalid_code"
    response = post(api, "login/verify/", {"challenge": challenge, "code": new})
    assert response.status_code == 200


def test_resend_uses_the_client_ip_resolver(api):
    with override_settings(
        DJANGO_REDIS_AUTH=package_settings(
            RESEND_COOLDOWN=0,
            HOURLY_CAP_PER_IP=2,
            CLIENT_IP_RESOLVER="tests.test_otp_flows.fixed_ip",
        )
    ):
        for i in range(2):
            body = {"email": f"u{i}@example.com", "purpose": "password_reset"}
            assert post(api, "otp/", body).status_code == 202
        body = {"email": "u9@example.com", "purpose": "password_reset"}
        response = post(api, "otp/", body)
        assert response.status_code == 429


def test_resend_with_redis_down_is_503(api):
    with redis_down():
        response = post(api, "otp/", {"email": "a@example.com", "purpose": "password_reset"})
    assert (response.status_code, response.json()) == (503, UNAVAILABLE)


def test_issue_and_verify_endpoints_make_one_code_round_trip(api, round_trips, password, user):
    with no_cooldown():
        post(api, "password/reset/", {"email": "alice@example.com"})  # scripts loaded
        with round_trips() as rt:
            post(api, "password/reset/", {"email": "alice@example.com"})
        assert rt.commands == [b"EVALSHA"]
        with round_trips() as rt:
            post(api, "password/reset/", {"email": "nobody@example.com"})
        assert rt.commands == [b"EVALSHA"]


# --- password reset --------------------------------------------------------------------------


def test_password_reset_request_is_identical_for_known_and_unknown(api, user):
    known = post(api, "password/reset/", {"email": "alice@example.com"})
    unknown = post(api, "password/reset/", {"email": "nobody@example.com"})
    same_answer(known, unknown)
    assert known.status_code == 202
    (message,) = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "Your password reset code"
    assert code_in(message) in html_of(message)


def reset_code(api, email="alice@example.com") -> str:
    assert post(api, "password/reset/", {"email": email}).status_code == 202
    return code_in(mail.outbox[-1])


def confirm(api, code, new_password=NEW_PASSWORD, email="alice@example.com"):
    return post(
        api,
        "password/reset/confirm/",
        {"email": email, "code": code, "new_password": new_password},
    )


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
