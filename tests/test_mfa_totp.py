"""Authenticator apps (TOTP): enrolment, the second step of sign-in, replay refusal, the
guessing caps, and what the database holds (issue #22)."""

from __future__ import annotations

import time

import pytest
import time_machine
from django.core import mail

from django_redis_auth import keys
from django_redis_auth.mfa import crypto, totp
from django_redis_auth.mfa.models import RecoveryCode, TOTPFactor
from tests.helpers import override_package
from tests.mfa_helpers import (
    bearer,
    challenge,
    code_at,
    enrol,
    error,
    login_pair,
    post,
    verify,
)

pytestmark = pytest.mark.django_db(transaction=False)


def test_setup_answers_secret_uri_and_inline_svg(user):
    client = bearer(login_pair()["access"])
    with override_package(TOTP_ISSUER="Example Co"):
        body = post(client, "2fa/totp/setup/").json()
    assert set(body) == {"secret", "otpauth_uri", "qr_svg"}
    assert len(body["secret"]) == 32 and body["secret"].isupper()
    assert body["otpauth_uri"].startswith("otpauth://totp/Example%20Co:alice%40example.com?")
    assert f"secret={body['secret']}" in body["otpauth_uri"]
    assert "issuer=Example%20Co" in body["otpauth_uri"]
    assert body["qr_svg"].startswith("<svg") and body["qr_svg"].endswith("</svg>")
    # Nothing in the database until a first code confirms it; pending in Redis, encrypted.
    assert not TOTPFactor.objects.exists()
    pending = user and keys.totp_pending(user.pk)
    from django_redis_auth import store

    stored = store.get_client().hget(pending, "s").decode()
    assert body["secret"] not in stored
    assert 0 < store.get_client().pttl(pending) <= 600_000


def test_enrol_then_sign_in_with_the_authenticator(user):
    enrolled = enrol()
    assert len(enrolled["recovery_codes"]) == 10
    assert {"access", "refresh"} <= set(enrolled)
    mail.outbox.clear()
    started = challenge()
    assert started["methods"] == ["totp", "recovery_code"]
    assert mail.outbox == []  # the emailed code is neither offered nor mailed
    response = verify(started["challenge"], code_at(enrolled["secret"]), "totp")
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"access", "refresh"}
    me = bearer(response.json()["access"]).get("/auth/2fa/")
    assert me.json() == {"methods": ["totp", "recovery_code"], "recovery_codes_left": 10}


def test_the_method_defaults_to_the_authenticator(user):
    secret = enrol()["secret"]
    assert verify(challenge()["challenge"], code_at(secret)).status_code == 200


def test_the_emailed_code_is_refused_while_an_authenticator_is_enrolled(user):
    enrol()
    user.otp_required = True  # the emailed second factor is on too: still not offered
    user.save(update_fields=["otp_required"])
    mail.outbox.clear()
    started = challenge()
    assert started["methods"] == ["totp", "recovery_code"]
    error(verify(started["challenge"], "123456", "email"), 400, "method_not_available")
    # Asking otp/ for a login code under this challenge mails nothing either.
    response = post(
        bearer(""),
        "otp/",
        {"email": "alice@example.com", "purpose": "login", "challenge": started["challenge"]},
    )
    assert response.status_code == 202
    assert mail.outbox == []


def test_a_code_is_accepted_once(user):
    secret = enrol()["secret"]
    code = code_at(secret)
    assert verify(challenge()["challenge"], code, "totp").status_code == 200
    error(verify(challenge()["challenge"], code, "totp"), 400, "invalid_code")
    # An older step than the newest accepted is refused too.
    error(verify(challenge()["challenge"], code_at(secret, offset=-1), "totp"), 400, "invalid_code")


def test_a_flushed_redis_does_not_reopen_the_window(user, redis_client):
    secret = enrol()["secret"]
    code = code_at(secret)
    assert verify(challenge()["challenge"], code, "totp").status_code == 200
    redis_client.flushdb()  # (this test's own database: FLUSHALL for what the app sees)
    error(verify(challenge()["challenge"], code, "totp"), 400, "invalid_code")


def test_the_database_refuses_a_replay_redis_forgot_mid_flight(user, redis_client, monkeypatch):
    """Two workers read the factor before either used the step; Redis lost its record of
    the step between them: the conditional UPDATE alone decides, and says no."""
    secret = enrol()["secret"]
    code = code_at(secret)
    stale = TOTPFactor.objects.get()  # read before the first use
    assert verify(challenge()["challenge"], code, "totp").status_code == 200
    redis_client.delete(keys.totp_step(user.pk))
    monkeypatch.setattr(totp, "factor_of", lambda u: stale)
    error(verify(challenge()["challenge"], code, "totp"), 400, "invalid_code")


