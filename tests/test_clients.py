"""The client IP behind proxies (issue #11, item 3.1): clients.resolve_ip, the unknown
client, IPv6 networks and the unconfigured-proxy warning."""

from __future__ import annotations

import logging

import pytest
from django.test import RequestFactory
from rest_framework.test import APIClient

from django_redis_auth import clients, keys
from django_redis_auth.codes import otp
from django_redis_auth.codes.purposes import Purpose
from django_redis_auth.exceptions import RateLimited
from tests.helpers import override_package, window_count

pytestmark = pytest.mark.django_db


def request(remote_addr: str | None = "10.0.0.2", **headers: str):
    meta = {f"HTTP_{k.upper()}": v for k, v in headers.items()}
    req = RequestFactory().get("/", **meta)
    if remote_addr is None:
        del req.META["REMOTE_ADDR"]
    else:
        req.META["REMOTE_ADDR"] = remote_addr
    return req


@pytest.fixture(autouse=True)
def _fresh_watch():
    clients.reset_watch()
    yield
    clients.reset_watch()


# --- resolving ------------------------------------------------------------------------------


def test_by_default_forwarding_headers_are_not_trusted():
    """A client can write X-Forwarded-For itself: without TRUSTED_PROXIES it is ignored."""
    assert clients.resolve_ip(request("198.51.100.9", x_forwarded_for="1.2.3.4")) == (
        "198.51.100.9"
    )
    assert clients.client_of(request("198.51.100.9", x_forwarded_for="1.2.3.4")).ip == (
        "198.51.100.9"
    )


@pytest.mark.parametrize(
    ("trusted", "header", "expected"),
    [
        (1, "198.51.100.9", "198.51.100.9"),
        # The client wrote the first entry itself; only the proxy's own is believed.
        (1, "6.6.6.6, 198.51.100.9", "198.51.100.9"),
        (2, "6.6.6.6, 198.51.100.9, 10.0.0.1", "198.51.100.9"),
        (1, "198.51.100.9:4711", "198.51.100.9"),
        (1, "::ffff:198.51.100.9", "198.51.100.9"),
        (1, "2001:DB8::1", "2001:db8::1"),
        # Fewer hops than proxies: the request bypassed one; take the connection's peer.
        (2, "198.51.100.9", "10.0.0.2"),
        (1, "", "10.0.0.2"),
        (1, "garbage", None),
    ],
)
def test_x_forwarded_for_with_trusted_proxies(trusted, header, expected):
    with override_package(TRUSTED_PROXIES=trusted):
        headers = {"x_forwarded_for": header} if header else {}
        assert clients.resolve_ip(request(**headers)) == expected


def test_repeated_headers_count_as_one_list():
    req = request()
    req.META["HTTP_X_FORWARDED_FOR"] = "6.6.6.6,198.51.100.9, 203.0.113.5"
    with override_package(TRUSTED_PROXIES=2):
        assert clients.resolve_ip(req) == "198.51.100.9"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("for=192.0.2.60;proto=http;by=203.0.113.43", "192.0.2.60"),
        ('for="[2001:db8:cafe::17]:4711"', "2001:db8:cafe::17"),
        ("for=6.6.6.6, For=192.0.2.61", "192.0.2.61"),
        ("for=unknown", None),
        ("for=_hidden", None),
        ("proto=https", None),
    ],
)
def test_rfc_7239_forwarded(header, expected):
    with override_package(TRUSTED_PROXIES=1, FORWARDED_HEADER="Forwarded"):
        assert clients.resolve_ip(request(forwarded=header)) == expected


def test_a_custom_header_of_the_same_form():
    with override_package(TRUSTED_PROXIES=1, FORWARDED_HEADER="X-Real-IP"):
        assert clients.resolve_ip(request(x_real_ip="198.51.100.9")) == "198.51.100.9"


def test_no_remote_addr_is_no_client_ip_never_a_shared_placeholder(caplog):
    with caplog.at_level(logging.WARNING, logger="django_redis_auth"):
        assert clients.resolve_ip(request(None)) is None
        assert clients.resolve_ip(request("")) is None
    assert sum("could not be determined" in r.getMessage() for r in caplog.records) == 1


def test_clients_without_an_ip_do_not_share_one_bucket():
    """REMOTE_ADDR used to fall back to "unknown": every such request shared one IP cap."""
    with override_package(HOURLY_CAP_PER_IP=1, RESEND_COOLDOWN=0):
        for n in range(3):
            response = APIClient(REMOTE_ADDR="").post(
                "/auth/password/reset/", {"email": f"user{n}@example.com"}, format="json"
            )
            assert response.status_code == 202


