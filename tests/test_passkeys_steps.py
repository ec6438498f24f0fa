"""A passkey as the second step of a password sign-in, as the proof of ``reauth/``, and
its management (list, rename, delete with its last-way-in rule)."""

from __future__ import annotations

import jwt
import pytest
import time_machine
from django.core import mail

from django_redis_auth.conf import auth_settings
from django_redis_auth.mfa.models import Passkey, RecoveryCode
from tests.helpers import error, override_package
from tests.mfa_helpers import bearer, enrol, login_pair, post
from tests.test_passkeys import add_passkey, login_options, sign_in
from tests.webauthn_soft import SoftAuthenticator

pytestmark = pytest.mark.django_db

T0 = 1_900_000_000


def amr(token: str) -> list[str]:
    return jwt.decode(token, options={"verify_signature": False})["amr"]


@pytest.fixture
def authenticator():
    return SoftAuthenticator()


@pytest.fixture
def enrolled(user, authenticator):
    return add_passkey(login_pair()["access"], authenticator)


# --- the second step ----------------------------------------------------------------------


def test_password_then_passkey(enrolled, authenticator):
    started = post(bearer(""), "login/", {"email": "alice@example.com", "password": PASSWORD})
    assert started.status_code == 202, started.content
    body = started.json()
    assert body["methods"] == ["passkey"]
    assert body["publicKey"]["allowCredentials"][0]["id"]
    credential = authenticator.get({"publicKey": body["publicKey"]})
    verified = post(
        bearer(""), "login/verify/", {"challenge": body["challenge"], "credential": credential}
    )
    assert verified.status_code == 200, verified.content
    assert amr(verified.json()["access"]) == ["pwd", "hwk", "user", "mfa"]
    # The login challenge is spent (and its WebAuthn challenge taken): refused.
    again = post(
        bearer(""), "login/verify/", {"challenge": body["challenge"], "credential": credential}
    )
    error(again, 400, "invalid_code")


def test_fresh_options_for_the_step_after_a_failed_answer(enrolled, authenticator):
    # A failed answer spends the WebAuthn challenge of login/'s 202 (as does its expiry,
    # PASSKEY_CHALLENGE_TTL, within the login challenge's CODE_TTL): the same login
    # challenge gets new options instead of a new password step.
    body = post(bearer(""), "login/", {"email": "alice@example.com", "password": PASSWORD}).json()
    failed = authenticator.get({"publicKey": body["publicKey"]}, uv=False)
    step = {"challenge": body["challenge"], "credential": failed}
    error(post(bearer(""), "login/verify/", step), 400, "invalid_credential")
    again = authenticator.get({"publicKey": body["publicKey"]})
    step = {"challenge": body["challenge"], "credential": again}
    error(post(bearer(""), "login/verify/", step), 400, "challenge_expired")

    fresh = post(bearer(""), "passkeys/login/options/", {"challenge": body["challenge"]})
    assert fresh.status_code == 200, fresh.content
    options = fresh.json()["publicKey"]
    assert options["challenge"] != body["publicKey"]["challenge"]
    assert options["allowCredentials"] == body["publicKey"]["allowCredentials"]
    # Bound to this login challenge: no answer to the discoverable sign-in
    error(sign_in(authenticator.get({"publicKey": options})), 400, "invalid_credential")
    fresh = post(bearer(""), "passkeys/login/options/", {"challenge": body["challenge"]})
    credential = authenticator.get(fresh.json())
    step = {"challenge": body["challenge"], "credential": credential}
    verified = post(bearer(""), "login/verify/", step)
    assert verified.status_code == 200, verified.content
    assert amr(verified.json()["access"]) == ["pwd", "hwk", "user", "mfa"]
    # The sign-in is done: no options for a challenge that can answer nothing any more
    spent = post(bearer(""), "passkeys/login/options/", {"challenge": body["challenge"]})
    error(spent, 400, "invalid_code")


