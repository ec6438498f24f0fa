"""End to end against a real 3-master Redis Cluster started by the test suite (guarantee 7).

The package reaches the cluster through ``REDIS_CLIENT_FACTORY`` (django-redis has no cluster
client). Redis Cluster refuses any multi-key command, transaction or script whose keys are in
different slots (CROSSSLOT), so every flow passing here proves that the per-user hash tag
``{u<id>}`` keeps each multi-key operation in one slot, while different users still spread
over the masters.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import override_settings
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster, key_slot
from redis.retry import Retry

from django_redis_auth import keys, store
from django_redis_auth.codes.purposes import Purpose
from tests.redis_counting import CountingConnection
from tests.redis_servers import RedisClusterServers, redis_cluster

pytestmark = [pytest.mark.real, pytest.mark.django_db]

# Set by the ``cluster`` fixture; read by the factory below, which the package calls lazily.
CLUSTER_PORT: int | None = None


def cluster_client() -> RedisCluster:
    """The ``REDIS_CLIENT_FACTORY`` under test: what a project puts in its settings.

    ``from_url`` rather than ``RedisCluster(host=..., port=...)`` only because that form is
    the one that passes ``connection_class`` (our round-trip counter) on to every node.
    Short timeouts and a bounded ``retry``, as docs/cluster.md recommends, so an outage
    becomes a 503 quickly."""
    assert CLUSTER_PORT is not None, "the cluster fixture is not active"
    return RedisCluster.from_url(
        f"redis://127.0.0.1:{CLUSTER_PORT}",
        connection_class=CountingConnection,
        retry=Retry(NoBackoff(), 1),
        socket_connect_timeout=1,
        socket_timeout=1,
    )


@pytest.fixture(scope="module")
def cluster() -> Iterator[RedisClusterServers]:
    global CLUSTER_PORT
    with redis_cluster(masters=3) as servers:
        CLUSTER_PORT = servers.ports[0]
        try:
            yield servers
        finally:
            CLUSTER_PORT = None


@pytest.fixture(autouse=True)
def on_cluster(cluster: RedisClusterServers) -> Iterator[RedisClusterServers]:
    """Point the package at the (emptied, healthy) cluster for one test."""
    for node in cluster.nodes:
        node.start()  # no-op when running; revives a node an earlier failed test left down
    cluster.wait_until_ok()
    cluster.flushall()
    config = {
        **settings.DJANGO_REDIS_AUTH,
        "REDIS_CLIENT_FACTORY": "tests.test_cluster.cluster_client",
    }
    with override_settings(DJANGO_REDIS_AUTH=config):
        assert store.is_cluster()
        yield cluster


def user_keys(user_id: object) -> list[str]:
    """Every per-user key name the revocation check and rotation touch."""
    return [
        keys.epoch(user_id),
        keys.family(user_id, "some-family"),
        keys.session_index(user_id),
        keys.revoked_jti(user_id, "some-jti"),
        keys.cached_user(user_id),
    ]


def keys_by_node(cluster: RedisClusterServers) -> dict[int, list[str]]:
    """What each master actually stores (port -> key names)."""
    return {
        node.port: sorted(k.decode() for k in node.client().scan_iter(count=1000))
        for node in cluster.nodes
    }


def test_all_keys_of_a_user_share_one_slot():
    for user_id in [*range(1, 200), 10**9, "4f1c-uuid-like"]:
        slots = {key_slot(k.encode()) for k in user_keys(user_id)}
        assert len(slots) == 1, (user_id, slots)
        assert slots == {key_slot(keys.user_tag(user_id).encode())}


def test_users_spread_over_masters_while_each_user_stays_in_one_slot(
    cluster, make_user, login, password
):
    user_ids = list(range(101, 109))
    for user_id in user_ids:
        make_user(id=user_id, email=f"user{user_id}@example.com")
        login(email=f"user{user_id}@example.com")

    stored = keys_by_node(cluster)
    nodes_of_user: dict[int, set[int]] = {uid: set() for uid in user_ids}
    slots_of_user: dict[int, set[int]] = {uid: set() for uid in user_ids}
    for port, names in stored.items():
        for name in names:
            uid = next(u for u in user_ids if name.startswith(keys.user_tag(u) + ":"))
            nodes_of_user[uid].add(port)
            slots_of_user[uid].add(key_slot(name.encode()))
    for uid in user_ids:
        assert len(nodes_of_user[uid]) == 1, (uid, nodes_of_user[uid])
        assert len(slots_of_user[uid]) == 1, (uid, slots_of_user[uid])
    used_nodes = set().union(*nodes_of_user.values())
    assert len(used_nodes) > 1, "every user landed on one master: keys are not spread"


def mget_calls(cluster: RedisClusterServers) -> dict[int, int]:
    """MGETs each master has executed (server-side counter, independent of the client)."""
    calls = {}
    for node in cluster.nodes:
        stats = node.client().info("commandstats")
        calls[node.port] = int(stats.get("cmdstat_mget", {}).get("calls", 0))
    return calls


def test_authenticated_request_is_one_mget_in_one_slot(
    cluster, user, login, bearer, round_trips, django_assert_num_queries
):
    client = bearer(login()["access"])
    assert client.get("/auth/me/").status_code == 200  # warms the user cache
    before = mget_calls(cluster)
    with round_trips() as rt, django_assert_num_queries(0):
        response = client.get("/auth/me/")
    after = mget_calls(cluster)
    assert response.status_code == 200
    assert response.json()["email"] == user.email
    assert rt.count == 1
    assert rt.commands == [b"MGET"]
    # Exactly one master ran it: the one that owns the user's slot.
    owner = store.get_client().get_node_from_key(keys.user_tag(user.pk))
    assert {port: after[port] - before[port] for port in after if after[port] != before[port]} == {
        owner.port: 1
    }


def test_data_loss_on_the_cluster_refuses_old_tokens(api, cluster, user, login, bearer):
    pair = login()
    cluster.flushall()  # every master lost its data (restart without persistence, failover)
    assert bearer(pair["access"]).get("/auth/me/").status_code == 401
    refreshed = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert refreshed.status_code == 401
    assert bearer(login()["access"]).get("/auth/me/").status_code == 200


def test_a_master_down_then_back_empty_affects_only_its_own_users(
    api, cluster, make_user, login, bearer
):
    """One master stops: the users whose slot it owns get 503 (never 200, never 500) while
    the others carry on. It comes back empty on the same port: its users' old tokens are
    refused (401), they sign in again, and the cached cluster client recovered by itself."""
    client = store.get_client()

    def node_of(user_id: int) -> int:
        return client.get_node_from_key(keys.user_tag(user_id)).port

    victim = cluster.nodes[1]  # not the startup node the factory names
    ids = list(range(201, 260))
    on_victim = next(i for i in ids if node_of(i) == victim.port)
    elsewhere = next(i for i in ids if node_of(i) != victim.port)
    users = {}
    for uid in (on_victim, elsewhere):
        users[uid] = make_user(id=uid, email=f"user{uid}@example.com")
    pairs = {uid: login(email=f"user{uid}@example.com") for uid in users}

    victim.stop()
    down = bearer(pairs[on_victim]["access"]).get("/auth/me/")
    assert down.status_code == 503
    assert down.json()["code"] == "auth_unavailable"
    assert bearer(pairs[elsewhere]["access"]).get("/auth/me/").status_code == 200

    victim.start()  # same port and node id (nodes.conf), no data
    cluster.wait_until_ok()
    assert victim.client().dbsize() == 0
    assert bearer(pairs[on_victim]["access"]).get("/auth/me/").status_code == 401
    refreshed = api.post(
        "/auth/token/refresh/", {"refresh": pairs[on_victim]["refresh"]}, format="json"
    )
    assert refreshed.status_code == 401
    fresh = login(email=f"user{on_victim}@example.com")
    assert bearer(fresh["access"]).get("/auth/me/").status_code == 200
    assert bearer(pairs[elsewhere]["access"]).get("/auth/me/").status_code == 200
    assert store.get_client() is client


def test_login_then_me(user, login, bearer):
    pair = login()
    me = bearer(pair["access"]).get("/auth/me/")
    assert me.status_code == 200
    assert me.json()["email"] == "alice@example.com"


def test_refresh_rotation_and_reuse_detection(api, user, login, bearer):
    first = login()
    rotated = api.post("/auth/token/refresh/", {"refresh": first["refresh"]}, format="json")
    assert rotated.status_code == 200, rotated.content
    second = rotated.json()
    assert bearer(second["access"]).get("/auth/me/").status_code == 200

    reused = api.post("/auth/token/refresh/", {"refresh": first["refresh"]}, format="json")
    assert reused.status_code == 401
    assert reused.json()["code"] == "token_reused"
    # Reuse killed the whole family: the legitimate newest tokens die with it.
    again = api.post("/auth/token/refresh/", {"refresh": second["refresh"]}, format="json")
    assert again.status_code == 401
    assert bearer(second["access"]).get("/auth/me/").status_code == 401
    assert bearer(first["access"]).get("/auth/me/").status_code == 401


def test_logout_revokes_access_and_refresh(api, user, login, bearer):
    pair = login()
    other = login()  # another device keeps working
    client = bearer(pair["access"])
    response = client.post("/auth/logout/", {"refresh": pair["refresh"]}, format="json")
    assert response.status_code == 204
    assert client.get("/auth/me/").status_code == 401
    refreshed = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert refreshed.status_code == 401
    assert bearer(other["access"]).get("/auth/me/").status_code == 200


def test_logout_all_revokes_every_device(api, user, login, bearer):
    devices = [login() for _ in range(3)]
    response = bearer(devices[0]["access"]).post("/auth/logout/all/")
    assert response.status_code == 204
    for pair in devices:
        assert bearer(pair["access"]).get("/auth/me/").status_code == 401
        refreshed = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
        assert refreshed.status_code == 401
    assert bearer(login()["access"]).get("/auth/me/").status_code == 200


def test_password_change_revokes_every_session(user, login, bearer):
    pairs = [login(), login()]
    stored = get_user_model().objects.get(pk=user.pk)
    stored.set_password("a brand new passphrase 42")
    stored.save()
    for pair in pairs:
        assert bearer(pair["access"]).get("/auth/me/").status_code == 401
    fresh = login(pw="a brand new passphrase 42")
    assert bearer(fresh["access"]).get("/auth/me/").status_code == 200


def test_device_list_and_sign_outs_on_cluster(api, user, login, bearer, password):
    a, b, c = login(), login(), login()
    client = bearer(c["access"])
    listed = client.get("/auth/sessions/").json()
    assert len(listed) == 3 and sum(e["current"] for e in listed) == 1
    family = next(e["id"] for e in listed if not e["current"])
    assert client.delete(f"/auth/sessions/{family}/").status_code == 204
    assert client.post("/auth/sessions/revoke-others/").status_code == 204
    for pair in (a, b):
        assert bearer(pair["access"]).get("/auth/me/").status_code == 401
    assert [e["current"] for e in client.get("/auth/sessions/").json()] == [True]
    changed = client.post(
        "/auth/password/change/",
        {"current_password": password, "new_password": "a brand new passphrase 42"},
        format="json",
    )
    assert changed.status_code == 200
    assert bearer(changed.json()["access"]).get("/auth/me/").status_code == 200


def test_whole_cluster_down_is_503_then_recovers(api, cluster, user, login, bearer, password):
    pair = login()
    client = bearer(pair["access"])
    for node in cluster.nodes:
        node.stop()
    for response in (
        client.get("/auth/me/"),
        client.post("/auth/logout/all/"),
        api.post("/auth/login/", {"email": user.email, "password": password}, format="json"),
    ):
        assert response.status_code == 503, response.content
        assert response.json()["code"] == "auth_unavailable"
    for node in cluster.nodes:
        node.start()  # back empty (no persistence), same ports and node ids
    cluster.wait_until_ok()
    assert client.get("/auth/me/").status_code == 401  # lost data never revives a token
    assert bearer(login()["access"]).get("/auth/me/").status_code == 200


# -- one-time codes on the cluster --------------------------------------------------------


def test_code_issue_and_verify_on_cluster(round_trips):
    """Issue and verify are Lua scripts over the email's keys (``{e<digest>}``): one slot,
    one round trip each once the scripts are loaded."""
    from django_redis_auth.codes import otp
    from django_redis_auth.exceptions import InvalidCode, RateLimited

    email = "carol@example.com"
    email_keys = [keys.code(email, Purpose.LOGIN), keys.limits(email)]
    assert len({key_slot(k.encode()) for k in email_keys}) == 1

    code = otp.issue_code(email, Purpose.LOGIN)
    assert code is not None
    with pytest.raises(InvalidCode):
        otp.verify_code(email, Purpose.LOGIN, "x" + code[1:])
    with round_trips() as rt:
        otp.verify_code(email, Purpose.LOGIN, code)
    assert rt.count == 1
    assert rt.commands == [b"EVALSHA"]
    with pytest.raises(InvalidCode):
        otp.verify_code(email, Purpose.LOGIN, code)  # single use
    with pytest.raises(RateLimited):
        otp.issue_code(email, Purpose.LOGIN)  # resend cooldown


def test_per_ip_cap_on_cluster_is_a_separate_slot_and_round_trip(cluster, round_trips):
    from django_redis_auth.codes import otp
    from django_redis_auth.exceptions import RateLimited

    ip = "203.0.113.9"
    ip_slot = key_slot(keys.ip_limits(ip).encode())
    config = {
        **settings.DJANGO_REDIS_AUTH,
        "REDIS_CLIENT_FACTORY": "tests.test_cluster.cluster_client",
        "HOURLY_CAP_PER_IP": 2,
    }
    with override_settings(DJANGO_REDIS_AUTH=config):
        otp.issue_code("warm@example.com", Purpose.LOGIN, client_ip="198.51.100.1")  # loads scripts
        emails = ["a@example.com", "b@example.com", "c@example.com"]
        assert all(key_slot(keys.email_tag(e).encode()) != ip_slot for e in emails)
        with round_trips() as rt:
            assert otp.issue_code(emails[0], Purpose.LOGIN, client_ip=ip) is not None
        # The IP cap script, then the email script: two round trips (one on a single Redis).
        assert rt.count == 2
        assert rt.commands == [b"EVALSHA", b"EVALSHA"]
        # A request refused by the email script (cooldown) gives its IP count back ...
        with pytest.raises(RateLimited):
            otp.issue_code(emails[0], Purpose.LOGIN, client_ip=ip)
        # ... so the cap of 2 still allows a second address, then refuses the third.
        assert otp.issue_code(emails[1], Purpose.LOGIN, client_ip=ip) is not None
        with pytest.raises(RateLimited):
            otp.issue_code(emails[2], Purpose.LOGIN, client_ip=ip)


def test_password_guard_on_cluster_two_slots_two_round_trips(cluster, round_trips):
    """The address' records share its ``{e…}`` slot; the IP's spraying count is in another
    slot, so an attempt is two round trips (three when the delay refuses a failure)."""
    from django_redis_auth.accounts import password_guard
    from django_redis_auth.exceptions import LoginThrottled

    email, ip = "dave@example.com", "203.0.113.9"
    assert key_slot(keys.login_failures(email, ip).encode()) == key_slot(
        keys.account_failures(email).encode()
    )
    assert key_slot(keys.ip_limits(ip).encode()) != key_slot(keys.account_failures(email).encode())
    password_guard.attempt("warm@example.com", "198.51.100.1", False)  # loads the script
    with round_trips() as rt:
        assert not password_guard.attempt(email, ip, False).ok
    assert (rt.count, rt.commands) == (2, [b"EVALSHA", b"EVALSHA"])
    for _ in range(4):
        password_guard.attempt(email, ip, False)
    with round_trips() as rt, pytest.raises(LoginThrottled):
        password_guard.attempt(email, ip, False)
    assert rt.count == 3
    assert password_guard.attempt(email, "192.0.2.1", True).ok


def test_wrong_code_budget_on_cluster(cluster):
    from django_redis_auth.codes import otp
    from django_redis_auth.exceptions import InvalidCode, RateLimited

    config = {
        **settings.DJANGO_REDIS_AUTH,
        "REDIS_CLIENT_FACTORY": "tests.test_cluster.cluster_client",
        "CODE_GUESSES_PER_IP": 2,
    }
    with override_settings(DJANGO_REDIS_AUTH=config):
        code = otp.issue_code("erin@example.com", Purpose.PASSWORD_RESET)
        for _ in range(2):
            with pytest.raises(InvalidCode):
                otp.verify_code(
                    "erin@example.com", Purpose.PASSWORD_RESET, "x", client_ip="203.0.113.9"
                )
        with pytest.raises(RateLimited):
            otp.verify_code(
                "erin@example.com", Purpose.PASSWORD_RESET, code, client_ip="203.0.113.9"
            )
        otp.verify_code("erin@example.com", Purpose.PASSWORD_RESET, code, client_ip="192.0.2.1")
