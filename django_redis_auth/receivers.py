"""Keep Redis in step with the user table.

* a password change, deactivation or deletion revokes every session of the user *before*
  the row changes (``pre_save``; ``post_delete`` runs inside ``delete()``'s own transaction):
  if Redis is down the save or delete fails and nothing is written, rather than committing a
  password change while the old sessions stay valid;
* any save or delete drops the cached user (now, and again after commit so a reader that
  refilled the cache from the pre-commit row cannot leave it stale).

Not covered: ``QuerySet.update()`` and raw SQL send no signals (see docs/settings.md).
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hasher, identify_hasher, is_password_usable
from django.db import transaction
from django.db.models.signals import post_delete, post_init, post_save, pre_save

from django_redis_auth.accounts import users, users_cache
from django_redis_auth.exceptions import AuthUnavailable
from django_redis_auth.tokens import revocation

logger = logging.getLogger("django_redis_auth")

_SNAPSHOT = "_django_redis_auth_snapshot"


def revoke_before_save(instance: Any, *, reason: str) -> None:
    """Revoke every session of ``instance``'s user now, reporting ``reason`` in
    ``tokens_revoked``, for a caller about to save a password or deactivation it already
    knows the reason for (a password reset, say). The instance's current state counts as
    handled, so the save that follows does not revoke a second time."""
    revocation.revoke_user_id(users.user_id_of(instance), reason=reason)
    instance.__dict__[_SNAPSHOT] = _snapshot(instance)


def _snapshot(instance: Any) -> tuple[Any, Any]:
    # __dict__ and not getattr: reading a deferred password would cost a query.
    return instance.__dict__.get("password"), instance.__dict__.get("is_active")


def _remember(sender: Any, instance: Any, **kwargs: Any) -> None:
    instance.__dict__[_SNAPSHOT] = _snapshot(instance)


def _invalidate_quietly(user_id: Any) -> None:
    try:
        users_cache.invalidate(user_id)
    except AuthUnavailable:
        # The entry expires within USER_CACHE_TTL; security-relevant changes also revoke.
        logger.error("Could not drop a cached user; it expires by USER_CACHE_TTL")


def _is_rehash(old: str | None, new: str | None, update_fields: Any) -> bool:
    """``check_password`` re-hashing the same password with a newer hasher (it saves only
    the password, after a successful login). Revoking then would sign every user out of
    every device after each Django upgrade that raises the hasher's work factor.

    Only a save of the password alone, from an outdated usable hash to a usable hash of the
    preferred hasher, qualifies; ``set_unusable_password()`` or any other new hash of an
    up-to-date one is a real change."""
    if update_fields is None or set(update_fields) != {"password"}:
        return False
    if not (old and new and is_password_usable(old) and is_password_usable(new)):
        return False
    try:
        old_hasher, preferred = identify_hasher(old), get_hasher("default")
    except ValueError:
        return False
    if new.split("$", 1)[0] != preferred.algorithm:
        return False
    return old_hasher.algorithm != preferred.algorithm or preferred.must_update(old)


def _saving(sender: Any, instance: Any, raw: bool = False, **kwargs: Any) -> None:
    """Revoke *before* the row is written: if Redis is down the save raises and nothing is
    written. (``post_save`` would be too late in autocommit mode: the new password or the
    deactivation would already be committed while the old sessions stayed valid.)"""
    if raw or instance._state.adding:
        return
    old_password, was_active = instance.__dict__.get(_SNAPSHOT, (None, None))
    password, is_active = _snapshot(instance)
    if (
        password is not None
        and password != old_password
        and not _is_rehash(old_password, password, kwargs.get("update_fields"))
    ):
        revocation.revoke_user_id(users.user_id_of(instance), reason="password_changed")
    elif was_active is not False and is_active is False:
        revocation.revoke_user_id(users.user_id_of(instance), reason="deactivated")


def _saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        return
    if set(kwargs.get("update_fields") or ()) == {"last_login"}:
        # Django's update_last_login on every sign-in (user_logged_in): nothing the
        # authentication reads changed, and the cached row's last_login may lag by
        # USER_CACHE_TTL rather than cost every sign-in two more round trips.
        return
    user_id = users.user_id_of(instance)
    instance.__dict__[_SNAPSHOT] = _snapshot(instance)
    _invalidate_quietly(user_id)
    transaction.on_commit(lambda: _invalidate_quietly(user_id), using=kwargs.get("using"))


def _deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    user_id = users.user_id_of(instance)
    revocation.revoke_user_id(user_id, reason="deleted")
    _invalidate_quietly(user_id)
    transaction.on_commit(lambda: _invalidate_quietly(user_id), using=kwargs.get("using"))


def connect() -> None:
    model = get_user_model()
    uid = "django_redis_auth"
    post_init.connect(_remember, sender=model, dispatch_uid=f"{uid}.remember")
    pre_save.connect(_saving, sender=model, dispatch_uid=f"{uid}.saving")
    post_save.connect(_saved, sender=model, dispatch_uid=f"{uid}.saved")
    post_delete.connect(_deleted, sender=model, dispatch_uid=f"{uid}.deleted")