def test_two_answers_in_flight_for_one_login_challenge_give_one_session(
    enrolled, authenticator, monkeypatch
):
    """With fresh options, one login challenge can have two WebAuthn challenges; two right
    answers sent at once must still open one session (the scope is spent once)."""
    from django_redis_auth.mfa import passkeys

    body = post(bearer(""), "login/", {"email": "alice@example.com", "password": PASSWORD}).json()
    other = post(bearer(""), "passkeys/login/options/", {"challenge": body["challenge"]}).json()
    first = {"challenge": body["challenge"], "credential": authenticator.get(body)}
    second = {"challenge": body["challenge"], "credential": authenticator.get(other)}
    authenticate = passkeys.authenticate
    answers = []
    in_flight = []

    def racing(credential, **kwargs):
        asserted = authenticate(credential, **kwargs)
        if not in_flight:  # the other answer arrives while this one is in flight
            in_flight.append(True)
            answers.append(post(bearer(""), "login/verify/", second))
        return asserted

    monkeypatch.setattr(passkeys, "authenticate", racing)
    late = post(bearer(""), "login/verify/", first)
    assert answers[0].status_code == 200, answers[0].content
    error(late, 400, "invalid_code")  # and no pair: the scope was spent by the other


def test_no_step_options_for_a_challenge_dead_of_wrong_answers(enrolled, authenticator):
    with override_package(MFA_ATTEMPTS_PER_CHALLENGE=1):
        body = post(
            bearer(""), "login/", {"email": "alice@example.com", "password": PASSWORD}
        ).json()
        failed = authenticator.get({"publicKey": body["publicKey"]}, uv=False)
        step = {"challenge": body["challenge"], "credential": failed}
        error(post(bearer(""), "login/verify/", step), 400, "invalid_credential")
        dead = post(bearer(""), "passkeys/login/options/", {"challenge": body["challenge"]})
        error(dead, 400, "too_many_attempts")


def test_step_options_need_a_live_login_challenge_with_a_passkey(enrolled, user):
    forged = post(bearer(""), "passkeys/login/options/", {"challenge": "not-a-challenge"})
    error(forged, 400, "invalid_code")
    both = {"challenge": "x", "email": "alice@example.com"}
    error(post(bearer(""), "passkeys/login/options/", both), 400, "invalid_input")
    with time_machine.travel(T0, tick=False) as clock:
        body = post(
            bearer(""), "login/", {"email": "alice@example.com", "password": PASSWORD}
        ).json()
        clock.shift(int(auth_settings.CODE_TTL) + 1)
        late = post(bearer(""), "passkeys/login/options/", {"challenge": body["challenge"]})
        error(late, 400, "invalid_code")
    # An account whose second step has no passkey
    Passkey.objects.all().delete()
    enrol()
    body = post(bearer(""), "login/", {"email": "alice@example.com", "password": PASSWORD}).json()
    assert "passkey" not in body["methods"]
    other = post(bearer(""), "passkeys/login/options/", {"challenge": body["challenge"]})
    error(other, 400, "method_not_available")


def test_the_second_step_takes_only_its_own_challenge(enrolled, authenticator):
    # An assertion of the discoverable sign-in's options is no answer to a login challenge.
    body = post(bearer(""), "login/", {"email": "alice@example.com", "password": PASSWORD}).json()
    credential = authenticator.get(login_options())
    response = post(
        bearer(""), "login/verify/", {"challenge": body["challenge"], "credential": credential}
    )
    error(response, 400, "invalid_credential")


def test_another_login_challenge_cannot_borrow_the_webauthn_challenge(enrolled, authenticator):
    first = post(bearer(""), "login/", {"email": "alice@example.com", "password": PASSWORD})
    second = post(bearer(""), "login/", {"email": "alice@example.com", "password": PASSWORD})
    credential = authenticator.get({"publicKey": first.json()["publicKey"]})
    response = post(
        bearer(""),
        "login/verify/",
        {"challenge": second.json()["challenge"], "credential": credential},
    )
    error(response, 400, "invalid_credential")


