"""Guarantees 1 and 2: revocation is immediate, permanent, and expires by itself."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from django_redis_auth import keys, signals
from django_redis_auth.tokens import claims, revocation
from django_redis_auth.tokens import issuing as tokens
from django_redis_auth.tokens.issuing import issue_token_pair

pytestmark = pytest.mark.django_db


def me(bearer, access):
    return bearer(access).get("/auth/me/")


def test_logout_revokes_access_token_immediately(user, login, bearer):
    pair = login()
    assert me(bearer, pair["access"]).status_code == 200
    assert bearer(pair["access"]).post("/auth/logout/").status_code == 204
    response = me(bearer, pair["access"])
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


def test_logout_kills_the_refresh_token_of_the_session(api, user, login, bearer):
    pair = login()
    bearer(pair["access"]).post("/auth/logout/", {"refresh": pair["refresh"]}, format="json")
    response = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 401


def test_logout_without_refresh_still_kills_the_session_family(api, user, login, bearer):
    pair = login()
    bearer(pair["access"]).post("/auth/logout/")
    response = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 401


def test_logout_leaves_other_devices_signed_in(user, login, bearer):
    phone, laptop = login(), login()
    bearer(phone["access"]).post("/auth/logout/")
    assert me(bearer, phone["access"]).status_code == 401
    assert me(bearer, laptop["access"]).status_code == 200


def test_logout_refuses_a_refresh_token_of_another_user(make_user, login, bearer):
    make_user()
    make_user(email="bob@example.com")
    alice, bob = login(), login(email="bob@example.com")
    response = bearer(alice["access"]).post(
        "/auth/logout/", {"refresh": bob["refresh"]}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "token_not_valid"
    assert me(bearer, bob["access"]).status_code == 200


def test_logout_needs_a_bearer_token(api):
    response = api.post("/auth/logout/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_logout_all_revokes_every_device(user, login, bearer):
    devices = [login() for _ in range(3)]
    assert bearer(devices[0]["access"]).post("/auth/logout/all/").status_code == 204
    for pair in devices:
        assert me(bearer, pair["access"]).status_code == 401
    # A new sign-in after logout-all works.
    assert me(bearer, login()["access"]).status_code == 200


def test_refresh_rotates_and_old_refresh_dies(api, user, login, bearer):
    pair = login()
    first = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert first.status_code == 200
    new = first.json()
    assert set(new) == {"access", "refresh"} and new["refresh"] != pair["refresh"]
    assert me(bearer, new["access"]).status_code == 200
    second = api.post("/auth/token/refresh/", {"refresh": new["refresh"]}, format="json")
    assert second.status_code == 200


def test_refresh_reuse_revokes_the_whole_family(api, user, login, bearer):
    pair = login()
    rotated = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json").json()
    reuse = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert reuse.status_code == 401
    assert reuse.json()["code"] == "token_reused"
    # Everything derived from that sign-in is dead, including the legitimately rotated pair.
    assert me(bearer, rotated["access"]).status_code == 401
    again = api.post("/auth/token/refresh/", {"refresh": rotated["refresh"]}, format="json")
    assert again.status_code == 401


def test_reuse_sends_tokens_revoked_signal(api, user, login):
    received = []
    signals.tokens_revoked.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t")
    try:
        pair = login()
        api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
        api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    finally:
        signals.tokens_revoked.disconnect(dispatch_uid="t")
    assert {"scope": "session", "reason": "refresh_reuse"}.items() <= received[-1].items()


@pytest.mark.parametrize("workers", [2, 16])
def test_concurrent_refresh_yields_exactly_one_pair(user, login, bearer, workers):
    pair = login()
    me(bearer, pair["access"])  # warm the user cache: the race is then Redis-only
    outcomes = []
    barrier = threading.Barrier(workers)

    def refresh():
        barrier.wait()
        try:
            tokens.rotate_refresh_token(pair["refresh"])
            outcomes.append("ok")
        except AuthenticationFailed as exc:
            outcomes.append(exc.get_codes())

    threads = [threading.Thread(target=refresh) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1  # exactly one: the first rotation wins, the rest lose
    assert len(outcomes) == workers
    assert set(outcomes) <= {"ok", "token_reused", "token_revoked"}


def test_access_token_is_not_accepted_as_refresh(api, user, login):
    pair = login()
    response = api.post("/auth/token/refresh/", {"refresh": pair["access"]}, format="json")
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


def test_foreign_token_signed_with_same_key_is_refused(user, bearer):
    """A simplejwt token without our claims (e.g. minted by another view) never authenticates."""
    token = AccessToken.for_user(user)
    response = me(bearer, str(token))
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"


@pytest.mark.parametrize("wipe", ["flushdb", "epoch_only"])
def test_data_loss_never_revives_revoked_tokens(api, user, login, bearer, redis_client, wipe):
    pair = login()
    bearer(pair["access"]).post("/auth/logout/")
    if wipe == "flushdb":
        redis_client.flushdb()  # Redis restarted empty / failover to a replica that lost writes
    else:
        redis_client.delete(keys.epoch(user.pk))
    response = me(bearer, pair["access"])
    assert response.status_code == 401
    assert (
        api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json").status_code
        == 401
    )
    # Users simply sign in again.
    assert me(bearer, login()["access"]).status_code == 200


def test_live_tokens_after_data_loss_are_refused_not_500(api, user, login, bearer, redis_client):
    pair = login()
    redis_client.flushdb()
    assert me(bearer, pair["access"]).status_code == 401


def test_new_sign_in_after_data_loss_does_not_revive_old_tokens(user, login, bearer, redis_client):
    old = login()
    bearer(old["access"]).post("/auth/logout/all/")
    redis_client.flushdb()
    fresh = login()
    assert me(bearer, fresh["access"]).status_code == 200
    assert me(bearer, old["access"]).status_code == 401


def _pttl_s(client, key):
    return client.pttl(key) / 1000


def test_revocation_records_expire_with_the_token(user, login, bearer, redis_client):
    pair = login()
    access = AccessToken(pair["access"])
    refresh = RefreshToken(pair["refresh"])
    bearer(pair["access"]).post("/auth/logout/", {"refresh": pair["refresh"]}, format="json")
    now = timezone.now().timestamp()
    uid = user.pk
    jti_ttl = _pttl_s(redis_client, keys.revoked_jti(uid, access["jti"]))
    fam_ttl = _pttl_s(redis_client, keys.family(uid, access["fam"]))
    epoch_ttl = _pttl_s(redis_client, keys.epoch(uid))
    assert abs((access["exp"] - now) - jti_ttl) < 2
    assert abs((refresh["exp"] - now) - fam_ttl) < 2
    assert abs((refresh["exp"] - now) - epoch_ttl) < 2
    # Nothing without a TTL: no table, nothing that grows.
    for key in redis_client.scan_iter(match=keys.user_pattern()):
        if not key.endswith(b":user"):
            assert redis_client.pttl(key) > 0, key


@pytest.mark.fake_only
def test_records_vanish_when_tokens_would_have_expired(user, login, bearer, redis_client):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        pair = login()
        bearer(pair["access"]).post("/auth/logout/", {"refresh": pair["refresh"]}, format="json")
        clock.shift(timedelta(minutes=5, seconds=1))  # access lifetime
        assert not redis_client.exists(
            keys.revoked_jti(user.pk, AccessToken(pair["access"], verify=False)["jti"])
        )
        assert me(bearer, pair["access"]).status_code == 401  # expired anyway
        clock.shift(timedelta(days=1))  # refresh lifetime
        left = set(redis_client.scan_iter(match=keys.user_pattern()))
        # The user cache has its own TTL; the activity list and the known devices are kept
        # ACTIVITY_DAYS (bounded in size, and gone then too).
        kept = {keys.cached_user(user.pk), keys.activity(user.pk), keys.known_devices(user.pk)}
        assert left <= {k.encode() for k in kept}
        clock.shift(timedelta(days=90))
        left = set(redis_client.scan_iter(match=keys.user_pattern()))
        assert left <= {keys.cached_user(user.pk).encode()}


@pytest.mark.fake_only
def test_expired_revocation_record_does_not_revive_token(user, login, bearer):
    """Even past every TTL, a revoked token is refused (it is expired by then)."""
    with time_machine.travel(timezone.now(), tick=False) as clock:
        pair = login()
        bearer(pair["access"]).post("/auth/logout/")
        clock.shift(timedelta(days=2))
        assert me(bearer, pair["access"]).status_code == 401


def test_password_change_revokes_every_session(user, login, bearer):
    pair = login()
    user.set_password("another long passphrase")
    user.save()
    assert me(bearer, pair["access"]).status_code == 401


def test_unrelated_save_keeps_sessions(user, login, bearer):
    pair = login()
    user.first_name = "Alice"
    user.save()
    assert me(bearer, pair["access"]).status_code == 200


def test_deactivation_rejects_next_request(user, login, bearer):
    pair = login()
    assert me(bearer, pair["access"]).status_code == 200  # user now cached
    user.is_active = False
    user.save()
    assert me(bearer, pair["access"]).status_code == 401


def test_deletion_revokes(user, login, bearer):
    pair = login()
    assert me(bearer, pair["access"]).status_code == 200
    user.delete()
    assert me(bearer, pair["access"]).status_code == 401


def test_python_api_revoke_token_and_revoke_user(user, bearer, redis_client):
    pair = issue_token_pair(user)
    other = issue_token_pair(user)
    revocation.revoke_token(AccessToken(pair.access))
    assert me(bearer, pair.access).status_code == 401
    assert me(bearer, other.access).status_code == 200
    revocation.revoke_user(user)
    assert me(bearer, other.access).status_code == 401


def test_revoke_sessions_command(user, login, bearer, capsys):
    pair = login()
    call_command("revoke_sessions", "ALICE@example.com")
    assert "Revoked every session of ALICE@example.com" in capsys.readouterr().out
    assert me(bearer, pair["access"]).status_code == 401
    with pytest.raises(CommandError, match="No user"):
        call_command("revoke_sessions", "nobody@example.com")


def test_user_keys_share_one_hash_tag(user, login, bearer, redis_client):
    pair = login()
    bearer(pair["access"]).post("/auth/logout/")
    user_keys = list(redis_client.scan_iter(match=keys.user_pattern()))
    assert len(user_keys) >= 3
    assert {k.decode().split("}")[0] + "}" for k in user_keys} == {keys.user_tag(user.pk)}


def test_password_rehash_on_login_keeps_sessions(user, login, bearer, password, settings):
    """A hasher upgrade re-hashes the same password at the next login; that is no change."""
    pair = login()
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.PBKDF2PasswordHasher",
        "django.contrib.auth.hashers.MD5PasswordHasher",
    ]
    second = login()
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_")  # it was re-hashed
    assert me(bearer, pair["access"]).status_code == 200
    assert me(bearer, second["access"]).status_code == 200


def test_password_set_through_admin_form_revokes(user, login, bearer):
    from django.contrib.auth.forms import SetPasswordForm

    pair = login()
    form = SetPasswordForm(
        user, {"new_password1": "Zx9!long-new-pass", "new_password2": "Zx9!long-new-pass"}
    )
    assert form.is_valid(), form.errors
    form.save()
    assert me(bearer, pair["access"]).status_code == 401


def test_deactivation_revokes_even_if_the_user_is_reactivated_behind_the_signals(
    user, login, bearer, redis_client
):
    """Deactivation itself revokes (not only the is_active check): a token from before the
    deactivation stays dead after a signal-less reactivation."""
    pair = login()
    seen = []

    def receiver(sender, **kwargs):
        seen.append(kwargs["reason"])

    signals.tokens_revoked.connect(receiver)
    try:
        user.is_active = False
        user.save()
    finally:
        signals.tokens_revoked.disconnect(receiver)
    assert seen == ["deactivated"]
    get_user_model().objects.filter(pk=user.pk).update(is_active=True)  # no signals
    redis_client.delete(keys.cached_user(user.pk))
    assert me(bearer, pair["access"]).json()["code"] == "token_revoked"


def test_inactive_user_is_refused_even_without_a_revocation(user, login, bearer, redis_client):
    """The is_active check on its own: a row deactivated behind the signals is refused as
    soon as the user is read again."""
    pair = login()
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)  # no signals
    redis_client.delete(keys.cached_user(user.pk))
    response = me(bearer, pair["access"])
    assert response.status_code == 401
    assert response.json()["code"] == "user_inactive"


def test_check_user_is_active_off_lets_inactive_users_authenticate(make_user, bearer, monkeypatch):
    """simplejwt's CHECK_USER_IS_ACTIVE, honoured as simplejwt honours it (its default, on,
    is what the test above relies on)."""
    from django_redis_auth import authentication

    inactive = make_user(email="dormant@example.com", is_active=False)
    access = issue_token_pair(inactive).access
    assert me(bearer, access).json()["code"] == "user_inactive"
    monkeypatch.setattr(authentication.jwt_settings, "CHECK_USER_IS_ACTIVE", False)
    assert me(bearer, access).status_code == 200


def test_locking_an_account_with_an_unusable_password_revokes(user, login, bearer):
    pair = login()
    user.set_unusable_password()
    user.save(update_fields=["password"])
    assert me(bearer, pair["access"]).status_code == 401


def test_assigning_a_new_hash_directly_revokes(user, login, bearer):
    from django.contrib.auth.hashers import make_password

    pair = login()
    user.password = make_password("set by a script, not set_password")
    user.save(update_fields=["password"])
    assert me(bearer, pair["access"]).status_code == 401


def test_revoked_token_stays_dead_through_simplejwt_leeway(user, bearer, monkeypatch):
    """simplejwt accepts a token until exp + LEEWAY, so its revocation record lives as long.
    The leeway is set on simplejwt's backend, where its checks read it: simplejwt builds that
    backend once, so overriding SIMPLE_JWT would reach it or not depending on test order."""
    from rest_framework_simplejwt.backends import TokenBackend

    monkeypatch.setattr(TokenBackend, "get_leeway", lambda self: timedelta(seconds=60))
    with time_machine.travel(timezone.now(), tick=False) as clock:
        pair = issue_token_pair(user)
        access = AccessToken(pair.access)
        revocation.revoke_token(access)
        clock.move_to(datetime.fromtimestamp(access["exp"] + 30, tz=UTC))
        assert me(bearer, pair.access).status_code == 401


def test_logout_of_a_gone_family_does_not_create_an_immortal_key(user, redis_client):
    pair = issue_token_pair(user)
    refresh = RefreshToken(pair.refresh)
    family_key = keys.family(user.pk, refresh[claims.FAMILY_CLAIM])
    redis_client.delete(family_key)  # expired, or lost with Redis' data
    revocation.revoke_session(refresh)
    assert not redis_client.exists(family_key)
    for key in redis_client.scan_iter(match=keys.user_pattern()):
        assert redis_client.pttl(key) > 0, key  # every record still expires by itself
