"""Guarantee 3: one Redis round trip and zero queries per authenticated request."""

import pytest
from django.contrib.auth import get_user_model

from django_redis_auth import keys
from django_redis_auth.accounts import users_cache
from django_redis_auth.tokens.issuing import issue_token_pair
from django_redis_auth.tokens.memo import BoundedMemo

pytestmark = pytest.mark.django_db


def test_warm_request_is_one_round_trip_and_zero_queries(
    authenticate, user, round_trips, django_assert_num_queries
):
    pair = issue_token_pair(user)
    authenticate(pair.access)  # warms the user cache (and the connection)
    with round_trips() as rt, django_assert_num_queries(0):
        authed_user, _token = authenticate(pair.access)
    assert rt.count == 1
    assert rt.commands == [b"MGET"]
    assert authed_user.pk == user.pk and authed_user.email == user.email


def test_http_request_is_one_round_trip_and_zero_queries(
    user, bearer, me_path, round_trips, django_assert_num_queries
):
    client = bearer(issue_token_pair(user).access)
    client.get(me_path)
    with round_trips() as rt, django_assert_num_queries(0):
        response = client.get(me_path)
    assert response.status_code == 200, response.content
    assert response.json()["email"] == user.email
    assert rt.count == 1
    assert rt.commands == [b"MGET"]


def test_cold_cache_loads_from_db_once_then_serves_from_redis(
    authenticate, user, round_trips, django_assert_num_queries
):
    pair = issue_token_pair(user)
    with django_assert_num_queries(1), round_trips() as rt:
        authenticate(pair.access)
    # the check, the cache version (read before the row), the guarded refill
    assert rt.commands == [b"MGET", b"GET", b"EVALSHA"]
    with django_assert_num_queries(0):
        authenticate(pair.access)


def test_cached_user_is_a_real_instance_without_password(authenticate, user, redis_client):
    pair = issue_token_pair(user)
    authenticate(pair.access)
    raw = redis_client.get(keys.cached_user(user.pk))
    assert user.password.encode() not in raw
    assert b"password" not in raw
    cached, _ = authenticate(pair.access)
    assert isinstance(cached, get_user_model())
    assert cached.is_authenticated and cached.is_active and not cached.is_staff
    assert cached.date_joined == user.date_joined
    assert "password" in cached.get_deferred_fields()


def test_no_password_hash_anywhere_in_redis(user, login, bearer, redis_client):
    pair = login()
    bearer(pair["access"]).get("/auth/me/")
    bearer(pair["access"]).post("/auth/logout/")
    hash_ = get_user_model().objects.get(pk=user.pk).password.encode()
    for key in redis_client.scan_iter():
        kind = redis_client.type(key)
        values = [redis_client.get(key)] if kind == b"string" else []
        if kind == b"hash":
            values = list(redis_client.hgetall(key).values())
        for value in values:
            assert hash_ not in value
            assert b"pbkdf2" not in value and b"md5$" not in value


def test_saving_a_cached_user_never_blanks_the_password(authenticate, user, password):
    pair = issue_token_pair(user)
    authenticate(pair.access)
    cached, _ = authenticate(pair.access)
    cached.first_name = "Alice"
    cached.save()
    fresh = get_user_model().objects.get(pk=user.pk)
    assert fresh.first_name == "Alice"
    assert fresh.check_password(password)


def test_save_invalidates_cache(authenticate, user, bearer, redis_client):
    client = bearer(issue_token_pair(user).access)
    client.get("/auth/me/")
    assert redis_client.exists(keys.cached_user(user.pk))
    user.first_name = "Changed"
    user.save()
    assert not redis_client.exists(keys.cached_user(user.pk))
    assert client.get("/auth/me/").status_code == 200
    cached, _ = authenticate(client._credentials["HTTP_AUTHORIZATION"].split()[1])
    assert cached.first_name == "Changed"


