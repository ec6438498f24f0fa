""" "Trust this device": a device that passed the second step may skip it for a while.

Off unless ``MFA_TRUST_DAYS`` is set (as allauth's ``MFA_TRUST_ENABLED``). ``login/verify/``
with ``trust_device`` then also answers a ``device_token``: 256 random bits the client keeps
(like a cookie) and sends with its next ``login/``. Redis keeps only a keyed digest of it
with its expiry, in one hash per user under the user's hash tag (``MFA_TRUST_MAX_DEVICES``
at most), so:

* a Redis dump does not hold a usable token;
* logout everywhere, a password reset and every factor change (all ``revoke_user``) delete
  the hash: every device is asked again;
* losing Redis forgets the devices — the second step is asked again, never skipped.

A trusted device still needs the password: it skips the *second* step only, and its pair
says ``amr: ["pwd"]`` — no ``mfa``, because no second factor was shown this time.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from django_redis_auth import keys, store
from django_redis_auth.accounts import users
from django_redis_auth.conf import auth_settings

__all__ = ["enabled", "is_trusted", "trust"]

_DAY_MS = 86_400_000


def enabled() -> bool:
    return int(auth_settings.MFA_TRUST_DAYS) > 0


def _digest(user: Any, token: str) -> str:
    return keys.device_token_digest(users.user_id_of(user), token)


def trust(user: Any) -> str:
    """A new device token for ``user``, trusted ``MFA_TRUST_DAYS`` from now."""
    token = secrets.token_urlsafe(32)
    with store.guard():
        store.script("trust_device")(
            keys=[keys.trusted_devices(users.user_id_of(user))],
            args=[
                "add",
                _digest(user, token),
                int(time.time() * 1000),
                int(auth_settings.MFA_TRUST_DAYS) * _DAY_MS,
                int(auth_settings.MFA_TRUST_MAX_DEVICES),
            ],
        )
    return token


def is_trusted(user: Any, token: str | None) -> bool:
    """Whether ``token`` is a live device token of ``user`` (always ``False`` while the
    feature is off)."""
    if not token or not enabled():
        return False
    with store.guard():
        found = store.script("trust_device")(
            keys=[keys.trusted_devices(users.user_id_of(user))],
            args=["check", _digest(user, token), int(time.time() * 1000)],
        )
    return int(found) == 1
