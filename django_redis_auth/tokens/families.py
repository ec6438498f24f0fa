"""What a session family key holds, and reading a user's families without SCAN.

A family (one sign-in, every token rotation derives from it) is one Redis string,
``keys.family``, that the per-request MGET already reads. Besides telling live from revoked
it describes its device, so the device list costs no extra key per session::

    D|C|L|IP|UA      D  digest of the live refresh token's jti (jti_digest)
                     C  created, L last refresh: Unix ms in base 36 (the app servers' clock)
                     IP the client address, coarsened (SESSION_IPV4/6_PREFIX)
                     UA the user agent, cut to SESSION_USER_AGENT_MAX characters

or ``keys.REVOKED``. Written by ``lua/open_session.lua`` at sign-in and by
``lua/rotate_refresh.lua`` at each refresh, never on an authenticated request. Each user's
family ids are also in a sorted set (``keys.session_index``) scored by their expiry, so
listing a user's devices reads that set and its members' records: two round trips whatever
the number of users. docs/sessions.md explains the layout and its memory cost.

A rotated refresh token's jti is derived from its predecessor's (:func:`successor_jti`),
and the access token minted with it from that (:func:`access_jti`), so a repeated refresh
inside ``REFRESH_REUSE_INTERVAL`` can mint the very same pair again from the stored record:
no token, plaintext or encrypted, is ever kept in Redis.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django_redis_auth import keys, store
from django_redis_auth.clients import Client
from django_redis_auth.conf import auth_settings

__all__ = ["Record", "access_jti", "details", "jti_digest", "load", "successor_jti"]

SEP = "|"
_B36 = "0123456789abcdefghijklmnopqrstuvwxyz"


def jti_digest(jti: str) -> str:
    """72 bits of SHA-256 of ``jti``: what a record stores instead of the jti (12 bytes
    instead of 32). Accepting the wrong token would need an older, validly *signed* refresh
    token of the same family whose digest collides with the live one's: 1 in 2**72."""
    raw = hashlib.sha256(f"django_redis_auth.jti:{jti}".encode()).digest()[:9]
    return base64.urlsafe_b64encode(raw).decode()


def successor_jti(jti: str) -> str:
    """The jti of the refresh token that rotating ``jti`` mints: fixed by its predecessor,
    so a repeated rotation mints the same token (see ``REFRESH_REUSE_INTERVAL``)."""
    return hashlib.sha256(f"django_redis_auth.successor:{jti}".encode()).hexdigest()[:32]


def access_jti(refresh_jti: str) -> str:
    """The jti of the access token minted alongside a rotated refresh token."""
    return hashlib.sha256(f"django_redis_auth.access:{refresh_jti}".encode()).hexdigest()[:32]


def base36(number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 36)
        digits = _B36[rest] + digits
        if not number:
            return digits


def coarse_ip(ip: str | None) -> str:
    """The network of ``ip`` at the configured prefix, as an address ("203.0.113.0"),
    or "" when unknown, unparseable or the prefix is 0."""
    if not ip:
        return ""
    try:
        address = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if isinstance(address, ipaddress.IPv4Address):
        prefix = int(auth_settings.SESSION_IPV4_PREFIX)
    else:
        prefix = int(auth_settings.SESSION_IPV6_PREFIX)
    if prefix == 0:
        return ""
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)


def short_user_agent(user_agent: str) -> str:
    limit = int(auth_settings.SESSION_USER_AGENT_MAX)
    return "".join(ch for ch in user_agent[: limit * 2] if ch.isprintable())[:limit].strip()


def details(client: Client | None) -> str:
    """The ``IP|UA`` tail of a record for the device ``client`` describes."""
    if client is None:
        return SEP
    return f"{coarse_ip(client.ip)}{SEP}{short_user_agent(client.user_agent)}"


def record(jti: str, created_ms: int, client: Client | None) -> str:
    """A new family's record (open_session)."""
    stamp = base36(created_ms)
    return SEP.join((jti_digest(jti), stamp, stamp, details(client)))


@dataclass(frozen=True)
class Record:
    """A live family as the device list shows it."""

    family: str
    created: datetime | None
    last_used: datetime | None
    ip: str
    user_agent: str


def _time(stamp: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(stamp, 36) / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None


def parse(family: str, value: bytes | str) -> Record | None:
    """The :class:`Record` of a live family's value, or ``None`` for a revoked one. A value
    from before records existed (the bare jti) reads as a family with nothing known."""
    text = store.decode(value) or ""
    if text == keys.REVOKED:
        return None
    parts = text.split(SEP, 4)
    if len(parts) < 5:
        return Record(family, None, None, "", "")
    _digest, created, last, ip, user_agent = parts
    return Record(family, _time(created), _time(last), ip, user_agent)


def load(user_id: Any, now_ms: int) -> list[Record]:
    """Every live family of the user: the index (expired members dropped first), then the
    members' records in one script that also drops revoked and vanished members from it.
    Two round trips, however many users or sessions there are."""
    members = ids(user_id, now_ms)
    if not members:
        return []
    with store.guard():
        found = store.script("session_records")(
            keys=[keys.session_index(user_id), *(keys.family(user_id, f) for f in members)],
            args=[keys.REVOKED, *members],
        )
    records = []
    for family, value in zip(found[::2], found[1::2], strict=True):
        parsed = parse(store.decode(family) or "", value)
        if parsed is not None:
            records.append(parsed)
    return records


def ids(user_id: Any, now_ms: int) -> list[str]:
    """The ids in the user's index (expired members dropped first): one round trip."""
    index = keys.session_index(user_id)
    with store.guard():
        pipe = store.get_client().pipeline(transaction=False)
        pipe.zremrangebyscore(index, "-inf", now_ms)
        pipe.zrange(index, 0, -1)
        return [store.decode(member) or "" for member in pipe.execute()[1]]