def test_invalidation_also_runs_after_commit(
    user, django_capture_on_commit_callbacks, redis_client
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        user.first_name = "X"
        user.save()
    # a reader refilled from the pre-commit row (its version read after the first drop)
    assert users_cache.fill(user.pk, user, users_cache.cached_version(user.pk))
    for callback in callbacks:
        callback()
    assert not redis_client.exists(keys.cached_user(user.pk))


def test_a_reader_holding_a_row_from_before_a_change_cannot_put_it_back(
    authenticate, make_user, redis_client, monkeypatch
):
    """Reader R loads the row, writer W removes is_staff and invalidates, then R refills:
    the refill must not land, or the revoked privilege would live for USER_CACHE_TTL."""
    staff = make_user(email="staff@example.com", is_staff=True)
    pair = issue_token_pair(staff)
    real_load = users_cache.load_from_db

    def load_then_writer_commits(user_id):
        row = real_load(user_id)  # R: the row as it was
        writer = get_user_model().objects.get(pk=user_id)
        writer.is_staff = False
        writer.save()  # W: invalidates (its on-commit drop is already done by then)
        return row

    monkeypatch.setattr(users_cache, "load_from_db", load_then_writer_commits)
    stale = users_cache.get_user(staff.pk)
    monkeypatch.undo()
    assert stale.is_staff  # R itself answered with what it read: fine, it read first
    assert not redis_client.exists(keys.cached_user(staff.pk))  # but it did not cache it
    fresh, _ = authenticate(pair.access)
    assert fresh.is_staff is False


def test_refill_lands_when_nothing_changed(user, redis_client):
    version = users_cache.cached_version(user.pk)
    assert users_cache.fill(user.pk, user, version)
    assert redis_client.exists(keys.cached_user(user.pk))
    users_cache.invalidate(user.pk)
    assert not users_cache.fill(user.pk, user, version)  # invalidated since: refused
    assert not redis_client.exists(keys.cached_user(user.pk))
    assert 0 < redis_client.ttl(keys.cached_user_version(user.pk)) <= 300  # expires too


def test_delete_invalidates_cache(user, bearer, redis_client):
    bearer(issue_token_pair(user).access).get("/auth/me/")
    user.delete()
    assert not redis_client.exists(keys.cached_user(user.pk))


def test_stale_cache_format_is_ignored(authenticate, user, redis_client, django_assert_num_queries):
    pair = issue_token_pair(user)
    redis_client.set(keys.cached_user(user.pk), b'{"v":0,"f":{}}')
    with django_assert_num_queries(1):
        cached, _ = authenticate(pair.access)
    assert cached.pk == user.pk
    redis_client.set(keys.cached_user(user.pk), b"not json")
    cached, _ = authenticate(pair.access)
    assert cached.pk == user.pk


def test_each_request_gets_its_own_user_instance(authenticate, user):
    pair = issue_token_pair(user)
    authenticate(pair.access)  # fills the cache
    first, _ = authenticate(pair.access)
    first.first_name = "Mallory"
    first.__dict__["extra"] = object()
    second, _ = authenticate(pair.access)
    assert second is not first
    assert second.first_name == user.first_name
    assert "extra" not in second.__dict__
    assert not second._state.adding and second._state.db == "default"


def test_parsed_rows_memo_is_bounded_and_skips_mutable_values(user, monkeypatch):
    monkeypatch.setattr(users_cache, "_ROWS", BoundedMemo(3))
    entries = []
    for name in ("a", "b", "c", "d"):
        user.first_name = name
        entries.append(users_cache.serialize(user))
    for raw in entries:
        assert users_cache.deserialize(raw).first_name in "abcd"
    assert len(users_cache._ROWS) == 3  # the oldest entry made room
    assert users_cache.deserialize(entries[0]).first_name == "a"  # parsed again, still right

    real_parse = users_cache._parse

    def parse_with_a_list(model, raw):
        row = real_parse(model, raw)
        return (*row[:-1], ["mutable"]) if row else row

    monkeypatch.setattr(users_cache, "_ROWS", BoundedMemo(3))
    monkeypatch.setattr(users_cache, "_parse", parse_with_a_list)
    users_cache.deserialize(entries[1])
    assert len(users_cache._ROWS) == 0


def test_deleted_user_token_is_refused(user, bearer, me_path):
    pair = issue_token_pair(user)
    get_user_model().objects.filter(pk=user.pk).delete()  # queryset delete: signals still fire
    response = bearer(pair.access).get(me_path)
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "code"}


def test_bad_tokens_are_401_json(bearer, api, me_path):
    for header, code in [
        ("Bearer", "bad_authorization_header"),
        ("Bearer a b", "bad_authorization_header"),
        ("Bearer not.a.jwt", "token_not_valid"),
    ]:
        api.credentials(HTTP_AUTHORIZATION=header)
        response = api.get(me_path)
        assert response.status_code == 401
        assert set(response.json()) == {"detail", "code"}
        if not me_path.startswith("/ninja/"):  # (django-ninja parses the header itself)
            assert response.json()["code"] == code  # simplejwt's own code, not a generic one


def test_cached_user_is_built_exactly_as_from_db_builds_it(user):
    from django.db.models.signals import post_init

    received = []

    def receiver(sender, instance, **kwargs):
        received.append(instance)

    raw = users_cache.serialize(user)
    post_init.connect(receiver, sender=get_user_model())
    try:
        built = users_cache.deserialize(raw)
    finally:
        post_init.disconnect(receiver, sender=get_user_model())
    reference = get_user_model().objects.defer("password").get(pk=user.pk)

    def fields(instance):
        return {k: v for k, v in instance.__dict__.items() if k != "_state"}

    assert fields(built) == fields(reference)
    assert built.get_deferred_fields() == reference.get_deferred_fields() == {"password"}
    assert (built._state.adding, built._state.db) == (False, "default")
    assert received and received[-1] is built  # post_init is sent, as Model.__init__ sends it


def test_cached_user_honours_pre_init_receivers(user):
    from django.db.models.signals import pre_init

    seen = []

    def receiver(sender, **kwargs):
        seen.append(sender)

    raw = users_cache.serialize(user)
    pre_init.connect(receiver, sender=get_user_model())
    try:
        built = users_cache.deserialize(raw)
    finally:
        pre_init.disconnect(receiver, sender=get_user_model())
    assert seen == [get_user_model()]  # Model.__init__ ran (through from_db)
    assert built.pk == user.pk and built.get_deferred_fields() == {"password"}


def test_an_entry_written_for_other_fields_is_not_read(user, monkeypatch):
    raw = users_cache.serialize(user)
    layout = users_cache._layout(get_user_model())
    monkeypatch.setattr(
        users_cache, "_layout", lambda model: layout._replace(signature="0" * 8)
    )  # as after a migration renamed or retyped a field
    assert users_cache.deserialize(raw) is None
