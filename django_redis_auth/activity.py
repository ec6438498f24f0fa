"""The per-user security activity (``GET account/activity/``): what happened to the account,
where and how — sign-ins, failed sign-ins, sessions ended, refresh reuse, password, email and
factor changes, reauthentication.

One short Redis list per user under the user's hash tag, capped at ``ACTIVITY_MAX_ENTRIES``
and ``ACTIVITY_DAYS`` (``lua/activity.lib.lua``, which says why not a stream), so it costs a
bounded amount per user and needs no cleanup job. An event is written in the same round
trip as the Redis work it belongs to wherever there is some (a sign-in inside
``open_session.lua``, a revocation in its pipeline); nothing is ever written on an
ordinary authenticated request. The IP is the session list's coarsened network, never the
full address.

Redis, not the database: a busy account's sign-ins would otherwise be a write per request
to the primary database, which is what this package takes away. Persisting events for good
is one signal receiver away (docs/activity.md).
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from django_redis_auth import keys, store
from django_redis_auth.clients import Client
from django_redis_auth.conf import auth_settings
from django_redis_auth.tokens import families

__all__ = [
    "EVENT_TYPES",
    "Event",
    "args",
    "device_fingerprint",
    "recent",
    "record",
]

SIGN_IN = "sign_in"
SIGN_IN_FAILED = "sign_in_failed"
SESSION_ENDED = "session_ended"
REFRESH_REUSE = "refresh_reuse_detected"
PASSWORD_CHANGED = "password_changed"
EMAIL_CHANGED = "email_changed"
FACTOR_ADDED = "factor_added"
FACTOR_REMOVED = "factor_removed"
RECOVERY_CODE_USED = "recovery_code_used"
REAUTHENTICATED = "reauthenticated"
EVENT_TYPES = (
    SIGN_IN,
    SIGN_IN_FAILED,
    SESSION_ENDED,
    REFRESH_REUSE,
    PASSWORD_CHANGED,
    EMAIL_CHANGED,
    FACTOR_ADDED,
    FACTOR_REMOVED,
    RECOVERY_CODE_USED,
    REAUTHENTICATED,
)

#: What a revocation's ``reason`` means for the activity list: (type, method).
REVOCATION_EVENTS: dict[str, tuple[str, str]] = {
    "logout": (SESSION_ENDED, "logout"),
    "logout_all": (SESSION_ENDED, "logout_all"),
    "others": (SESSION_ENDED, "others"),
    "api": (SESSION_ENDED, "revoked"),
    "admin": (SESSION_ENDED, "admin"),
    "refresh_reuse": (REFRESH_REUSE, ""),
    "password_changed": (PASSWORD_CHANGED, "password_change"),
    "password_reset": (PASSWORD_CHANGED, "password_reset"),
    "email_changed": (EMAIL_CHANGED, ""),
    "totp_enabled": (FACTOR_ADDED, "totp"),
    "totp_disabled": (FACTOR_REMOVED, "totp"),
    "recovery_codes_regenerated": (FACTOR_ADDED, "recovery_code"),
    "passkey_added": (FACTOR_ADDED, "passkey"),
    "passkey_removed": (FACTOR_REMOVED, "passkey"),
    "factors_reset": (FACTOR_REMOVED, "admin_reset"),
}


@dataclass(frozen=True)
class Event:
    type: str
    at: datetime
    ip: str
    user_agent: str
    session: str
    method: str
    id: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _limits() -> list[int]:
    return [
        int(auth_settings.ACTIVITY_MAX_ENTRIES),
        int(auth_settings.ACTIVITY_DAYS) * 86_400_000,
    ]


def fields(kind: str, client: Client | None, *, session: str = "", method: str = "") -> list[str]:
    """One event as the five values the scripts take: type, method, ip, user agent, session."""
    ip = families.coarse_ip(client.ip) if client is not None else ""
    agent = families.short_user_agent(client.user_agent) if client is not None else ""
    return [kind, method, ip, agent, session]


def args(now_ms: int) -> list[Any]:
    """The activity list's limits as ``record_activity.lua`` and ``open_session.lua`` take them."""
    return [now_ms, *_limits()]