def test_one_step_of_drift_either_way(user):
    secret = enrol()["secret"]
    with time_machine.travel(time.time() + 60, tick=False):
        error(
            verify(challenge()["challenge"], code_at(secret, offset=2), "totp"), 400, "invalid_code"
        )
        assert (
            verify(challenge()["challenge"], code_at(secret, offset=1), "totp").status_code == 200
        )


def test_expired_code_is_refused(user):
    secret = enrol()["secret"]
    old = code_at(secret)
    with time_machine.travel(time.time() + 120, tick=False):
        error(verify(challenge()["challenge"], old, "totp"), 400, "invalid_code")


@pytest.mark.parametrize(
    "code",
    ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦", "12 34 5x", "x" * 32, "0" * 33, None, 123456],
)
def test_malformed_codes_are_json_4xx(user, code):
    enrol()
    response = post(
        bearer(""), "login/verify/", {"challenge": challenge()["challenge"], "code": code}
    )
    assert 400 <= response.status_code < 500, response.content
    assert {"detail", "code"} <= set(response.json())


def test_a_bad_or_foreign_challenge_is_invalid_code(user):
    secret = enrol()["secret"]
    error(verify("not-a-challenge", code_at(secret), "totp"), 400, "invalid_code")


def test_unknown_method_is_a_validation_error(user):
    enrol()
    error(verify(challenge()["challenge"], "123456", "sms"), 400, "invalid_choice")


def test_totp_method_without_an_authenticator(twofa_user):
    started = challenge()
    assert started["methods"] == ["email"]
    error(verify(started["challenge"], "123456", "totp"), 400, "method_not_available")


def test_a_challenge_dies_after_a_few_wrong_codes(user):
    secret = enrol()["secret"]
    started = challenge()["challenge"]
    for _ in range(4):
        error(verify(started, "000000", "totp"), 400, "invalid_code")
    error(verify(started, "000000", "totp"), 400, "too_many_attempts")
    # Dead: even the right code is refused now; a new sign-in works.
    error(verify(started, code_at(secret), "totp"), 400, "too_many_attempts")
    assert verify(challenge()["challenge"], code_at(secret), "totp").status_code == 200


def test_a_challenge_is_single_use(user):
    secret = enrol()["secret"]
    started = challenge()["challenge"]
    assert verify(started, code_at(secret), "totp").status_code == 200
    with time_machine.travel(time.time() + 30, tick=False):
        error(verify(started, code_at(secret), "totp"), 400, "invalid_code")


def test_wrong_codes_per_account_per_hour_then_429_but_recovery_codes_work(user):
    enrolled = enrol()
    with override_package(TOTP_FAILURES_PER_HOUR=6, MFA_ATTEMPTS_PER_CHALLENGE=3):
        for _ in range(3):
            started = challenge()["challenge"]
            error(verify(started, "000000", "totp"), 400, "invalid_code")
            error(verify(started, "000001", "totp"), 400, "invalid_code")
        throttled = verify(challenge()["challenge"], code_at(enrolled["secret"]), "totp")
        error(throttled, 429, "totp_throttled")
        assert 0 < int(throttled["Retry-After"]) <= 4500  # (sliding hour: 60-75 min)
        # The owner is not locked out: recovery codes are outside that cap.
        response = verify(challenge()["challenge"], enrolled["recovery_codes"][0], "recovery_code")
        assert response.status_code == 200, response.content
    with time_machine.travel(time.time() + 4500, tick=False):
        fresh = code_at(enrolled["secret"])
        assert verify(challenge()["challenge"], fresh, "totp").status_code == 200


def test_setup_refused_while_enrolled_and_confirm_needs_a_setup(user):
    enrolled = enrol()
    client = bearer(enrolled["access"])
    error(post(client, "2fa/totp/setup/"), 409, "totp_already_enabled")
    error(post(client, "2fa/totp/confirm/", {"code": "123456"}), 409, "totp_already_enabled")


def test_confirm_without_setup_and_wrong_confirms(user):
    client = bearer(login_pair()["access"])
    error(post(client, "2fa/totp/confirm/", {"code": "123456"}), 400, "totp_setup_expired")
    post(client, "2fa/totp/setup/")
    for _ in range(4):
        error(post(client, "2fa/totp/confirm/", {"code": "000000"}), 400, "invalid_code")
    error(post(client, "2fa/totp/confirm/", {"code": "000000"}), 400, "too_many_attempts")
    error(post(client, "2fa/totp/confirm/", {"code": "000000"}), 400, "totp_setup_expired")
    assert not TOTPFactor.objects.exists()


