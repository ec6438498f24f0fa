"""The user model, as the flows see it: lookups, credential checks and the optional fields.

Works with any user model that has an email field (``EMAIL_FIELD``); ``email_verified`` and
``otp_required`` are used when the model has them (docs/index.md, "Your own user model").
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, get_user_model, password_validation
from django.contrib.auth.hashers import make_password
from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import router, transaction
from django.http import HttpRequest
from rest_framework_simplejwt.settings import api_settings as jwt_settings

from django_redis_auth.conf import auth_settings
from django_redis_auth.emails import normalize_email

__all__ = [
    "check_credentials",
    "find_by_email",
    "is_active",
    "is_verified",
    "mark_verified",
    "second_factor_required",
    "stored_email",
    "user_id_of",
]

# Enough for every spelling of one address a case-insensitive match can return.
_CANDIDATES = 20


def email_field() -> str:
    return get_user_model().get_email_field_name()


def has_field(model: Any, name: str) -> bool:
    """Whether ``model`` (a user model) has the field ``name`` (``email_verified``, ...)."""
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def user_id_of(user: Any) -> Any:
    """The value tokens carry in ``USER_ID_CLAIM`` (simplejwt's ``USER_ID_FIELD``)."""
    return getattr(user, jwt_settings.USER_ID_FIELD)


def find_by_email(email: str, *, lock: bool = False) -> Any | None:
    """The one user whose address has the canonical form ``email`` (given canonical:
    ``emails.canonical_email`` at the edge), or ``None``.

    Equality of canonical forms decides, never the database's case folding. Models that
    store the canonical form (``CANONICAL_EMAIL = True``, like ours) get one exact, indexed
    lookup. Others (``auth.User`` keeps addresses as typed) get the database's
    case-insensitive match as a *candidate* list, filtered by canonical equality in Python;
    if two accounts share a canonical address the lookup is ambiguous and finds no one
    (the ``email_collisions`` command reports such rows). ``lock`` (inside a transaction,
    models of the first kind) locks the row it finds (``SELECT ... FOR UPDATE``).
    """
    model = get_user_model()
    field = email_field()
    canonical = email
    manager = model._default_manager
    if getattr(model, "CANONICAL_EMAIL", False):
        rows = manager.select_for_update() if lock else manager
        return rows.filter(**{field: canonical}).first()
    matches = [
        user
        for user in manager.filter(**{f"{field}__iexact": canonical})[:_CANDIDATES]
        if normalize_email(getattr(user, field) or "") == canonical
    ]
    return matches[0] if len(matches) == 1 else None


def has_unique_email() -> bool:
    """Whether the database itself refuses a second account with the same address: the
    email column is unique (ours: it holds the canonical form, so one mailbox, one row)."""
    model = get_user_model()
    return (
        bool(getattr(model, "CANONICAL_EMAIL", False))
        and model._meta.get_field(email_field()).unique
    )


def stored_email(user: Any) -> str:
    """The address stored on the account: where its mail goes (never a typed spelling)."""
    return getattr(user, user.get_email_field_name()) or ""


def canonical_email_of(user: Any) -> str:
    """The canonical form of the account's address: what its codes and limits are keyed by.
    Models that store the canonical form (``CANONICAL_EMAIL = True``, like ours) give it as
    stored; others (``auth.User`` keeps addresses as typed) are folded."""
    stored = stored_email(user)
    return stored if getattr(type(user), "CANONICAL_EMAIL", False) else normalize_email(stored)


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


def is_active(user: Any) -> bool:
    return bool(getattr(user, "is_active", True))


def is_verified(user: Any) -> bool:
    return bool(getattr(user, "email_verified", True))


def set_verified(user: Any) -> list[str]:
    """Mark the address verified on ``user`` (not saved); the fields to save: none when
    the model has no ``email_verified`` or it was verified already."""
    if hasattr(user, "email_verified") and not user.email_verified:
        user.email_verified = True
        return ["email_verified"]
    return []


def mark_verified(user: Any) -> None:
    """Mark the address verified and save that field (nothing when it was)."""
    fields = set_verified(user)
    if fields:
        user.save(update_fields=fields)


def second_factor_required(user: Any) -> bool:
    policy = auth_settings.SECOND_FACTOR
    return policy == "required" or (
        policy == "optional" and bool(getattr(user, "otp_required", False))
    )


def provisional_user(email: str) -> Any:
    """An unsaved user with only the address, for password validators on paths where the
    answer must not depend on whether the account exists."""
    model = get_user_model()
    return model(**{model.get_email_field_name(): email})


def password_problems(password: str, user: Any) -> list[str]:
    """Django's password validators' messages for ``password`` (empty: acceptable)."""
    try:
        password_validation.validate_password(password, user)
    except DjangoValidationError as exc:
        return list(exc.messages)
    return []


def atomic() -> Any:
    """A transaction on the database user rows are written to."""
    return transaction.atomic(using=router.db_for_write(get_user_model()))
