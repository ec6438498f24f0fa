"""Account self-service: password/change/, 2fa/email/*, email/change/*, account/delete/ and
PATCH me/ — each through the API, with its effect on the other devices."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from rest_framework import serializers

from django_redis_auth import signals
from django_redis_auth.accounts import selfservice as account
from django_redis_auth.tokens import issuing as tokens
from tests.helpers import code_in, override_package, redis_down

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a whole new passphrase 42"


def mails_to(address: str):
    return [m for m in mail.outbox if m.to == [address]]


@pytest.fixture
def caught():
    """``caught(signal)`` → the kwargs of every send of ``signal`` during the test."""
    connected = []

    def catch(signal):
        received: list[dict] = []
        uid = f"test-{id(received)}"
        signal.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid=uid)
        connected.append((signal, uid))
        return received

    yield catch
    for signal, uid in connected:
        signal.disconnect(dispatch_uid=uid)


@pytest.fixture
def devices(user, login):
    """Two signed-in devices of alice: (this one, the other one)."""
    return login(), login()


# --- password/change/ -----------------------------------------------------------------------


def test_password_change_keeps_only_the_caller_signed_in(
    api, user, devices, bearer, login, password, caught
):
    mine, other = devices
    changed = caught(signals.password_changed)
    response = bearer(mine["access"]).post(
        "/auth/password/change/",
        {"current_password": password, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code == 200, response.content
    fresh = response.json()
    assert set(fresh) == {"access", "refresh"}
    assert bearer(fresh["access"]).get("/auth/me/").status_code == 200
    for old in (other, mine):  # every earlier token is dead, the caller's old pair too
        assert bearer(old["access"]).get("/auth/me/").status_code == 401
    assert (
        api.post("/auth/token/refresh/", {"refresh": other["refresh"]}, format="json").status_code
        == 401
    )
    assert login(pw=NEW_PASSWORD)
    refused = api.post("/auth/login/", {"email": user.email, "password": password}, format="json")
    assert refused.status_code == 401
    (notice,) = mails_to(user.email)
    assert "changed" in notice.subject and "reset code" not in notice.body
    assert [c["user"].pk for c in changed] == [user.pk]


def test_password_change_refuses_a_wrong_current_password(user, devices, bearer):
    mine, other = devices
    response = bearer(mine["access"]).post(
        "/auth/password/change/",
        {"current_password": "not it", "new_password": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "wrong_password"
    assert "current_password" in response.json()["errors"]
    assert bearer(other["access"]).get("/auth/me/").status_code == 200
    user.refresh_from_db()
    assert not user.check_password(NEW_PASSWORD)


def test_password_change_runs_the_validators(user, devices, bearer, password):
    response = bearer(devices[0]["access"]).post(
        "/auth/password/change/",
        {"current_password": password, "new_password": "alice@example.com"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "password_invalid"
    assert "new_password" in response.json()["errors"]


def test_password_change_with_redis_down_changes_nothing(user, devices, bearer, password):
    client = bearer(devices[0]["access"])
    client.get("/auth/me/")
    with redis_down():
        with pytest.raises(Exception) as exc_info:
            account.change_password(user, password, NEW_PASSWORD)
    assert exc_info.value.default_code == "auth_unavailable"
    user.refresh_from_db()
    assert user.check_password(password)


def test_an_account_deactivated_behind_the_cache_is_user_inactive(user, devices, bearer, password):
    """``request.user`` may come from the user cache; the account change reads the row and
    answers the authentication's own ``user_inactive`` (401) for a deactivated account."""
    client = bearer(devices[0]["access"])
    client.get("/auth/me/")  # cached
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)  # no signal: cache kept
    response = client.post(
        "/auth/password/change/",
        {"current_password": password, "new_password": NEW_PASSWORD},
        format="json",
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "User is inactive.", "code": "user_inactive"}


# --- 2fa/email/* ----------------------------------------------------------------------------


