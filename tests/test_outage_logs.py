"""Outage logging (outages.py): the first failure and rate-limited summaries, never a line
per request, and never a key name, token, code or address in the text."""

from __future__ import annotations

import logging

import pytest
from django.test import override_settings
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from django_redis_auth import outages, store
from django_redis_auth.exceptions import AuthUnavailable
from tests.helpers import Clock, package_settings

pytestmark = pytest.mark.django_db


@pytest.fixture
def clock():
    return Clock()


def messages(caplog, level=logging.DEBUG):
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "django_redis_auth" and r.levelno >= level
    ]


def test_first_failure_then_a_summary_per_interval_then_recovery(clock, caplog):
    log = outages.OutageLog("Redis", clock=clock, interval=60, settle=5)
    caplog.set_level(logging.INFO, logger="django_redis_auth")
    log.failed("ConnectionError: refused", consequence="; answering 503")
    for _ in range(99):
        clock.now += 0.5  # 100 failures over ~50 s: no more lines
        log.failed("ConnectionError: refused")
    assert messages(caplog) == ["Redis unavailable (ConnectionError: refused); answering 503"]
    clock.now += 10.5  # 60 s after the first line: one summary
    log.failed("TimeoutError: Timeout reading from socket")
    assert messages(caplog)[1] == (
        "Redis still unavailable after 60 s: 100 more failures "
        "(99 x ConnectionError: refused, 1 x TimeoutError: Timeout reading from socket)"
    )
    clock.now += 3
    assert log.recovered() is False  # a success right after a failure: not settled yet
    assert len(messages(caplog)) == 2
    clock.now += 2
    assert log.recovered() is True
    assert log.recovered() is True  # a second success logs nothing
    assert messages(caplog)[2:] == ["Redis back after 65.0 s (101 failures)"]
    assert [r.levelno for r in caplog.records] == [logging.ERROR, logging.WARNING, logging.INFO]


def test_a_long_quiet_gap_starts_a_new_outage(clock, caplog):
    log = outages.OutageLog("Database", clock=clock, interval=60)
    caplog.set_level(logging.INFO, logger="django_redis_auth")
    log.failed("OperationalError: refused")
    clock.now += 61  # its recovery went unseen (no success was reported)
    log.failed("OperationalError: refused")
    assert messages(caplog) == ["Database unavailable (OperationalError: refused)"] * 2


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            ResponseError(
                "Command # 2 (SET dra:{u42}:fam:Zm9v !revoked XX KEEPTTL) of pipeline caused "
                "error: OOM command not allowed when used memory > 'maxmemory'."
            ),
            "ResponseError: OOM",
        ),
        (
            ResponseError("WRONGTYPE Operation against a key holding the wrong kind of value"),
            "ResponseError: WRONGTYPE",
        ),
        (
            RedisConnectionError("Error 111 connecting to 127.0.0.1:6399. Connection refused."),
            "ConnectionError: Error 111 connecting to 127.0.0.1:6399. Connection refused.",
        ),
        (RedisConnectionError("reading dra:{e1f2a3}:otp:v failed"), "ConnectionError: reading"),
        (OSError(), "OSError"),
        (
            __import__("redis").exceptions.OutOfMemoryError("command not allowed"),
            "OutOfMemoryError",
        ),
    ],
)
def test_describe_keeps_no_command_key_or_value(exc, expected):
    assert outages.describe(exc).startswith(expected)
    assert "{" not in outages.describe(exc) and "Zm9v" not in outages.describe(exc)


def test_redis_guard_logs_no_key_names(caplog):
    caplog.set_level(logging.DEBUG, logger="django_redis_auth")
    with pytest.raises(AuthUnavailable):
        with store.guard():
            raise ResponseError(
                "Command # 1 (SET dra:{u42}:jti:abc 1 EXAT 99) of pipeline caused error: "
                "READONLY You can't write against a read only replica."
            )
    assert messages(caplog) == ["Redis unavailable (ResponseError: READONLY); answering 503"]
    assert not any(r.exc_info for r in caplog.records)  # no traceback quoting the command


def test_a_dependency_that_answers_reads_and_refuses_writes_is_one_outage(clock, caplog):
    """Redis at maxmemory: reads succeed between the refused writes."""
    log = outages.OutageLog("Redis", clock=clock, settle=5)
    caplog.set_level(logging.INFO, logger="django_redis_auth")
    for _ in range(50):
        log.failed("OutOfMemoryError")
        clock.now += 0.1
        assert log.recovered() is False
    assert messages(caplog) == ["Redis unavailable (OutOfMemoryError)"]


def test_redis_outage_logs_once_for_many_requests_and_nothing_identifying(
    api, user, password, login, bearer, caplog, clock, monkeypatch
):
    monkeypatch.setattr(outages.redis, "clock", clock)
    pair = login()
    client = bearer(pair["access"])
    caplog.set_level(logging.INFO)
    with override_settings(
        DJANGO_REDIS_AUTH=package_settings(REDIS_CLIENT_FACTORY="tests.helpers.dead_redis")
    ):
        for _ in range(10):
            assert client.get("/auth/me/").status_code == 503
            assert (
                client.post(
                    "/auth/logout/", {"refresh": pair["refresh"]}, format="json"
                ).status_code
                == 503
            )
            response = api.post(
                "/auth/login/", {"email": user.email, "password": password}, format="json"
            )
            assert response.status_code == 503
            response = api.post(
                "/auth/otp/", {"email": user.email, "purpose": "password_reset"}, format="json"
            )
            assert response.status_code == 503
    ours = messages(caplog)
    assert len(ours) == 1 and ours[0].startswith("Redis unavailable (ConnectionError: ")
    assert not [r for r in caplog.records if r.name == "django.request"]
    text = caplog.text
    for secret in (user.email, password, pair["access"], pair["refresh"], f"{{u{user.pk}}}"):
        assert secret not in text
    # Back: the first success once it has settled logs the end of the outage.
    caplog.clear()
    assert client.get("/auth/me/").status_code == 200
    assert messages(caplog) == []
    clock.now += outages.SETTLE
    assert client.get("/auth/me/").status_code == 200
    (back,) = messages(caplog)
    assert back.startswith("Redis back after ") and back.endswith("(40 failures)")


def test_a_503_for_redis_carries_retry_after(bearer, login, user):
    client = bearer(login()["access"])
    with override_settings(
        DJANGO_REDIS_AUTH=package_settings(REDIS_CLIENT_FACTORY="tests.helpers.dead_redis")
    ):
        response = client.get("/auth/me/")
    assert (response.status_code, response["Retry-After"]) == (503, "5")


def test_mail_failures_log_once_without_the_address(caplog, monkeypatch):
    from django_redis_auth.codes import senders
    from django_redis_auth.codes.senders import AuthEmail

    def refused(message):
        raise ConnectionRefusedError(f"refused for {message.to}")

    monkeypatch.setattr(senders, "deliver", refused)
    caplog.set_level(logging.INFO, logger="django_redis_auth")
    for _ in range(5):
        senders._submit(AuthEmail(to="a@example.com", kind="login", context={"code": "918273"}))
    assert senders.wait(timeout=10)
    assert messages(caplog) == [
        "Mail delivery failing (Could not send login email: ConnectionRefusedError)"
    ]
    assert "a@example.com" not in caplog.text and "918273" not in caplog.text
