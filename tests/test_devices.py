"""The device list: sessions/ , sessions/<id>/ and sessions/revoke-others/, and the session
records behind them (families.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from django_redis_auth import keys, signals
from django_redis_auth.tokens import devices, families
from tests.helpers import override_package

pytestmark = pytest.mark.django_db

CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
PHONE = "MyApp/2.1 (iPhone; iOS 17.1)"


def sign_in(password, ip="203.0.113.7", user_agent=CHROME, email="alice@example.com"):
    response = APIClient().post(
        "/auth/login/",
        {"email": email, "password": password},
        format="json",
        REMOTE_ADDR=ip,
        HTTP_USER_AGENT=user_agent,
    )
    assert response.status_code == 200, response.content
    return response.json()


def family_of(pair) -> str:
    return AccessToken(pair["access"], verify=False)["fam"]


def listing(bearer, pair):
    response = bearer(pair["access"]).get("/auth/sessions/")
    assert response.status_code == 200, response.content
    return response.json()


def test_lists_one_entry_per_sign_in_with_its_device(user, password, bearer):
    with time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False):
        laptop = sign_in(password)
    with time_machine.travel(datetime(2026, 3, 1, 12, 5, tzinfo=UTC), tick=False):
        phone = sign_in(password, ip="2001:db8:85a3:8d3:1319:8a2e:370:7348", user_agent=PHONE)
        entries = listing(bearer, phone)
    assert [e["id"] for e in entries] == [family_of(phone), family_of(laptop)]
    newest, oldest = entries
    assert set(newest) == {"id", "created", "last_used", "user_agent", "ip", "current"}
    assert newest == {
        "id": family_of(phone),
        "created": "2026-03-01T12:05:00Z",
        "last_used": "2026-03-01T12:05:00Z",
        "user_agent": PHONE,
        "ip": "2001:db8:85a3::",
        "current": True,
    }
    assert oldest["ip"] == "203.0.113.0"  # coarsened to /24
    assert oldest["user_agent"] == CHROME[:64]  # truncated
    assert oldest["current"] is False


def test_last_used_is_the_last_refresh_and_ip_and_agent_the_opening_device(user, password, bearer):
    with time_machine.travel(datetime(2026, 3, 1, 12, 0, tzinfo=UTC), tick=False):
        pair = sign_in(password)
    with time_machine.travel(datetime(2026, 3, 1, 13, 30, tzinfo=UTC), tick=False):
        rotated = APIClient().post(
            "/auth/token/refresh/",
            {"refresh": pair["refresh"]},
            format="json",
            REMOTE_ADDR="198.51.100.23",
            HTTP_USER_AGENT=PHONE,
        )
        assert rotated.status_code == 200
        (entry,) = listing(bearer, rotated.json())
    assert entry["created"] == "2026-03-01T12:00:00Z"
    assert entry["last_used"] == "2026-03-01T13:30:00Z"
    # The device that signed in, not whoever refreshed last.
    assert entry["ip"] == "203.0.113.0"
    assert entry["user_agent"] == CHROME[:64]


def test_an_authenticated_request_writes_nothing(user, password, bearer, round_trips):
    pair = sign_in(password)
    client = bearer(pair["access"])
    client.get("/auth/me/")  # warm the user cache
    with round_trips() as rt:
        assert client.get("/auth/me/").status_code == 200
    assert rt.commands == [b"MGET"]


def test_listing_is_two_round_trips_whatever_the_number_of_users(
    make_user, password, bearer, round_trips
):
    make_user()
    for n in range(30):
        make_user(email=f"user{n}@example.com")
        sign_in(password, email=f"user{n}@example.com")
    pairs = [sign_in(password) for _ in range(3)]
    bearer(pairs[0]["access"]).get("/auth/me/")
    user_id = AccessToken(pairs[0]["access"])["user_id"]
    with round_trips() as rt:
        found = devices.list_devices(user_id)
    assert len(found) == 3
    assert rt.count == 2
    assert b"SCAN" not in rt.commands and b"KEYS" not in rt.commands


def test_ip_and_user_agent_settings(user, password, bearer):
    with override_package(SESSION_IPV4_PREFIX=32, SESSION_USER_AGENT_MAX=10):
        pair = sign_in(password)
        (entry,) = listing(bearer, pair)
    assert entry["ip"] == "203.0.113.7"
    assert entry["user_agent"] == CHROME[:10]
    with override_package(SESSION_IPV4_PREFIX=0):
        pair = sign_in(password)
        entry = next(e for e in listing(bearer, pair) if e["current"])
    assert entry["ip"] is None


def test_delete_signs_that_device_out_at_once(user, password, bearer):
    laptop, phone = sign_in(password), sign_in(password, user_agent=PHONE)
    assert bearer(laptop["access"]).get("/auth/me/").status_code == 200
    response = bearer(phone["access"]).delete(f"/auth/sessions/{family_of(laptop)}/")
    assert response.status_code == 204
    refused = bearer(laptop["access"]).get("/auth/me/")
    assert refused.status_code == 401 and refused.json()["code"] == "token_revoked"
    again = APIClient().post("/auth/token/refresh/", {"refresh": laptop["refresh"]}, format="json")
    assert again.status_code == 401
    assert bearer(phone["access"]).get("/auth/me/").status_code == 200
    assert [e["id"] for e in listing(bearer, phone)] == [family_of(phone)]


def test_delete_of_an_unknown_revoked_or_foreign_session_is_404(make_user, password, bearer):
    make_user()
    make_user(email="bob@example.com")
    alice = sign_in(password)
    bob = sign_in(password, email="bob@example.com")
    client = bearer(alice["access"])
    for session_id in ("nope", family_of(bob), "bad{id}", "x" * 100):
        response = client.delete(f"/auth/sessions/{session_id}/")
        assert response.status_code == 404, session_id
        assert response.json()["code"] == "session_not_found"
    assert bearer(bob["access"]).get("/auth/me/").status_code == 200  # untouched
    other = sign_in(password)
    assert client.delete(f"/auth/sessions/{family_of(other)}/").status_code == 204
    assert client.delete(f"/auth/sessions/{family_of(other)}/").status_code == 404


def test_revoke_others_keeps_only_the_caller(user, password, bearer):
    others = [sign_in(password) for _ in range(3)]
    me = sign_in(password, user_agent=PHONE)
    assert bearer(me["access"]).post("/auth/sessions/revoke-others/").status_code == 204
    for pair in others:
        assert bearer(pair["access"]).get("/auth/me/").status_code == 401
    assert bearer(me["access"]).get("/auth/me/").status_code == 200
    assert [e["id"] for e in listing(bearer, me)] == [family_of(me)]
    rotated = APIClient().post("/auth/token/refresh/", {"refresh": me["refresh"]}, format="json")
    assert rotated.status_code == 200


def test_session_revoked_signal(user, password, bearer):
    received = []
    signals.session_revoked.connect(lambda **kw: received.append(kw), weak=False, dispatch_uid="t")
    try:
        a, b, c = sign_in(password), sign_in(password), sign_in(password)
        bearer(c["access"]).delete(f"/auth/sessions/{family_of(a)}/")
        bearer(c["access"]).post("/auth/sessions/revoke-others/")
    finally:
        signals.session_revoked.disconnect(dispatch_uid="t")
    assert [(r["session_id"], r["reason"]) for r in received] == [
        (family_of(a), "api"),
        (family_of(b), "others"),
    ]


def test_logout_and_logout_all_leave_the_list(user, password, bearer):
    a, b = sign_in(password), sign_in(password)
    bearer(a["access"]).post("/auth/logout/")
    assert [e["id"] for e in listing(bearer, b)] == [family_of(b)]
    bearer(b["access"]).post("/auth/logout/all/")
    c = sign_in(password)
    assert [e["id"] for e in listing(bearer, c)] == [family_of(c)]


def test_expired_sessions_leave_the_index(user, password, bearer, redis_client):
    start = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(start, tick=False):
        old = sign_in(password)
    user_id = AccessToken(old["access"], verify=False)["user_id"]
    # A day later (the refresh lifetime) the old family is gone; the new sign-in prunes it.
    with time_machine.travel(start + timedelta(days=1, seconds=1), tick=False):
        redis_client.delete(keys.family(user_id, family_of(old)))  # what its TTL does
        new = sign_in(password)
        assert [d.id for d in devices.list_devices(user_id)] == [family_of(new)]
        members = redis_client.zrange(keys.session_index(user_id), 0, -1)
        assert [m.decode() for m in members] == [family_of(new)]


def test_vanished_families_are_pruned_by_the_listing(user, password, redis_client):
    pairs = [sign_in(password) for _ in range(3)]
    user_id = AccessToken(pairs[0]["access"])["user_id"]
    redis_client.delete(keys.family(user_id, family_of(pairs[0])))
    assert {d.id for d in devices.list_devices(user_id)} == {family_of(p) for p in pairs[1:]}
    assert redis_client.zcard(keys.session_index(user_id)) == 2


def test_record_lives_in_the_family_key_with_its_ttl(user, password, redis_client):
    pair = sign_in(password)
    access = AccessToken(pair["access"])
    family_key = keys.family(access["user_id"], access["fam"])
    record = redis_client.get(family_key).decode()
    digest, _created, _last, ip, user_agent = record.split("|", 4)
    assert digest == families.jti_digest(RefreshToken(pair["refresh"])["jti"])
    assert (ip, user_agent) == ("203.0.113.0", CHROME[:64])
    ttl, index_ttl = (
        redis_client.pttl(family_key),
        redis_client.pttl(keys.session_index(access["user_id"])),
    )
    assert 0 < ttl <= index_ttl + 1000 and index_ttl <= 86_400_000  # same TTL, read apart
    # Nothing of the tokens themselves is in Redis.
    everything = b"".join(redis_client.get(k) or b"" for k in redis_client.keys("*:fam:*"))
    assert pair["refresh"].encode() not in everything and pair["access"].encode() not in everything


def test_a_family_written_before_records_existed_still_rotates_and_gets_listed(
    user, password, bearer, redis_client
):
    pair = sign_in(password)
    refresh = RefreshToken(pair["refresh"])
    family_key = keys.family(refresh["user_id"], refresh["fam"])
    redis_client.set(family_key, refresh["jti"], keepttl=True)  # the old layout: bare jti
    redis_client.delete(keys.session_index(refresh["user_id"]))
    rotated = APIClient().post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert rotated.status_code == 200
    assert [e["id"] for e in listing(bearer, rotated.json())] == [refresh["fam"]]
    reuse = APIClient().post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert reuse.status_code == 401 and reuse.json()["code"] == "token_reused"


def test_sessions_need_authentication(api):
    assert api.get("/auth/sessions/").status_code == 401
    assert api.post("/auth/sessions/revoke-others/").status_code == 401
    assert api.delete("/auth/sessions/abc/").status_code == 401


@pytest.mark.parametrize(
    ("ip", "coarse"),
    [
        ("203.0.113.77", "203.0.113.0"),
        ("::ffff:192.0.2.9", "192.0.2.0"),
        ("2001:db8::1", "2001:db8::"),
        ("unknown", ""),
        (None, ""),
    ],
)
def test_coarse_ip(ip, coarse):
    assert families.coarse_ip(ip) == coarse


@pytest.mark.real
def test_signing_a_device_out_waits_for_replica_acknowledgement(user, password, bearer, settings):
    """REPLICA_ACKS applies to the device list's sign-outs as to logout: without a replica
    to acknowledge, 503 (the session is still revoked on the master)."""
    from django.test import override_settings

    from tests.redis_servers import RedisServer
    from tests.test_outage import _factory_url

    with RedisServer() as lonely:
        _factory_url[0] = lonely.url()
        package = {
            **settings.DJANGO_REDIS_AUTH,
            "REDIS_CLIENT_FACTORY": "tests.test_outage.url_client",
        }
        with override_settings(DJANGO_REDIS_AUTH=package):
            laptop, tablet, phone = sign_in(password), sign_in(password), sign_in(password)
        with override_settings(
            DJANGO_REDIS_AUTH={**package, "REPLICA_ACKS": 1, "REPLICA_ACK_TIMEOUT": 50}
        ):
            client = bearer(phone["access"])
            response = client.delete(f"/auth/sessions/{family_of(laptop)}/")
            assert (response.status_code, response.json()["code"]) == (503, "auth_unavailable")
            assert bearer(laptop["access"]).get("/auth/me/").status_code == 401
            response = client.post("/auth/sessions/revoke-others/")
            assert response.status_code == 503
            assert bearer(tablet["access"]).get("/auth/me/").status_code == 401
