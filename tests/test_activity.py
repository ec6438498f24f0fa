"""The security activity (``account/activity/``, guarantee 14) and Django's auth signals:
every event recorded where and how, newest first, capped, and never on an ordinary request."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.core import mail
from rest_framework.test import APIClient

from django_redis_auth import activity, keys
from django_redis_auth.tokens import families
from tests.helpers import error, override_package, redis_down
from tests.mfa_helpers import PASSWORD, bearer, challenge, enrol, verify

pytestmark = pytest.mark.django_db

T0 = 1_900_000_000
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0 Safari/537.36"
)


def browser(agent=FIREFOX, ip="203.0.113.7"):
    return APIClient(HTTP_USER_AGENT=agent, REMOTE_ADDR=ip)


def sign_in(client, password=PASSWORD):
    return client.post(
        "/auth/login/", {"email": "alice@example.com", "password": password}, format="json"
    )


def events(access, **query):
    response = bearer(access).get("/auth/account/activity/", query)
    assert response.status_code == 200, response.content
    return response


def test_sign_ins_failures_and_changes_newest_first(user):
    with time_machine.travel(T0, tick=False):
        first = sign_in(browser()).json()
    with time_machine.travel(T0 + 10, tick=False):
        assert sign_in(browser(), "wrong").status_code == 401
    with time_machine.travel(T0 + 20, tick=False):
        changed = bearer(first["access"]).post(
            "/auth/password/change/",
            {"current_password": PASSWORD, "new_password": "a brand new passphrase 42"},
            format="json",
        )
        assert changed.status_code == 200
        body = events(changed.json()["access"]).json()
    assert [(e["type"], e["method"]) for e in body] == [
        ("sign_in", "password_change"),  # the caller's fresh pair
        ("password_changed", "password_change"),
        ("sign_in_failed", "password"),
        ("sign_in", "password"),
    ]
    oldest = body[-1]
    assert oldest["ip"] == "203.0.113.0"
    assert oldest["user_agent"] == families.short_user_agent(FIREFOX)  # as sessions/ shows it
    assert oldest["at"] == "2030-03-17T12:46:40-05:00"  # TIME_ZONE of the tests' settings
    assert set(oldest) == {"type", "at", "ip", "user_agent", "session", "method"}


def test_pages_follow_the_link_header(user):
    with time_machine.travel(T0, tick=False):
        pairs = [sign_in(browser()).json() for _ in range(5)]
        _pages(pairs)


def _pages(pairs):
    first = events(pairs[-1]["access"], limit=2)
    assert len(first.json()) == 2
    link = first["Link"]
    assert link.endswith('>; rel="next"')
    url = link[1 : link.index(">")]
    second = bearer(pairs[-1]["access"]).get(url)
    third = bearer(pairs[-1]["access"]).get(second["Link"][1 : second["Link"].index(">")])
    seen = [e["session"] for r in (first, second, third) for e in r.json()]
    assert len(seen) == len(set(seen)) == 5
    assert "Link" not in third


def test_logout_reuse_and_revocations_are_recorded(user, api):
    pair = sign_in(browser()).json()
    rotated = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert rotated.status_code == 200
    reused = api.post("/auth/token/refresh/", {"refresh": pair["refresh"]}, format="json")
    assert reused.status_code == 401
    other = sign_in(browser()).json()
    assert bearer(other["access"]).post("/auth/logout/").status_code == 204
    fresh = sign_in(browser()).json()
    kinds = [(e["type"], e["method"]) for e in events(fresh["access"]).json()]
    assert ("refresh_reuse_detected", "") in kinds
    assert ("session_ended", "logout") in kinds


def test_factor_changes_recovery_codes_and_reauth_are_recorded(user):
    enrolled = enrol()
    codes = enrolled["recovery_codes"]
    pair = verify(challenge()["challenge"], codes[0], "recovery_code").json()
    client = bearer(pair["access"])
    assert client.post("/auth/reauth/", {"password": PASSWORD}, format="json").status_code == 200
    kinds = [(e["type"], e["method"]) for e in events(pair["access"]).json()]
    assert kinds[:3] == [
        ("reauthenticated", "password"),
        ("recovery_code_used", "recovery_code"),
        ("sign_in", "recovery_code"),
    ]
    assert ("factor_added", "totp") in kinds


def test_an_ordinary_request_records_nothing(user, round_trips):
    pair = sign_in(browser()).json()
    client = bearer(pair["access"])
    client.get("/auth/me/")
    with round_trips() as rt:
        assert client.get("/auth/me/").status_code == 200
    assert rt.count == 1
    assert [e["type"] for e in events(pair["access"]).json()] == ["sign_in"]


def test_the_list_is_capped_by_count_and_age(user, redis_client):
    with override_package(ACTIVITY_MAX_ENTRIES=3, MAX_SESSIONS_PER_USER=0):
        with time_machine.travel(T0, tick=False):
            for _ in range(5):
                sign_in(browser())
        assert redis_client.llen(keys.activity(user.pk)) == 3
    with time_machine.travel(T0 + 91 * 86400, tick=False):
        pair = sign_in(browser()).json()
        assert len(events(pair["access"]).json()) == 1  # the old ones aged out


def test_a_bad_cursor_is_400(user):
    pair = sign_in(browser()).json()
    for query in ({"before": "yesterday"}, {"limit": 0}, {"limit": 1000}):
        response = bearer(pair["access"]).get("/auth/account/activity/", query)
        assert response.status_code == 400, (query, response.content)


def test_activity_with_redis_down_is_503(user):
    pair = sign_in(browser()).json()
    with redis_down():
        error(bearer(pair["access"]).get("/auth/account/activity/"), 503, "auth_unavailable")


# --- Django's signals --------------------------------------------------------------------------


@pytest.fixture
def caught():
    found: dict[str, list] = {"in": [], "out": [], "failed": []}

    def on_in(sender, user, request, **kw):
        found["in"].append((user.email, request is not None))

    def on_out(sender, user, request, **kw):
        found["out"].append(user.email)

    def on_failed(sender, credentials, **kw):
        found["failed"].append(credentials)

    user_logged_in.connect(on_in)
    user_logged_out.connect(on_out)
    user_login_failed.connect(on_failed)
    yield found
    user_logged_in.disconnect(on_in)
    user_logged_out.disconnect(on_out)
    user_login_failed.disconnect(on_failed)


def test_django_signals_are_sent(user, caught):
    pair = sign_in(browser()).json()
    sign_in(browser(), "wrong password")
    assert bearer(pair["access"]).post("/auth/logout/").status_code == 204
    assert caught["in"] == [("alice@example.com", True)]
    assert caught["out"] == ["alice@example.com"]
    assert len(caught["failed"]) == 1
    assert "wrong password" not in str(caught["failed"])  # Django cleanses the password
    user.refresh_from_db()
    assert user.last_login is not None


# --- new-device notice --------------------------------------------------------------------------


def test_a_new_device_is_noticed_and_a_known_one_is_not(user):
    sign_in(browser())
    assert mail.outbox == []  # the first device of an account is no news
    sign_in(browser(ip="203.0.113.99"))  # the same network
    sign_in(browser(agent=FIREFOX.replace("133.0", "134.0")))  # an update, same browser
    assert mail.outbox == []
    sign_in(browser(CHROME_MAC, "198.51.100.20"))
    assert len(mail.outbox) == 1
    notice = mail.outbox[0]
    assert notice.to == ["alice@example.com"]
    assert "Chrome on macOS" in notice.body and "198.51.100.0" in notice.body
    assert notice.alternatives


def test_a_device_not_seen_for_the_window_is_new_again(user):
    with time_machine.travel(T0, tick=False):
        sign_in(browser())
        sign_in(browser(CHROME_MAC, "198.51.100.20"))
    mail.outbox.clear()
    with time_machine.travel(T0 + 30 * 86400, tick=False):
        sign_in(browser())  # Firefox seen 30 days ago: known
    assert mail.outbox == []


def test_the_notice_can_be_turned_off(user):
    with override_package(NEW_DEVICE_NOTICE=False):
        sign_in(browser())
        sign_in(browser(CHROME_MAC, "198.51.100.20"))
    assert mail.outbox == []


def test_user_agent_families():
    assert activity.user_agent_family(FIREFOX) == "Firefox on Linux"
    assert activity.user_agent_family(CHROME_MAC) == "Chrome on macOS"
    assert activity.user_agent_family("") == ""
    assert activity.user_agent_family("curl/8.5.0") == "curl"


# --- bounded sessions ---------------------------------------------------------------------------


def test_the_cap_orders_sessions_used_within_one_second(user, api):
    """A token's ``exp`` has whole seconds, so sessions opened or refreshed in one second
    share an expiry; the cap still ends the one used longest ago, not an arbitrary one."""
    with override_package(MAX_SESSIONS_PER_USER=2):
        with time_machine.travel(T0, tick=False) as clock:

            def tick():
                clock.shift(timedelta(milliseconds=10))

            kept = sign_in(browser()).json()
            tick()
            idle = sign_in(browser()).json()
            for _ in range(6):  # all within one second
                tick()
                kept = api.post(
                    "/auth/token/refresh/", {"refresh": kept["refresh"]}, format="json"
                ).json()
                tick()
                # `idle` is the least recently used now: one session more ends it
                newest = sign_in(browser()).json()
                assert bearer(idle["access"]).get("/auth/me/").status_code == 401
                assert bearer(kept["access"]).get("/auth/me/").status_code == 200
                assert bearer(newest["access"]).get("/auth/me/").status_code == 200
                idle = newest


def test_a_sign_in_across_a_second_boundary_is_the_most_recent(user, api, monkeypatch):
    """The session's place in the cap's order is taken from the same instant as its token's
    ``exp``: time passing between the two (simplejwt's own database write, say) across a
    second boundary must not make the newest session the least recent one."""
    from django_redis_auth.tokens.signing import RefreshToken

    with override_package(MAX_SESSIONS_PER_USER=2):
        with time_machine.travel(T0 + 0.990, tick=False) as clock:
            first = sign_in(browser()).json()
            clock.shift(timedelta(milliseconds=1))
            second = sign_in(browser()).json()
            clock.shift(timedelta(milliseconds=7))  # .998
            mint = RefreshToken.for_user.__func__

            def slow_for_user(cls, user):
                token = mint(cls, user)
                clock.shift(timedelta(milliseconds=3))  # the session is written at .001
                return token

            monkeypatch.setattr(RefreshToken, "for_user", classmethod(slow_for_user))
            newest = sign_in(browser()).json()
            assert bearer(newest["access"]).get("/auth/me/").status_code == 200
            assert bearer(second["access"]).get("/auth/me/").status_code == 200
            assert bearer(first["access"]).get("/auth/me/").status_code == 401


def test_auth_time_is_the_minting_instant_without_use_tz(user, monkeypatch, settings):
    """simplejwt's times are naive UTC when ``USE_TZ`` is off; read as local time they would
    move ``auth_time`` (and the session's place in the cap's order) by the zone's offset."""
    import time

    import jwt

    settings.USE_TZ = False
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        with time_machine.travel(T0, tick=False):
            pair = sign_in(browser()).json()
            me = bearer(pair["access"]).get("/auth/me/")
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
    refresh = jwt.decode(pair["refresh"], options={"verify_signature": False})
    assert refresh["auth_time"] == T0
    assert me.status_code == 200, me.content


def test_one_session_more_ends_the_least_recently_used(user, api):
    with override_package(MAX_SESSIONS_PER_USER=3):
        with time_machine.travel(T0, tick=False) as clock:
            pairs = []
            for _ in range(3):
                pairs.append(sign_in(browser()).json())
                clock.shift(timedelta(seconds=10))
            # the first session is used (refreshed): the second is now the least recent
            refreshed = api.post(
                "/auth/token/refresh/", {"refresh": pairs[0]["refresh"]}, format="json"
            ).json()
            clock.shift(timedelta(seconds=10))
            newest = sign_in(browser()).json()
            assert bearer(pairs[1]["access"]).get("/auth/me/").status_code == 401
            for live in (refreshed, pairs[2], newest):
                assert bearer(live["access"]).get("/auth/me/").status_code == 200
            listed = bearer(newest["access"]).get("/auth/sessions/").json()
            assert len(listed) == 3
            kinds = [(e["type"], e["method"]) for e in events(newest["access"]).json()]
            assert kinds[0] == ("session_ended", "capped")
