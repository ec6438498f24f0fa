"""Passkeys (WebAuthn, issue #23) against a software authenticator (tests/webauthn_soft.py):
registration, discoverable and email-first sign-in, the checks py_webauthn makes, single-use
challenges, management, and every bad answer a clean JSON 4xx."""

from __future__ import annotations

import jwt
import pytest
from django.core import mail

from django_redis_auth.mfa.models import Passkey
from tests.helpers import error, override_package, redis_down
from tests.mfa_helpers import bearer, login_pair, post
from tests.webauthn_soft import SoftAuthenticator, b64url, unb64url

pytestmark = pytest.mark.django_db


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def add_passkey(access: str, authenticator: SoftAuthenticator, name: str = "Laptop") -> dict:
    client = bearer(access)
    options = post(client, "passkeys/register/options/")
    assert options.status_code == 200, options.content
    credential = authenticator.create(options.json())
    created = post(client, "passkeys/", {"credential": credential, "name": name})
    assert created.status_code == 201, created.content
    return created.json()


def login_options(email: str | None = None) -> dict:
    response = post(bearer(""), "passkeys/login/options/", {"email": email} if email else {})
    assert response.status_code == 200, response.content
    return response.json()


def sign_in(credential: dict):
    return post(bearer(""), "passkeys/login/", {"credential": credential})


@pytest.fixture
def authenticator():
    return SoftAuthenticator()


@pytest.fixture
def enrolled(user, authenticator):
    """alice with one passkey; the pair the registration answered."""
    return add_passkey(login_pair()["access"], authenticator)


# --- registration -----------------------------------------------------------------------------


def test_registration_options_follow_the_settings(user):
    client = bearer(login_pair()["access"])
    with override_package(PASSKEY_RP_ID="example.com", PASSKEY_RP_NAME="Example"):
        body = post(client, "passkeys/register/options/").json()
    options = body["publicKey"]
    assert options["rp"] == {"id": "example.com", "name": "Example"}
    assert options["user"]["name"] == "alice@example.com"
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert options["authenticatorSelection"]["userVerification"] == "required"
    assert options["excludeCredentials"] == []
    assert options["attestation"] == "none"
    assert len(unb64url(options["challenge"])) >= 32


def test_register_stores_the_public_key_and_answers_a_fresh_pair(
    user, authenticator, django_capture_on_commit_callbacks
):
    first = login_pair()
    other_device = login_pair()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        created = add_passkey(first["access"], authenticator, name="  My   phone ")
    assert set(created) == {"id", "name", "created", "last_used", "backed_up", "access", "refresh"}
    assert created["name"] == "My phone"
    assert created["last_used"] is None and created["backed_up"] is False
    row = Passkey.objects.get()
    assert row.user_id == user.pk
    assert row.credential_id == b64url(authenticator.credentials[0].id)
    assert bytes(row.public_key) == authenticator.credentials[0].cose_key()
    assert row.sign_count == 0 and row.transports == ["internal", "hybrid"]
    assert row.aaguid == "00000000-0000-0000-0000-000000000000"
    assert row.user_handle == b64url(authenticator.credentials[0].user_handle)
    # A factor change: a notice, every other session ended, the caller's fresh pair works.
    assert [m.to for m in mail.outbox] == [["alice@example.com"]]
    assert bearer(other_device["access"]).get("/auth/me/").status_code == 401
    assert bearer(created["access"]).get("/auth/me/").status_code == 200
    factors = bearer(created["access"]).get("/auth/2fa/").json()
    assert factors["methods"] == ["passkey"]


def test_second_registration_excludes_the_first_and_keeps_the_user_handle(enrolled, authenticator):
    options = post(bearer(enrolled["access"]), "passkeys/register/options/").json()["publicKey"]
    assert [c["id"] for c in options["excludeCredentials"]] == [
        b64url(authenticator.credentials[0].id)
    ]
    assert options["excludeCredentials"][0]["transports"] == ["internal", "hybrid"]
    assert unb64url(options["user"]["id"]) == authenticator.credentials[0].user_handle


def test_a_registration_challenge_is_single_use_and_bound_to_its_user(
    user, make_user, authenticator
):
    access = login_pair()["access"]
    options = post(bearer(access), "passkeys/register/options/").json()
    credential = authenticator.create(options)
    make_user(email="bob@example.com")
    bob = bearer(login_pair("bob@example.com")["access"])
    error(post(bob, "passkeys/", {"credential": credential}), 400, "invalid_credential")
    # Spent by that attempt: not even its owner can use it now.
    error(post(bearer(access), "passkeys/", {"credential": credential}), 400, "challenge_expired")
    assert not Passkey.objects.exists()