def test_with_an_authenticator_too_both_are_offered(user, authenticator):
    add_passkey(enrol()["access"], authenticator)
    body = post(bearer(""), "login/", {"email": "alice@example.com", "password": PASSWORD}).json()
    assert body["methods"] == ["totp", "passkey", "recovery_code"]
    assert "publicKey" in body


def test_one_login_challenge_gives_one_session_whichever_factor_answers(user, authenticator):
    from tests.mfa_helpers import code_at

    secret = enrol()["secret"]
    add_passkey(login_pair_with_totp(secret), authenticator)
    # The passkey first: the challenge is spent, the authenticator code is refused.
    body = post(bearer(""), "login/", {"email": "alice@example.com", "password": PASSWORD}).json()
    credential = authenticator.get({"publicKey": body["publicKey"]})
    ok = post(
        bearer(""), "login/verify/", {"challenge": body["challenge"], "credential": credential}
    )
    assert ok.status_code == 200, ok.content
    code = {"challenge": body["challenge"], "code": code_at(secret), "method": "totp"}
    error(post(bearer(""), "login/verify/", code), 400, "invalid_code")
    # The code first: the passkey answer to the same challenge is refused.
    body = post(bearer(""), "login/", {"email": "alice@example.com", "password": PASSWORD}).json()
    code = {"challenge": body["challenge"], "code": code_at(secret, offset=1), "method": "totp"}
    assert post(bearer(""), "login/verify/", code).status_code == 200
    credential = authenticator.get({"publicKey": body["publicKey"]})
    late = {"challenge": body["challenge"], "credential": credential}
    error(post(bearer(""), "login/verify/", late), 400, "invalid_code")


def login_pair_with_totp(secret: str) -> str:
    from tests.mfa_helpers import challenge, code_at, verify

    started = challenge()
    response = verify(started["challenge"], code_at(secret), "totp")
    assert response.status_code == 200, response.content
    return response.json()["access"]


def test_login_verify_needs_a_code_or_a_credential(enrolled):
    body = post(bearer(""), "login/", {"email": "alice@example.com", "password": PASSWORD}).json()
    error(post(bearer(""), "login/verify/", {"challenge": body["challenge"]}), 400, "required")


# --- reauth/ ------------------------------------------------------------------------------


def test_reauth_with_a_passkey(user, authenticator):
    with override_package(REAUTH_WINDOW=60):
        with time_machine.travel(T0, tick=False):
            created = add_passkey(login_pair()["access"], authenticator)
        client = bearer(created["access"])
        with time_machine.travel(T0 + 120, tick=False):
            body = error(
                post(client, "passkeys/register/options/"), 403, "reauthentication_required"
            )
            assert "passkey" in body["methods"]
            options = post(client, "passkeys/reauth/options/").json()
            credential = authenticator.get(options)
            done = post(client, "reauth/", {"credential": credential})
            assert done.status_code == 200, done.content
            assert post(client, "passkeys/register/options/").status_code == 200
            # Single use.
            error(post(client, "reauth/", {"credential": credential}), 400, "challenge_expired")


def test_reauth_options_of_another_session_do_not_count(user, authenticator):
    with override_package(REAUTH_WINDOW=60):
        with time_machine.travel(T0, tick=False):
            created = add_passkey(login_pair()["access"], authenticator)
            other = sign_in(authenticator.get(login_options())).json()
        with time_machine.travel(T0 + 120, tick=False):
            options = post(bearer(other["access"]), "passkeys/reauth/options/").json()
            credential = authenticator.get(options)
            response = post(bearer(created["access"]), "reauth/", {"credential": credential})
            error(response, 400, "invalid_credential")


# --- management ---------------------------------------------------------------------------


