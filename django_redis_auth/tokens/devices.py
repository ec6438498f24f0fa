"""The signed-in devices of a user: list them, sign one out, sign out all but this one.

A device is a session family (one sign-in and every token rotation derived from it). What
is shown comes from the family record Redis already keeps (families.py): created, last
refresh, coarsened IP and user agent. Nothing is written on an authenticated request, and
listing never scans the keyspace.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django_redis_auth.exceptions import SessionNotFound
from django_redis_auth.signals import session_revoked
from django_redis_auth.tokens import families, revocation

__all__ = ["Device", "list_devices", "revoke_device", "revoke_other_devices"]

# Family ids are secrets.token_urlsafe(12); anything else names no family.
_FAMILY_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_NEVER = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Device:
    id: str
    created: datetime | None
    last_used: datetime | None
    user_agent: str
    ip: str | None
    current: bool


def _now_ms() -> int:
    return int(time.time() * 1000)


def list_devices(user_id: Any, current_family: str | None = None) -> list[Device]:
    """Every live session of the user, most recently used first; ``current`` marks the one
    ``current_family`` (the caller's token's family) belongs to. Two Redis round trips."""
    devices = [
        Device(
            id=r.family,
            created=r.created,
            last_used=r.last_used,
            user_agent=r.user_agent,
            ip=r.ip or None,
            current=r.family == current_family,
        )
        for r in families.load(user_id, _now_ms())
    ]
    devices.sort(key=lambda d: (d.last_used or _NEVER, d.id), reverse=True)
    return devices


def revoke_device(user_id: Any, session_id: str, *, reason: str = "api") -> None:
    """Sign one device out now: its access tokens are refused from the next request on,
    its refresh token cannot rotate. 404 ``session_not_found`` if no such live session."""
    if not _FAMILY_ID.fullmatch(session_id or ""):
        raise SessionNotFound()
    if not revocation.revoke_family(user_id, session_id, reason=reason):
        raise SessionNotFound()
    session_revoked.send(__name__, user_id=user_id, session_id=session_id, reason=reason)


def revoke_other_devices(user_id: Any, keep_family: str | None, *, reason: str = "others") -> int:
    """Sign out every device of the user but ``keep_family`` (the caller's). Returns how
    many were signed out. Two round trips: the index, then every revocation at once."""
    others = [f for f in families.ids(user_id, _now_ms()) if f != keep_family]
    revoked = revocation.revoke_families(user_id, others, reason=reason)
    for family in revoked:
        session_revoked.send(__name__, user_id=user_id, session_id=family, reason=reason)
    return len(revoked)