def record(
    user_id: Any,
    kind: str,
    *,
    client: Client | None = None,
    session: str = "",
    method: str = "",
    pipe: store.ScriptPipeline | None = None,
) -> None:
    """Append one event. With ``pipe`` it rides that pipeline's round trip; without, it is
    one round trip of its own (and a Redis failure raises ``AuthUnavailable``)."""
    now_ms = int(time.time() * 1000)
    values = fields(kind, client, session=session, method=method)
    argv = [*args(now_ms), *values]
    if pipe is not None:
        pipe.script("record_activity", [keys.activity(user_id)], argv)
    else:
        with store.guard():
            store.script("record_activity")(keys=[keys.activity(user_id)], args=argv)
    announce(user_id, values, now_ms)


def announce(user_id: Any, values: list[str], now_ms: int) -> None:
    """Send ``signals.activity_recorded`` for one event (``values`` as :func:`fields`)."""
    from django_redis_auth import signals

    kind, method, ip, agent, session = values
    event = Event(
        type=kind,
        at=datetime.fromtimestamp(now_ms / 1000, tz=UTC),
        ip=ip,
        user_agent=agent,
        session=session,
        method=method,
        id="",
    )
    signals.activity_recorded.send(__name__, user_id=user_id, event=event)


def touch() -> None:
    """One round trip that records nothing (what :func:`record` costs, for a caller that
    must not differ in cost between an existing and a missing account)."""
    with store.guard():
        store.get_client().exists(keys.activity("-"))


_BROWSERS = (
    ("Edge", re.compile(r"Edg(e|A|iOS)?/")),
    ("Opera", re.compile(r"OPR/|Opera")),
    ("Firefox", re.compile(r"Firefox/|FxiOS/")),
    ("Chrome", re.compile(r"Chrome/|CriOS/|Chromium/")),
    ("Safari", re.compile(r"Safari/")),
)
_SYSTEMS = (
    ("Android", re.compile(r"Android")),
    ("iOS", re.compile(r"iPhone|iPad|iPod")),
    ("Windows", re.compile(r"Windows")),
    ("macOS", re.compile(r"Mac OS X|Macintosh")),
    ("Linux", re.compile(r"Linux|X11")),
)


def user_agent_family(user_agent: str) -> str:
    """ "Firefox on Linux": what a person recognises as their device, stable across the
    browser's updates (so an update is not a "new device")."""
    browser = next((name for name, pattern in _BROWSERS if pattern.search(user_agent)), "")
    system = next((name for name, pattern in _SYSTEMS if pattern.search(user_agent)), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or system or (user_agent.split("/", 1)[0][:40] if user_agent else "")


def device_fingerprint(client: Client | None) -> str:
    """User agent family + network: the "device" of the new-device notice ('' when nothing
    is known about the client, which is then not tracked)."""
    if client is None or not (client.ip or client.user_agent):
        return ""
    return f"{user_agent_family(client.user_agent)}|{families.coarse_ip(client.ip)}"


_SEP = "\x1f"  # lua/activity.lib.lua joins an entry's fields with it


def _order(entry_id: str) -> tuple[int, int]:
    ms, _, n = entry_id.partition("-")
    return int(ms), int(n or 0)


def _event(raw: Any) -> Event | None:
    parts = (store.decode(raw) or "").split(_SEP)
    if len(parts) != 6:
        return None
    entry_id, kind, method, ip, agent, session = parts
    try:
        at = datetime.fromtimestamp(_order(entry_id)[0] / 1000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return Event(
        type=kind, at=at, ip=ip, user_agent=agent, session=session, method=method, id=entry_id
    )


def recent(user_id: Any, *, before: str | None = None, limit: int = 20) -> tuple[list[Event], str]:
    """Up to ``limit`` events, newest first, older than the entry id ``before`` (a cursor
    from an earlier page); and the cursor of the next page ('' when there is none). One
    round trip: the whole list is at most ``ACTIVITY_MAX_ENTRIES`` short strings."""
    with store.guard():
        rows = store.get_client().lrange(keys.activity(user_id), 0, -1)
    found = [e for e in map(_event, rows) if e is not None]
    if before:
        bound = _order(before)
        found = [e for e in found if _order(e.id) < bound]
    return found[:limit], found[limit - 1].id if len(found) > limit else ""
