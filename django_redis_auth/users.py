"""User lookups shared by the flows, for any user model with an email field."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.hashers import make_password
from django.http import HttpRequest

from .conf import auth_settings


def email_field() -> str:
    return get_user_model().get_email_field_name()


def find_by_email(email: str) -> Any | None:
    model = get_user_model()
    return model._default_manager.filter(**{f"{email_field()}__iexact": email}).first()


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