def test_list_and_rename(enrolled, authenticator):
    client = bearer(enrolled["access"])
    listed = client.get("/auth/passkeys/").json()
    assert listed == [
        {
            "id": enrolled["id"],
            "name": "Laptop",
            "created": enrolled["created"],
            "last_used": None,
            "backed_up": False,
        }
    ]
    renamed = client.patch(f"/auth/passkeys/{enrolled['id']}/", {"name": "Phone"}, format="json")
    assert renamed.status_code == 200 and renamed.json()["name"] == "Phone"
    error(
        client.patch("/auth/passkeys/999/", {"name": "x"}, format="json"), 404, "passkey_not_found"
    )
    error(
        client.patch("/auth/passkeys/abc/", {"name": "x"}, format="json"), 404, "passkey_not_found"
    )


def test_another_users_passkey_is_not_found(enrolled, make_user):
    make_user(email="bob@example.com")
    bob = bearer(login_pair("bob@example.com")["access"])
    error(bob.delete(f"/auth/passkeys/{enrolled['id']}/"), 404, "passkey_not_found")
    assert Passkey.objects.exists()


def test_delete_ends_other_sessions_and_keeps_the_callers(
    enrolled, authenticator, django_capture_on_commit_callbacks
):
    other = sign_in(authenticator.get(login_options())).json()
    mail.outbox.clear()
    client = bearer(enrolled["access"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"/auth/passkeys/{enrolled['id']}/")
    assert response.status_code == 204, response.content
    assert not Passkey.objects.exists()
    assert len(mail.outbox) == 1
    assert bearer(other["access"]).get("/auth/me/").status_code == 401
    assert client.get("/auth/me/").status_code == 200
    assert client.get("/auth/2fa/").json()["methods"] == []


def test_the_last_way_in_cannot_be_deleted(enrolled, authenticator, user):
    user.set_unusable_password()
    user.save()
    access = sign_in(authenticator.get(login_options())).json()["access"]
    error(bearer(access).delete(f"/auth/passkeys/{enrolled['id']}/"), 409, "last_sign_in_method")
    assert Passkey.objects.count() == 1


def test_recovery_codes_survive_while_a_passkey_is_left(enrolled, authenticator):
    client = bearer(enrolled["access"])
    codes = post(client, "2fa/recovery-codes/")
    assert codes.status_code == 200, codes.content
    client = bearer(codes.json()["access"])
    assert client.get("/auth/2fa/").json()["methods"] == ["passkey", "recovery_code"]
    assert client.delete(f"/auth/passkeys/{enrolled['id']}/").status_code == 204
    assert not RecoveryCode.objects.exists()  # nothing left for them to back up


def test_deleting_needs_recent_authentication(user, authenticator):
    with override_package(REAUTH_WINDOW=60):
        with time_machine.travel(T0, tick=False):
            created = add_passkey(login_pair()["access"], authenticator)
        with time_machine.travel(T0 + 120, tick=False):
            response = bearer(created["access"]).delete(f"/auth/passkeys/{created['id']}/")
            error(response, 403, "reauthentication_required")


PASSWORD = "correct horse battery staple"


def test_sign_in_by_code_then_passkey(enrolled, authenticator):
    from tests.helpers import code_in

    mail.outbox.clear()
    assert post(bearer(""), "login/code/", {"email": "alice@example.com"}).status_code == 202
    code = code_in(mail.outbox[-1])
    started = post(bearer(""), "login/code/confirm/", {"email": "alice@example.com", "code": code})
    assert started.status_code == 202, started.content
    body = started.json()
    assert "passkey" in body["methods"] and "publicKey" in body
    credential = authenticator.get({"publicKey": body["publicKey"]})
    done = post(
        bearer(""), "login/verify/", {"challenge": body["challenge"], "credential": credential}
    )
    assert done.status_code == 200, done.content
    assert amr(done.json()["access"]) == ["otp", "hwk", "user", "mfa"]