def test_pending_setup_expires(user):
    client = bearer(login_pair()["access"])
    secret = post(client, "2fa/totp/setup/").json()["secret"]
    from django_redis_auth import store

    # What TOTP_SETUP_TTL does (its TTL is checked in the setup test): the key is gone.
    store.get_client().delete(keys.totp_pending(user.pk))
    error(post(client, "2fa/totp/confirm/", {"code": code_at(secret)}), 400, "totp_setup_expired")


def test_confirm_ends_other_sessions_and_answers_a_fresh_pair(user):
    other = login_pair()
    enrolled = enrol()
    assert bearer(other["access"]).get("/auth/me/").status_code == 401
    assert bearer(enrolled["access"]).get("/auth/me/").status_code == 200


def test_disable_turns_the_second_step_off_and_drops_recovery_codes(user):
    enrolled = enrol()
    response = post(bearer(enrolled["access"]), "2fa/totp/disable/")
    assert response.status_code == 200 and set(response.json()) == {"access", "refresh"}
    assert not TOTPFactor.objects.exists() and not RecoveryCode.objects.exists()
    assert login_pair()  # no second step any more
    error(post(bearer(response.json()["access"]), "2fa/totp/disable/"), 409, "totp_not_enabled")


def test_password_reset_never_turns_the_factor_off(user, api):
    from tests.flow_helpers import NEW_PASSWORD, code_in

    secret = enrol()["secret"]
    mail.outbox.clear()
    post(api, "password/reset/", {"email": "alice@example.com"})
    body = {
        "email": "alice@example.com",
        "code": code_in(mail.outbox[-1]),
        "new_password": NEW_PASSWORD,
    }
    assert post(api, "password/reset/confirm/", body).status_code == 200
    started = challenge(password=NEW_PASSWORD)
    assert started["methods"] == ["totp", "recovery_code"]
    assert verify(started["challenge"], code_at(secret), "totp").status_code == 200


def test_the_database_holds_no_secret_in_plain_text(user):
    enrolled = enrol()
    factor = TOTPFactor.objects.get()
    assert enrolled["secret"] not in factor.secret
    assert crypto.key_id_of(factor.secret) == crypto.current_key().id
    digests = set(RecoveryCode.objects.values_list("digest", flat=True))
    # A code is not stored, in any spelling. (Its 4-character groups alone are not checked:
    # one of them turns up by chance in a 10-digest set about once in 30 runs.)
    for code in enrolled["recovery_codes"]:
        spellings = {code, code.replace("-", ""), code.lower(), code.replace("-", "").lower()}
        assert all(spelling not in d for d in digests for spelling in spellings)


def test_the_secret_is_bound_to_its_user(user, make_user):
    enrol()
    other = make_user("bob@example.com")
    factor = TOTPFactor.objects.get()
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(factor.secret, totp.secret_context(other))


def test_redis_down_at_verify_is_503(user):
    from tests.helpers import redis_down

    secret = enrol()["secret"]
    started = challenge()["challenge"]
    with redis_down():
        error(verify(started, code_at(secret), "totp"), 503, "auth_unavailable")
    # Nothing was spent: the code still works.
    assert verify(started, code_at(secret), "totp").status_code == 200


def test_verify_cost(user, round_trips, django_assert_max_num_queries):
    """A TOTP verification: one Redis round trip for the step and the counts, then the
    pair's; the factor read and its conditional update."""
    from django_redis_auth import store

    secret = enrol()["secret"]
    started = challenge()["challenge"]
    for name in ("mfa_attempt", "open_session"):  # loaded once per process, not per sign-in
        store.get_client().script_load(store.script_source(name))
    with round_trips() as rt:
        assert verify(started, code_at(secret), "totp").status_code == 200
    assert rt.count == 3  # mfa_attempt, open_session, password guard reset


def test_a_scope_that_is_not_spent_takes_later_codes(user):
    """``spend=False`` (a session's reauthentication): one scope passes several codes, each
    step once, and its wrong codes still add up to the cap."""
    from django_redis_auth.exceptions import InvalidCode, TooManyAttempts
    from django_redis_auth.mfa import factors

    secret = enrol()["secret"]
    kwargs = {"scope": "session-1", "scope_ttl": 300, "spend": False}
    factors.verify(user, "totp", code_at(secret), **kwargs)
    with pytest.raises(InvalidCode):  # the same step again: a replay
        factors.verify(user, "totp", code_at(secret), **kwargs)
    with time_machine.travel(time.time() + 30, tick=False):
        factors.verify(user, "totp", code_at(secret), **kwargs)
        for _ in range(3):
            with pytest.raises(InvalidCode):
                factors.verify(user, "totp", "000000", **kwargs)
        with pytest.raises(TooManyAttempts):  # 1 replay + 4 wrong codes: the cap of 5
            factors.verify(user, "totp", "000000", **kwargs)