@pytest.mark.parametrize(
    ("lie", "kwargs"),
    [
        ("origin", {"origin": "https://evil.example"}),
        ("rp id", {"rp_id": "evil.example"}),
        ("no user verification", {"uv": False}),
    ],
)
def test_registration_refuses(user, authenticator, lie, kwargs):
    client = bearer(login_pair()["access"])
    options = post(client, "passkeys/register/options/").json()
    credential = authenticator.create(options, **kwargs)
    error(post(client, "passkeys/", {"credential": credential}), 400, "invalid_credential")
    assert not Passkey.objects.exists()


def test_registration_needs_recent_authentication(user):
    import time_machine

    with time_machine.travel(1_900_000_000, tick=False):
        access = login_pair()["access"]
    with override_package(REAUTH_WINDOW=60), time_machine.travel(1_900_000_000 + 120, tick=False):
        body = error(
            post(bearer(access), "passkeys/register/options/"), 403, "reauthentication_required"
        )
    assert "password" in body["methods"]


# --- sign-in ----------------------------------------------------------------------------------


def test_discoverable_sign_in_is_multi_factor_by_itself(enrolled, authenticator):
    options = login_options()
    assert options["publicKey"]["allowCredentials"] == []
    assert options["publicKey"]["userVerification"] == "required"
    response = sign_in(authenticator.get(options))
    assert response.status_code == 200, response.content
    pair = response.json()
    assert claims_of(pair["access"])["amr"] == ["hwk", "user", "mfa"]
    me = bearer(pair["access"]).get("/auth/me/")
    assert me.status_code == 200 and me.json()["email"] == "alice@example.com"
    row = Passkey.objects.get()
    assert row.sign_count == 1 and row.last_used is not None
    # The activity list names it.
    activity = bearer(pair["access"]).get("/auth/account/activity/").json()
    assert any(e["type"] == "sign_in" and e["method"] == "passkey" for e in activity), activity


def test_a_synced_passkey_says_swk(user):
    synced = SoftAuthenticator(synced=True, counting=False)
    created = add_passkey(login_pair()["access"], synced)
    assert created["backed_up"] is True
    pair = sign_in(synced.get(login_options())).json()
    assert claims_of(pair["access"])["amr"] == ["swk", "user", "mfa"]
    # A sign count that stays 0 (synced passkeys do not count) is fine, every time.
    assert sign_in(synced.get(login_options())).status_code == 200


def test_email_first_lists_the_users_passkeys(enrolled, authenticator):
    options = login_options("Alice@Example.com")
    ids = [c["id"] for c in options["publicKey"]["allowCredentials"]]
    assert ids == [b64url(authenticator.credentials[0].id)]
    assert sign_in(authenticator.get(options)).status_code == 200


def test_email_first_looks_alike_for_unknown_addresses(enrolled):
    unknown = login_options("nobody@example.com")["publicKey"]["allowCredentials"]
    again = login_options("nobody@example.com")["publicKey"]["allowCredentials"]
    assert len(unknown) == 1 and unknown == again
    assert set(unknown[0]) == {"id", "type"}


def test_a_replayed_assertion_is_refused(enrolled, authenticator):
    credential = authenticator.get(login_options())
    assert sign_in(credential).status_code == 200
    error(sign_in(credential), 400, "challenge_expired")


def test_a_failed_answer_spends_its_challenge(enrolled, authenticator):
    options = login_options()
    error(sign_in(authenticator.get(options, uv=False)), 400, "invalid_credential")
    error(sign_in(authenticator.get(options)), 400, "challenge_expired")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"origin": "https://evil.example"},
        {"origin": "http://localhost:8001"},
        {"rp_id": "evil.example"},
        {"uv": False},
    ],
    ids=["other origin", "other port", "other rp id", "no user verification"],
)
def test_sign_in_refuses(enrolled, authenticator, kwargs):
    error(sign_in(authenticator.get(login_options(), **kwargs)), 400, "invalid_credential")


def test_a_sign_count_that_goes_backwards_is_refused(enrolled, authenticator):
    assert sign_in(authenticator.get(login_options(), sign_count=5)).status_code == 200
    error(sign_in(authenticator.get(login_options(), sign_count=5)), 400, "invalid_credential")
    error(sign_in(authenticator.get(login_options(), sign_count=3)), 400, "invalid_credential")
    assert Passkey.objects.get().sign_count == 5
    assert sign_in(authenticator.get(login_options(), sign_count=6)).status_code == 200


def test_another_users_credential_is_refused_for_an_email_first_challenge(
    enrolled, authenticator, make_user
):
    make_user(email="bob@example.com")
    bobs = SoftAuthenticator()
    add_passkey(login_pair("bob@example.com")["access"], bobs)
    options = login_options("alice@example.com")
    # Bob's authenticator answers Alice's challenge with Bob's credential.
    credential = bobs.get(options, credential=bobs.credentials[0])
    error(sign_in(credential), 400, "invalid_credential")


