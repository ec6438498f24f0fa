"""What the signed-in user has in Redis, for the demo page's "Redis keys" panel.

Key names and TTLs only, never values: values include code digests and session state that
have no business on a web page, even a development one. The keys are found by their hash
tags from :mod:`django_redis_auth.keys` (``{u<pk>}`` for the user's sessions and cache,
``{e<digest>}`` for the codes and limits of the user's address), so this stays correct when
the layout changes, and the descriptions below are only labels for what the reader sees.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

from django_redis_auth import keys, store
from django_redis_auth.accounts import users
from django_redis_auth.codes.purposes import Purpose

# (pattern on the part after the hash tag, label). Unknown keys are listed unlabelled.
LABELS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"epoch"), "session epoch: every token must carry it (logout all replaces it)"),
    (
        re.compile(r"fam:.+"),
        "one session (device): its record (live refresh token's digest, "
        "created, last refresh, coarsened IP, user agent), or revoked",
    ),
    (re.compile(r"fams"), "the user's sessions by expiry: the device list without SCAN"),
    (re.compile(r"jti:.+"), "one revoked token, kept until it would have expired"),
    (re.compile(r"user"), "cached user row (never the password hash)"),
    (re.compile(r"uver"), "user-cache version: a refill lands only if unchanged"),
    (re.compile(r"totp:new"), "authenticator being set up: its secret, encrypted, until confirmed"),
    (re.compile(r"totp:step"), "newest accepted authenticator time step: replays are refused"),
    (re.compile(r"mfa:lim"), "wrong authenticator codes over the last hour (per account cap)"),
    (re.compile(r"mfa:try:.+"), "one sign-in challenge: wrong second-step codes, spent mark"),
    (re.compile(r"reauth:.+"), "this session passed reauth/: when and how, for REAUTH_WINDOW"),
    (re.compile(r"act"), "security activity: the last sign-ins and changes (capped list)"),
    (re.compile(r"seen"), "devices the account signed in from: the new-device notice"),
    (re.compile(r"trust"), "trusted devices: keyed digest of each device token, its expiry"),
    *(
        (re.compile(rf"otp:{purpose.tag}"), f"pending {purpose.value} code: keyed hash + attempts")
        for purpose in Purpose
    ),
    (re.compile(r"lim"), "this address' resend cooldowns and hourly caps"),
]
SCAN_COUNT = 500


@dataclass(frozen=True)
class KeyInfo:
    key: str
    type: str
    ttl_ms: int  # remaining lifetime; -1: no expiry (a bug in this package)
    label: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]\\])", r"\\\1", text)


def _label(tag: str, key: str) -> str:
    rest = key[len(tag) + 1 :]
    return next((label for pattern, label in LABELS if pattern.fullmatch(rest)), "")


def keys_of(user: Any) -> dict[str, Any]:
    """The user's keys (sessions, revocations, cache) and their address' keys (codes,
    limits), each with type and TTL, sorted by name. One SCAN per tag, one pipeline."""
    email = users.canonical_email_of(user)
    tags = [keys.user_tag(user.pk)] + ([keys.email_tag(email)] if email else [])
    client = store.get_client()
    with store.guard():
        found = [
            (tag, store.decode(key))
            for tag in tags
            for key in client.scan_iter(match=f"{_glob_escape(tag)}:*", count=SCAN_COUNT)
        ]
        found.sort(key=lambda item: item[1])
        pipe = client.pipeline(transaction=False)
        for _tag, key in found:
            pipe.type(key)
            pipe.pttl(key)
        replies = pipe.execute() if found else []
    infos = []
    for index, (tag, key) in enumerate(found):
        kind, ttl = store.decode(replies[2 * index]), int(replies[2 * index + 1])
        if ttl == -2:
            continue  # expired between SCAN and PTTL
        infos.append(KeyInfo(key=key, type=kind or "", ttl_ms=ttl, label=_label(tag, key)))
    return {"tags": tags, "keys": [info.as_dict() for info in infos]}
