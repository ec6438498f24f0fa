"""Revocation scripts queued on a pipeline (store.ScriptPipeline) survive a server that lost
its scripts (restart, failover, SCRIPT FLUSH): NOSCRIPT loads them and the pipeline runs
again, in the same request."""

import pytest

pytestmark = pytest.mark.django_db


def test_logout_all_and_device_sign_out_after_script_flush(user, login, bearer, redis_client):
    pair, other = login(), login()
    client = bearer(pair["access"])
    devices = client.get("/auth/sessions/").json()
    listed = devices["results"] if isinstance(devices, dict) else devices
    other_id = next(d["id"] for d in listed if not d.get("current"))

    redis_client.script_flush()
    assert client.delete(f"/auth/sessions/{other_id}/").status_code == 204
    assert bearer(other["access"]).get("/auth/me/").status_code == 401

    redis_client.script_flush()
    assert client.post("/auth/logout/all/").status_code == 204
    assert client.get("/auth/me/").status_code == 401


def test_shared_lua_is_pasted_once_where_libraries_include_each_other():
    from django_redis_auth import store

    for name in ("issue_code", "open_session", "rotate_refresh", "password_guard"):
        source = store.script_source(name)
        assert "--#include" not in source
        assert source.count("local function outlive(") == 1


def test_after_noscript_only_the_missing_scripts_run_again(user, login, bearer, redis_client):
    """A pipeline whose first script is missing and second is loaded: the loaded one ran
    already, so only the missing one runs again — an activity entry is never written twice."""
    from django_redis_auth import activity, keys, store

    pair = login()
    redis_client.script_flush()
    store.get_client().script_load(store.script_source("record_activity"))
    before = redis_client.llen(keys.activity(user.pk))
    assert bearer(pair["access"]).post("/auth/logout/all/").status_code == 204
    after = redis_client.llen(keys.activity(user.pk))
    assert after == before + 1
    newest = activity.recent(user.pk, limit=1)[0][0]
    assert (newest.type, newest.method) == ("session_ended", "logout_all")
    assert bearer(pair["access"]).get("/auth/me/").status_code == 401
