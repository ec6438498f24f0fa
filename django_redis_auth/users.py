"""User lookups shared by the flows, for any user model with an email field."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest

from .conf import auth_settings
from .emails import normalize_email

# Enough for every spelling of one address a case-insensitive match can return.
_CANDIDATES = 20


def email_field() -> str:
    return get_user_model().get_email_field_name()


def find_by_email(email: str) -> Any | None:
    """The one user whose address has the canonical form of ``email``, or ``None``.

    Equality of canonical forms decides, never the database's case folding. Models that
    store the canonical form (``CANONICAL_EMAIL = True``, like ours) get one exact, indexed
    lookup. Others (``auth.User`` keeps addresses as typed) get the database's
    case-insensitive match as a *candidate* list, filtered by canonical equality in Python;
    if two accounts share a canonical address the lookup is ambiguous and finds no one
    (check W007 and the ``email_collisions`` command report such rows).
    """
    model = get_user_model()
    field = email_field()
    canonical = normalize_email(email)
    manager = model._default_manager
    if getattr(model, "CANONICAL_EMAIL", False):
        return manager.filter(**{field: canonical}).first()
    matches = [
        user
        for user in manager.filter(**{f"{field}__iexact": canonical})[:_CANDIDATES]
        if normalize_email(getattr(user, field) or "") == canonical
    ]
    return matches[0] if len(matches) == 1 else None


def stored_email(user: Any) -> str:
    """The address stored on the account: where its mail goes (never a typed spelling)."""
    return getattr(user, user.get_email_field_name()) or ""


def check_credentials(request: HttpRequest | None, email: str, password: str) -> Any | None:
    """The active user with this email and password, or ``None``.

    Goes through ``django.contrib.auth.authenticate`` so project backends, lockout apps
    (django-axes) and the ``user_login_failed`` signal all see the attempt. An unknown email
    still pays for one password hash, so timing does not reveal which addresses exist.
    """
    model = get_user_model()
    if email_field() == model.USERNAME_FIELD:
        return authenticate(request, **{model.USERNAME_FIELD: email, "password": password})
    user = find_by_email(email)
    if user is None:
        make_password(password)
        return None
    return authenticate(
        request, **{model.USERNAME_FIELD: user.get_username(), "password": password}
    )


def is_verified(user: Any) -> bool:
    return bool(getattr(user, "email_verified", True))


def mark_verified(user: Any) -> None:
    if hasattr(user, "email_verified") and not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified"])


def second_factor_required(user: Any) -> bool:
    policy = auth_settings.SECOND_FACTOR
    return policy == "required" or (
        policy == "optional" and bool(getattr(user, "otp_required", False))
    )