# --- through the API ------------------------------------------------------------------------


def test_behind_a_configured_proxy_each_client_has_its_own_ip_cap(redis_client):
    """The outage of issue #11: behind a proxy everyone had the proxy's address, so 30
    requests from anyone answered every user's codes with 429 for the rest of the hour."""
    proxy = APIClient(REMOTE_ADDR="10.0.0.2")

    def reset_from(ip: str, n: int):
        return proxy.post(
            "/auth/password/reset/",
            {"email": f"user{n}@example.com"},
            format="json",
            HTTP_X_FORWARDED_FOR=ip,
        )

    with override_package(HOURLY_CAP_PER_IP=2, TRUSTED_PROXIES=1):
        assert reset_from("198.51.100.1", 1).status_code == 202
        assert reset_from("198.51.100.1", 2).status_code == 202
        assert reset_from("198.51.100.1", 3).status_code == 429
        assert reset_from("192.0.2.44", 4).status_code == 202  # someone else: unaffected
        assert window_count(redis_client, keys.ip_limits("198.51.100.1"), "n") == 2
        assert not redis_client.exists(keys.ip_limits("10.0.0.2"))


def test_ipv6_clients_share_their_64s_cap():
    with override_package(HOURLY_CAP_PER_IP=2, RESEND_COOLDOWN=0):
        otp.issue_code("a@example.com", Purpose.PASSWORD_RESET, client_ip="2001:db8:0:1::1")
        otp.issue_code("b@example.com", Purpose.PASSWORD_RESET, client_ip="2001:db8:0:1::2")
        with pytest.raises(RateLimited):
            otp.issue_code("c@example.com", Purpose.PASSWORD_RESET, client_ip="2001:db8:0:1::3")
        otp.issue_code("c@example.com", Purpose.PASSWORD_RESET, client_ip="2001:db8:0:2::3")
    with override_package(HOURLY_CAP_PER_IP=2, RESEND_COOLDOWN=0, IPV6_LIMIT_PREFIX=128):
        assert keys.ip_limits("2001:db8:0:1::1") != keys.ip_limits("2001:db8:0:1::2")


# --- the unconfigured-proxy tell-tale -------------------------------------------------------


def _proxy_warnings(caplog) -> int:
    return sum("TRUSTED_PROXIES" in r.getMessage() for r in caplog.records)


def test_one_private_address_for_many_accounts_logs_a_warning_once(caplog):
    with caplog.at_level(logging.WARNING, logger="django_redis_auth"):
        with override_package(RESEND_COOLDOWN=0, HOURLY_CAP_PER_IP=1000):
            for n in range(clients.WATCH_ACCOUNTS - 1):
                otp.issue_code(f"u{n}@example.com", Purpose.PASSWORD_RESET, client_ip="10.0.0.2")
            assert _proxy_warnings(caplog) == 0
            otp.issue_code("last@example.com", Purpose.PASSWORD_RESET, client_ip="10.0.0.2")
            assert _proxy_warnings(caplog) == 1
            for n in range(3 * clients.WATCH_ACCOUNTS):  # rate-limited: no flood
                otp.issue_code(f"v{n}@example.com", Purpose.PASSWORD_RESET, client_ip="10.0.0.2")
    assert _proxy_warnings(caplog) == 1
    message = next(r.getMessage() for r in caplog.records if "TRUSTED_PROXIES" in r.getMessage())
    assert "10.0.0.2" not in message and "@" not in message


def test_failed_passwords_feed_the_tell_tale_too(caplog):
    from django_redis_auth.accounts import password_guard

    with caplog.at_level(logging.WARNING, logger="django_redis_auth"):
        for n in range(clients.WATCH_ACCOUNTS):
            password_guard.attempt(f"u{n}@example.com", "127.0.0.1", False)
    assert _proxy_warnings(caplog) == 1


def test_public_addresses_and_one_account_never_warn(caplog):
    with caplog.at_level(logging.WARNING, logger="django_redis_auth"):
        for n in range(2 * clients.WATCH_ACCOUNTS):
            clients.watch("8.8.8.8", f"u{n}@example.com")
            clients.watch("10.0.0.2", "same@example.com")
    assert _proxy_warnings(caplog) == 0