def test_second_factor_on_then_off(api, user, devices, bearer, password, caught):
    client = bearer(devices[0]["access"])
    changes = caught(signals.second_factor_changed)
    assert client.get("/auth/me/").json()["otp_required"] is False
    enable = client.post("/auth/2fa/email/enable/")
    assert enable.status_code == 202
    (message,) = mails_to(user.email)
    confirm = client.post("/auth/2fa/email/confirm/", {"code": code_in(message)}, format="json")
    assert confirm.status_code == 200 and confirm.json() == {"otp_required": True}
    assert client.get("/auth/me/").json()["otp_required"] is True
    login = api.post("/auth/login/", {"email": user.email, "password": password}, format="json")
    assert login.status_code == 202 and login.json()["otp_required"] is True

    mail.outbox.clear()
    wrong = client.post("/auth/2fa/email/disable/", {"password": "nope"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "wrong_password"
    off = client.post("/auth/2fa/email/disable/", {"password": password}, format="json")
    assert off.status_code == 200 and off.json() == {"otp_required": False}
    (notice,) = mails_to(user.email)
    assert "turned off" in notice.subject
    login = api.post("/auth/login/", {"email": user.email, "password": password}, format="json")
    assert login.status_code == 200
    assert [c["enabled"] for c in changes] == [True, False]


def test_second_factor_confirm_needs_the_right_code(user, devices, bearer):
    client = bearer(devices[0]["access"])
    client.post("/auth/2fa/email/enable/")
    (message,) = mails_to(user.email)
    wrong = "000000" if code_in(message) != "000000" else "111111"
    response = client.post("/auth/2fa/email/confirm/", {"code": wrong}, format="json")
    assert response.status_code == 400 and response.json()["code"] == "invalid_code"
    user.refresh_from_db()
    assert user.otp_required is False


def test_a_second_factor_code_is_bound_to_its_account(make_user, login, bearer):
    make_user()
    make_user(email="bob@example.com")
    alice, bob = login(), login(email="bob@example.com")
    bearer(alice["access"]).post("/auth/2fa/email/enable/")
    (message,) = mails_to("alice@example.com")
    response = bearer(bob["access"]).post(
        "/auth/2fa/email/confirm/", {"code": code_in(message)}, format="json"
    )
    assert response.status_code == 400


def test_second_factor_policies(user, devices, bearer, password):
    client = bearer(devices[0]["access"])
    with override_package(SECOND_FACTOR="off"):
        response = client.post("/auth/2fa/email/enable/")
        assert response.status_code == 403
        assert response.json()["code"] == "second_factor_unavailable"
    with override_package(SECOND_FACTOR="required"):
        response = client.post("/auth/2fa/email/disable/", {"password": password}, format="json")
        assert response.status_code == 403
        assert response.json()["code"] == "second_factor_required"
        response = client.post("/auth/2fa/email/enable/")
        assert response.status_code == 409
    user.otp_required = True
    user.save()
    response = client.post("/auth/2fa/email/enable/")
    assert response.status_code == 409 and response.json()["code"] == "second_factor_already_on"


# --- email/change/* -------------------------------------------------------------------------


def test_email_change_moves_the_account(api, user, devices, bearer, password, caught):
    mine, other = devices
    changed = caught(signals.email_changed)
    client = bearer(mine["access"])
    start = client.post(
        "/auth/email/change/",
        {"new_email": "Alice.New@Example.com", "password": password},
        format="json",
    )
    assert start.status_code == 202
    (code_mail,) = mails_to("alice.new@example.com")
    (notice,) = mails_to("alice@example.com")
    assert "alice.new@example.com" in notice.body
    confirm = client.post(
        "/auth/email/change/confirm/",
        {"new_email": "alice.new@example.com", "code": code_in(code_mail)},
        format="json",
    )
    assert confirm.status_code == 200, confirm.content
    fresh = confirm.json()
    me = bearer(fresh["access"]).get("/auth/me/").json()
    assert me["email"] == "alice.new@example.com" and me["email_verified"] is True
    assert bearer(other["access"]).get("/auth/me/").status_code == 401
    assert bearer(mine["access"]).get("/auth/me/").status_code == 401
    assert (
        api.post(
            "/auth/login/", {"email": "alice.new@example.com", "password": password}, format="json"
        ).status_code
        == 200
    )
    assert (
        api.post(
            "/auth/login/", {"email": "alice@example.com", "password": password}, format="json"
        ).status_code
        == 401
    )
    assert any("now uses" in m.body for m in mails_to("alice@example.com"))
    assert [(c["old_email"], c["new_email"]) for c in changed] == [
        ("alice@example.com", "alice.new@example.com")
    ]


def test_email_change_to_a_taken_address_answers_the_same(make_user, login, bearer, password):
    make_user()
    make_user(email="bob@example.com")
    client = bearer(login()["access"])
    free = client.post(
        "/auth/email/change/",
        {"new_email": "free@example.com", "password": password},
        format="json",
    )
    mail.outbox.clear()
    taken = client.post(
        "/auth/email/change/",
        {"new_email": "BOB@example.com", "password": password},
        format="json",
    )
    assert (taken.status_code, taken.json()) == (free.status_code, free.json())
    assert mails_to("bob@example.com") == []  # no code to the taken address
    assert len(mails_to("alice@example.com")) == 1  # the owner's notice, as for a free one
    for guess in ("000000", "123456"):
        confirm = client.post(
            "/auth/email/change/confirm/",
            {"new_email": "bob@example.com", "code": guess},
            format="json",
        )
        assert confirm.status_code == 400
    assert get_user_model().objects.get(email="bob@example.com")


def test_email_change_limits_are_the_same_for_taken_and_free_addresses(
    make_user, login, bearer, password
):
    make_user()
    make_user(email="bob@example.com")
    client = bearer(login()["access"])
    for new_email in ("free@example.com", "bob@example.com"):
        body = {"new_email": new_email, "password": password}
        assert client.post("/auth/email/change/", body, format="json").status_code == 202
        again = client.post("/auth/email/change/", body, format="json")
        assert again.status_code == 429, new_email  # the resend cooldown, either way
        assert again.json()["code"] == "rate_limited" and "Retry-After" in again


def test_email_change_refusals(user, devices, bearer, password):
    client = bearer(devices[0]["access"])
    wrong = client.post(
        "/auth/email/change/", {"new_email": "x@example.com", "password": "nope"}, format="json"
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "wrong_password"
    same = client.post(
        "/auth/email/change/",
        {"new_email": "ALICE@example.com", "password": password},
        format="json",
    )
    assert same.status_code == 400 and same.json()["code"] == "email_unchanged"
    assert mail.outbox == []


def test_email_change_code_is_bound_to_the_account(make_user, login, bearer, password):
    make_user()
    make_user(email="bob@example.com")
    alice, bob = login(), login(email="bob@example.com")
    bearer(alice["access"]).post(
        "/auth/email/change/",
        {"new_email": "new@example.com", "password": password},
        format="json",
    )
    (code_mail,) = mails_to("new@example.com")
    stolen = bearer(bob["access"]).post(
        "/auth/email/change/confirm/",
        {"new_email": "new@example.com", "code": code_in(code_mail)},
        format="json",
    )
    assert stolen.status_code == 400
    assert get_user_model().objects.filter(email="new@example.com").count() == 0


def test_email_change_confirm_when_the_address_was_taken_meanwhile(
    make_user, login, bearer, password
):
    make_user()
    client = bearer(login()["access"])
    client.post(
        "/auth/email/change/",
        {"new_email": "late@example.com", "password": password},
        format="json",
    )
    (code_mail,) = mails_to("late@example.com")
    make_user(email="late@example.com")
    response = client.post(
        "/auth/email/change/confirm/",
        {"new_email": "late@example.com", "code": code_in(code_mail)},
        format="json",
    )
    assert response.status_code == 409 and response.json()["code"] == "email_taken"


# --- account/delete/ ------------------------------------------------------------------------


def test_account_delete_with_password(api, user, devices, bearer, password, caught):
    deleted = caught(signals.account_deleted)
    mine = devices[0]
    missing = bearer(mine["access"]).post("/auth/account/delete/", {}, format="json")
    assert missing.status_code == 400 and missing.json()["code"] == "password_required"
    wrong = bearer(mine["access"]).post("/auth/account/delete/", {"password": "x"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["code"] == "wrong_password"
    response = bearer(mine["access"]).post(
        "/auth/account/delete/", {"password": password}, format="json"
    )
    assert response.status_code == 204
    assert not get_user_model().objects.filter(pk=user.pk).exists()
    for pair in devices:
        assert bearer(pair["access"]).get("/auth/me/").status_code == 401
    assert [(d["user_id"], d["deactivated"]) for d in deleted] == [(user.pk, False)]
    assert any("deleted" in m.subject for m in mails_to("alice@example.com"))


def test_account_deactivation_by_setting(user, devices, bearer, password):
    with override_package(ACCOUNT_DELETION="deactivate"):
        response = bearer(devices[0]["access"]).post(
            "/auth/account/delete/", {"password": password}, format="json"
        )
    assert response.status_code == 204
    user.refresh_from_db()
    assert user.is_active is False
    assert bearer(devices[1]["access"]).get("/auth/me/").status_code == 401


def test_account_without_password_deletes_with_a_code(make_user, bearer):
    user = make_user(password=None)  # e.g. signed up through Google: no usable password
    client = bearer(tokens.issue_token_pair(user).access)
    asked = client.post("/auth/account/delete/", {}, format="json")
    assert asked.status_code == 202
    (message,) = mails_to(user.email)
    code = code_in(message)
    wrong = client.post(
        "/auth/account/delete/", {"code": "111111" if code != "111111" else "222222"}, format="json"
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "invalid_code"
    assert client.post("/auth/account/delete/", {"code": code}, format="json").status_code == 204
    assert not get_user_model().objects.filter(pk=user.pk).exists()


# --- PATCH me/ ------------------------------------------------------------------------------


def test_patch_me_updates_profile_fields_only(user, devices, bearer):
    client = bearer(devices[0]["access"])
    response = client.patch(
        "/auth/me/",
        {"first_name": "Alice", "last_name": "Liddell", "is_staff": True, "email": "x@y.z"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["first_name"], body["last_name"]) == ("Alice", "Liddell")
    assert body["is_staff"] is False and body["email"] == "alice@example.com"
    user.refresh_from_db()
    assert (user.first_name, user.is_staff, user.email) == ("Alice", False, "alice@example.com")
    assert client.get("/auth/me/").json()["first_name"] == "Alice"  # the cache was refreshed
    assert bearer(devices[1]["access"]).get("/auth/me/").status_code == 200  # nobody revoked


def test_patch_me_validates(user, devices, bearer):
    response = bearer(devices[0]["access"]).patch(
        "/auth/me/", {"first_name": "x" * 151}, format="json"
    )
    assert response.status_code == 400 and "first_name" in response.json()["errors"]


class NicknameSerializer(serializers.Serializer):
    nickname = serializers.CharField(source="first_name", max_length=20)

    def update(self, instance, validated_data):
        instance.first_name = validated_data["first_name"]
        instance.save(update_fields=["first_name"])
        return instance


def test_user_serializer_is_swappable(user, devices, bearer):
    with override_package(USER_SERIALIZER="tests.test_account.NicknameSerializer"):
        client = bearer(devices[0]["access"])
        response = client.patch("/auth/me/", {"nickname": "Al"}, format="json")
        assert response.status_code == 200 and response.json() == {"nickname": "Al"}
        assert client.get("/auth/me/").json() == {"nickname": "Al"}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/auth/password/change/"),
        ("post", "/auth/2fa/email/enable/"),
        ("post", "/auth/2fa/email/confirm/"),
        ("post", "/auth/2fa/email/disable/"),
        ("post", "/auth/email/change/"),
        ("post", "/auth/email/change/confirm/"),
        ("post", "/auth/account/delete/"),
        ("patch", "/auth/me/"),
    ],
)
def test_account_endpoints_need_a_bearer_token(api, method, path):
    response = getattr(api, method)(path, {}, format="json")
    assert response.status_code == 401 and response.json()["code"] == "not_authenticated"


# --- the password-guessing limiter on every endpoint that checks a password ----------------

GUARDED = [
    ("/auth/password/change/", "current_password", {"new_password": NEW_PASSWORD}),
    ("/auth/2fa/email/disable/", "password", {}),
    ("/auth/email/change/", "password", {"new_email": "elsewhere@example.com"}),
    ("/auth/account/delete/", "password", {}),
]


@pytest.mark.parametrize(("path", "field", "rest"), GUARDED)
def test_password_checks_are_throttled_like_login(
    user, devices, bearer, password, path, field, rest
):
    client = bearer(devices[0]["access"])
    with override_package(LOGIN_FAILURES_BEFORE_DELAY=2, LOGIN_DELAY=30):
        for _ in range(2):
            wrong = client.post(path, {field: "a wrong guess", **rest}, format="json")
            assert wrong.status_code == 400 and wrong.json()["code"] == "wrong_password"
        # The second failure started a delay: inside it even the right password is refused.
        right = client.post(path, {field: password, **rest}, format="json")
        assert right.status_code == 429, right.content
        assert right.json()["code"] == "login_throttled" and int(right["Retry-After"]) > 0
        # The same address + client is throttled at login/ too: one limiter, one count.
        login = client.post(
            "/auth/login/", {"email": user.email, "password": password}, format="json"
        )
        assert login.status_code == 429
    user.refresh_from_db()
    assert user.check_password(password) and user.is_active
    assert get_user_model().objects.filter(pk=user.pk).exists()


def test_someone_elses_email_change_does_not_block_yours(make_user, login, bearer, password):
    """The code is kept per user *and* new address: bob starting a change to the same address
    neither replaces alice's code nor holds her resend cooldown."""
    make_user()
    make_user(email="bob@example.com")
    alice, bob = login(), login(email="bob@example.com")
    body = {"new_email": "new@example.com", "password": password}
    assert bearer(bob["access"]).post("/auth/email/change/", body, format="json").status_code == 202
    mail.outbox.clear()
    started = bearer(alice["access"]).post("/auth/email/change/", body, format="json")
    assert started.status_code == 202  # not 429: bob's cooldown is his own
    (code_mail,) = mails_to("new@example.com")
    confirmed = bearer(alice["access"]).post(
        "/auth/email/change/confirm/",
        {"new_email": "new@example.com", "code": code_in(code_mail)},
        format="json",
    )
    assert confirmed.status_code == 200, confirmed.content
    assert get_user_model().objects.get(email="new@example.com").email == "new@example.com"
