"""Redis at ``maxmemory`` (guarantee 6, docs/deployment.md): with ``noeviction`` every write
path answers 503 ``auth_unavailable`` and leaves nothing half-written — not in Redis, not in
the database — while reads keep working; freeing memory brings everything back without a
restart. (With an evicting policy, check W007 warns: see test_checks.py and the fault suite.)

Runs against a throwaway redis-server of its own (it changes ``maxmemory``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import override_settings

from tests.redis_servers import RedisServer

pytestmark = [pytest.mark.real, pytest.mark.django_db]


@pytest.fixture
def full_redis() -> Iterator[RedisServer]:
    """A noeviction Redis of its own. No resend cooldown: the resends at full memory must
    reach their write rather than stop at a 429 (which is only a read)."""
    with RedisServer(args=("--maxmemory-policy", "noeviction")) as server:
        caches = {"default": {**settings.CACHES["default"], "LOCATION": server.url(0)}}
        package = {**settings.DJANGO_REDIS_AUTH, "RESEND_COOLDOWN": 0}
        with override_settings(CACHES=caches, DJANGO_REDIS_AUTH=package):
            yield server


def snapshot(client) -> dict[bytes, object]:
    """Every key with its value (TTLs aside: they only run down)."""
    state: dict[bytes, object] = {}
    for key in client.scan_iter(count=1000):
        kind = client.type(key)
        if kind == b"string":
            state[key] = client.get(key)
        elif kind == b"hash":
            state[key] = client.hgetall(key)
        else:
            state[key] = kind
    return state


def fill_up(client) -> None:
    """Junk without TTL, then ``maxmemory`` just below what is used: Redis is full."""
    for start in range(0, 2000, 100):  # small batches: a big pipeline inflates used_memory
        pipe = client.pipeline(transaction=False)
        for i in range(start, start + 100):
            pipe.set(f"junk:{i}", "x" * 512)
        pipe.execute()
    used = int(client.info("memory")["used_memory"])
    # Half the junk below what is used: client buffers come and go by a few KB.
    client.config_set("maxmemory", used - 512 * 1024)


def test_every_write_path_is_503_with_nothing_half_written(
    api, make_user, password, login, bearer, full_redis
):
    User = get_user_model()
    server = full_redis
    raw = server.client()
    user = make_user()
    pending = make_user("pending@example.com", email_verified=False)
    twofa = make_user("bob@example.com", otp_required=True)
    other = make_user("carol@example.com")
    uncached = bearer(login(other.email)["access"])
    pair = login()
    client = bearer(pair["access"])
    assert client.get("/auth/me/").status_code == 200  # user cached
    assert (
        api.post("/auth/password/reset/", {"email": user.email}, format="json").status_code == 202
    )
    challenge = api.post(
        "/auth/login/", {"email": twofa.email, "password": password}, format="json"
    ).json()["challenge"]
    assert api.post(
        "/auth/otp/", {"email": pending.email, "purpose": "email_verification"}, format="json"
    ).status_code in (202, 429)
    login()  # a second device, for "sign out other devices" to have one to sign out
    devices = client.get("/auth/sessions/").json()
    device_id = (devices["results"] if isinstance(devices, dict) else devices)[0]["id"]
    sent = len(mail.outbox)
    rows = list(User.objects.order_by("pk").values_list("pk", "password", "email_verified"))

    # Scripts whose first write would not need memory (a PEXPIRE, an HDEL) would be let
    # through at maxmemory: an epoch due for extension, limits from an older hour window.
    from django_redis_auth import keys

    raw.pexpire(keys.epoch(user.pk), 60_000)
    raw.delete(keys.cached_user(other.pk))
    limits = keys.limits(user.email)
    raw.hset(limits, mapping={"w": 1, "no": 3})

    fill_up(raw)
    before = snapshot(raw)
    new_password = "a different long passphrase 5"
    writes = {
        "signup new": api.post(
            "/auth/signup/", {"email": "new@example.com", "password": new_password}, format="json"
        ),
        "signup taken": api.post(
            "/auth/signup/", {"email": user.email, "password": new_password}, format="json"
        ),
        "login": api.post(
            "/auth/login/", {"email": user.email, "password": password}, format="json"
        ),
        "login 2fa": api.post(
            "/auth/login/", {"email": twofa.email, "password": password}, format="json"
        ),
        "login verify": api.post(
            "/auth/login/verify/", {"challenge": challenge, "code": "000000"}, format="json"
        ),
        "otp reset": api.post(
            "/auth/otp/", {"email": user.email, "purpose": "password_reset"}, format="json"
        ),
        "otp login": api.post(
            "/auth/otp/",
            {"email": twofa.email, "purpose": "login", "challenge": challenge},
            format="json",
        ),
        "otp login without challenge": api.post(
            "/auth/otp/", {"email": twofa.email, "purpose": "login"}, format="json"
        ),
        "password reset": api.post("/auth/password/reset/", {"email": user.email}, format="json"),
        "reset confirm": api.post(
            "/auth/password/reset/confirm/",
            {"email": user.email, "code": "000000", "new_password": new_password},
            format="json",
        ),
        "email verify": api.post(
            "/auth/email/verify/", {"email": pending.email, "code": "000000"}, format="json"
        ),
        "refresh": api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json"),
        "logout": client.post("/auth/logout/", {"refresh": pair["refresh"]}, format="json"),
        "logout all": client.post("/auth/logout/all/"),
        "password change": client.post(
            "/auth/password/change/",
            {"current_password": password, "new_password": new_password},
            format="json",
        ),
        "2fa enable": client.post("/auth/2fa/email/enable/", {}, format="json"),
        "sign out a device": client.delete(f"/auth/sessions/{device_id}/"),
        "sign out other devices": client.post("/auth/sessions/revoke-others/"),
        "email change": client.post(
            "/auth/email/change/",
            {"new_email": "alice.new@example.com", "password": password},
            format="json",
        ),
        "account delete": client.post(
            "/auth/account/delete/", {"password": password}, format="json"
        ),
    }
    answers = {
        name: (r.status_code, r.json().get("code") if r.content else None)
        for name, r in writes.items()
    }
    assert answers == dict.fromkeys(writes, (503, "auth_unavailable"))
    # Reads still work at full memory, for an uncached user too (served without a refill).
    assert client.get("/auth/me/").status_code == 200
    assert uncached.get("/auth/me/").json()["email"] == other.email
    # Nothing half-written: Redis holds exactly what it held, the database too, no mail left.
    assert snapshot(raw) == before
    assert list(User.objects.order_by("pk").values_list("pk", "password", "email_verified")) == (
        rows
    )
    assert not User.objects.filter(email="new@example.com").exists()
    assert len(mail.outbox) == sent

    # Memory freed: everything works again, with the same client, and the old state is intact.
    raw.config_set("maxmemory", 0)
    assert client.get("/auth/me/").status_code == 200
    rotated = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert rotated.status_code == 200  # the failed refresh rotated nothing
    assert bearer(rotated.json()["access"]).post("/auth/logout/all/").status_code == 204
    assert client.get("/auth/me/").status_code == 401