def test_a_forged_user_handle_is_refused(enrolled, authenticator):
    credential = authenticator.get(login_options())
    credential["response"]["userHandle"] = b64url(b"someone else")
    error(sign_in(credential), 400, "invalid_credential")


def test_an_unknown_credential_is_refused(user):
    stranger = SoftAuthenticator()
    stranger.create(
        {"publicKey": {"rp": {"id": "localhost"}, "user": {"id": "AA"}, "challenge": "AA"}}
    )
    error(sign_in(stranger.get(login_options())), 400, "invalid_credential")


def test_an_inactive_user_cannot_sign_in(enrolled, authenticator, user):
    user.is_active = False
    user.save(update_fields=["is_active"])
    error(sign_in(authenticator.get(login_options())), 400, "invalid_credential")


@pytest.mark.parametrize(
    "credential",
    [
        "not an object",
        [],
        {},
        {"response": "x"},
        {"id": "AA", "response": {"clientDataJSON": "!!!"}},
        {"id": "AA", "response": {"clientDataJSON": b64url(b"not json")}},
        {"id": "AA", "response": {"clientDataJSON": b64url(b"[1, 2]")}},
        {"id": "AA", "response": {"clientDataJSON": b64url(b'{"challenge": 5}')}},
        {"id": 5, "rawId": None, "response": {"clientDataJSON": None}},
        {"response": {"clientDataJSON": "A" * 70_000}},
    ],
)
def test_malformed_credentials_are_a_clean_400(enrolled, credential):
    response = sign_in(credential)
    assert response.status_code == 400, response.content
    assert response.json()["code"] in {"invalid_credential", "invalid_input", "challenge_expired"}


def test_malformed_answers_to_a_pending_challenge_are_a_clean_400(enrolled, authenticator):
    good = authenticator.get(login_options())
    for broken in (
        {**good, "rawId": "AAAA"},
        {**good, "type": "password"},
        {**good, "response": {**good["response"], "signature": "AAAA"}},
        {**good, "response": {**good["response"], "authenticatorData": "AAAA"}},
        {**good, "response": {**good["response"], "signature": 5}},
    ):
        good = authenticator.get(login_options())
        broken["response"]["clientDataJSON"] = good["response"]["clientDataJSON"]
        response = sign_in(broken)
        assert response.status_code == 400, response.content


def test_a_body_that_is_not_json_is_a_clean_400(enrolled, api):
    response = api.post("/auth/passkeys/login/", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "malformed_request"


def test_passkey_sign_in_costs(enrolled, authenticator, round_trips, django_assert_max_num_queries):
    credential = authenticator.get(login_options())
    # The passkey with its user (one query), the sign count's conditional UPDATE and
    # last_login (Django's user_logged_in), inside a savepoint; in Redis the challenge's
    # GETDEL and the session opened (its activity event in the same script).
    with round_trips() as rt, django_assert_max_num_queries(5) as queries:
        assert sign_in(credential).status_code == 200
    assert [q["sql"].split()[0] for q in queries.captured_queries] == [
        "SAVEPOINT",
        "SELECT",
        "UPDATE",
        "UPDATE",
        "RELEASE",
    ]
    assert rt.count == 2


def test_redis_down_is_a_503(enrolled):
    with redis_down():
        error(post(bearer(""), "passkeys/login/options/", {}), 503, "auth_unavailable")


def test_passkeys_off_answers_404(user):
    access = login_pair()["access"]
    with override_package(PASSKEYS=False):
        error(post(bearer(""), "passkeys/login/options/", {}), 404, "passkeys_not_enabled")
        error(bearer(access).get("/auth/passkeys/"), 404, "passkeys_not_enabled")


def test_sign_in_options_are_capped_per_client_ip(user):
    with override_package(PASSKEY_OPTIONS_PER_IP=2):
        for _ in range(2):
            login_options()
        response = post(bearer(""), "passkeys/login/options/", {})
        error(response, 429, "rate_limited")
        assert int(response["Retry-After"]) > 0
        other = bearer("")
        other.defaults["REMOTE_ADDR"] = "198.51.100.7"
        assert post(other, "passkeys/login/options/", {}).status_code == 200


def test_a_failed_assertion_of_a_known_passkey_is_in_its_owners_activity(
    enrolled, authenticator, user
):
    from django_redis_auth import activity

    error(
        sign_in(authenticator.get(login_options(), origin="https://evil.example")),
        400,
        "invalid_credential",
    )
    newest = activity.recent(user.pk, limit=1)[0][0]
    assert (newest.type, newest.method) == ("sign_in_failed", "passkey")
