"""Pipeline steps of the Google sign-in, and the pipeline itself (``DEFAULT_PIPELINE``).

social-core's steps find the account already linked to the Google id (``social_user``),
store the link (``associate_user``) and update names (``user_details``). These steps hold
this package's account rules, in between:

* an existing account with the same canonical address is linked **only** when Google
  asserts ``email_verified`` (otherwise 409 ``account_exists``), never on its say-so alone;
* a new account is created only for a Google-verified address and only if
  ``GOOGLE_CREATE_USERS`` allows it, with ``email_verified = True`` and an unusable
  password (the user can set one through password reset);
* inactive accounts never sign in.

Projects can put their own steps into ``GOOGLE_PIPELINE``; each step gets social-core's
keyword arguments (``backend``, ``details``, ``response``, ``uid``, ``user``, ...).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model

from django_redis_auth import signals
from django_redis_auth.accounts import users
from django_redis_auth.conf import auth_settings
from django_redis_auth.emails import EmailNotAllowed, canonical_email
from django_redis_auth.exceptions import (
    AccountExists,
    InvalidCredentials,
    SignupClosed,
    SocialEmailNotVerified,
    SocialEmailRefused,
)

NAME_MAX = 150

DEFAULT_PIPELINE = (
    "social_core.pipeline.social_auth.social_details",
    "social_core.pipeline.social_auth.social_names",
    "social_core.pipeline.social_auth.social_uid",
    "social_core.pipeline.social_auth.auth_allowed",
    "social_core.pipeline.social_auth.social_user",
    "django_redis_auth.google.pipeline.require_active",
    "django_redis_auth.google.pipeline.associate_by_verified_email",
    "django_redis_auth.google.pipeline.create_user",
    "social_core.pipeline.social_auth.associate_user",
    "social_core.pipeline.social_auth.load_extra_data",
    "social_core.pipeline.user.user_details",
    "django_redis_auth.google.pipeline.announce",
)


def google_verified(response: dict[str, Any]) -> bool:
    """Google's own word that the address is the user's (a bool in ID tokens and userinfo)."""
    return response.get("email_verified") in (True, "true")


def _canonical(details: dict[str, Any]) -> str:
    try:
        return canonical_email(details.get("email") or "")
    except EmailNotAllowed as exc:
        raise SocialEmailRefused(exc.message, code=exc.code) from None


def require_active(user: Any = None, *args: Any, **kwargs: Any) -> None:
    """The account linked to this Google id must be active."""
    if user is not None and not users.is_active(user):
        raise InvalidCredentials()


def associate_by_verified_email(
    backend: Any, details: dict[str, Any], response: dict[str, Any], user: Any = None,
    *args: Any, **kwargs: Any,
) -> dict[str, Any] | None:  # fmt: skip
    """No account is linked to this Google id yet: find the one with its address.

    Linking needs Google's ``email_verified``: an unverified Google address proves nothing
    about the mailbox, and linking on it would hand the account to whoever typed it.
    """
    if user is not None:
        return None
    email = _canonical(details)
    existing = users.find_by_email(email)
    if existing is None:
        return {"canonical_email": email}
    if not google_verified(response):
        raise AccountExists()
    if not users.is_active(existing):
        raise InvalidCredentials()
    if not users.is_verified(existing):
        # Nobody ever proved this mailbox for the row: its password may be a stranger's who
        # signed up with the address first (pre-hijacking). Google just proved the mailbox,
        # so the owner keeps the account and that password dies (with its sessions: the
        # save revokes them). The owner can set a password through password reset.
        existing.set_unusable_password()
        existing.save(update_fields=["password"])
    return {"user": existing, "is_new": False, "linked_by_email": True}


def create_user(
    strategy: Any, details: dict[str, Any], response: dict[str, Any], user: Any = None,
    *args: Any, **kwargs: Any,
) -> dict[str, Any]:  # fmt: skip
    """A new account for a Google-verified address (``GOOGLE_CREATE_USERS``)."""
    if user is not None:
        return {"is_new": False}
    if not auth_settings.GOOGLE_CREATE_USERS:
        raise SignupClosed()
    if not google_verified(response):
        raise SocialEmailNotVerified()
    model = get_user_model()
    email = kwargs.get("canonical_email") or _canonical(details)
    fields: dict[str, Any] = {model.get_email_field_name(): email}
    # A model with its own username field (auth.User): social-core's get_username step, if
    # the pipeline has it, made one; else the address (cut to the field's length).
    if model.USERNAME_FIELD not in fields:
        limit = model._meta.get_field(model.USERNAME_FIELD).max_length
        fields[model.USERNAME_FIELD] = (kwargs.get("username") or email)[:limit]
    for name in ("first_name", "last_name"):
        if details.get(name) and users.has_field(model, name):
            fields[name] = str(details[name])[:NAME_MAX]
    if users.has_field(model, "email_verified"):
        fields["email_verified"] = True
    # Through social-django's storage: a concurrent sign-up for the same address becomes
    # AuthAssociationError (409 account_exists), not an IntegrityError. No password given:
    # the manager sets an unusable one.
    return {"is_new": True, "user": strategy.create_user(**fields)}


def announce(
    backend: Any, user: Any = None, is_new: bool = False, new_association: bool = False,
    linked_by_email: bool = False, *args: Any, **kwargs: Any,
) -> None:  # fmt: skip
    """Last step: a linked address counts as verified; send the link and sign-in signals."""
    if user is None:
        return
    linked = bool(linked_by_email and new_association)
    if linked:
        users.mark_verified(user)
        signals.social_linked.send(sender=type(backend), user=user, provider=backend.name)
    signals.social_sign_in.send(
        sender=type(backend), user=user, provider=backend.name, created=is_new, linked=linked
    )
