"""System checks for a project adopting the app: can codes be delivered, and does the user
model have what the settings rely on? Registered by :func:`django_redis_auth.checks.register`.

Each of these fails silently at run time otherwise: sign-up answers 202 while its code goes
to an SMTP server nobody runs, or ``REQUIRE_VERIFIED_EMAIL`` lets unverified users in because
the model has no flag to read.
"""

from __future__ import annotations

import warnings
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.checks import Warning
from django.db.models import F, UniqueConstraint

from django_redis_auth.accounts import users
from django_redis_auth.codes.senders import uses_mailers
from django_redis_auth.conf import auth_settings

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


class Messages:
    SMTP_UNCONFIGURED = (
        "Codes are sent with Django's SMTP email backend to its default host (localhost:25), "
        "which is not configured."
    )
    MAILER_MISSING = "DJANGO_REDIS_AUTH['MAILER'] = {!r} is not an alias in MAILERS."
    NO_EMAIL_VERIFIED = (
        "REQUIRE_VERIFIED_EMAIL is on but the user model {} has no email_verified field: "
        "every user counts as verified."
    )
    NO_OTP_REQUIRED = (
        "SECOND_FACTOR is 'optional' but the user model {} has no otp_required field: "
        "no user can turn the second factor on."
    )
    EMAIL_NOT_UNIQUE = (
        "The email field {!r} of the user model {} is not unique: two accounts can share an "
        "address, and signing in with it fails for both."
    )


class Hints:
    SMTP_UNCONFIGURED = (
        "Set EMAIL_HOST (and EMAIL_PORT, EMAIL_HOST_USER, ...) for your mail server, or set "
        "EMAIL_BACKEND, e.g. 'django.core.mail.backends.console.EmailBackend' in development "
        "(Django 6.1+: configure MAILERS instead). To use a server on localhost, set "
        "EMAIL_HOST = 'localhost' explicitly."
    )
    MAILER_MISSING = "Add that alias to MAILERS or point DJANGO_REDIS_AUTH['MAILER'] at one."
    NO_EMAIL_VERIFIED = (
        "Add `email_verified = models.BooleanField(default=False)` to the user model (or use "
        "django_redis_auth.User), or set DJANGO_REDIS_AUTH['REQUIRE_VERIFIED_EMAIL'] = False."
    )
    NO_OTP_REQUIRED = (
        "Add `otp_required = models.BooleanField(default=False)` to the user model, or set "
        "DJANGO_REDIS_AUTH['SECOND_FACTOR'] to 'off' or 'required'."
    )
    EMAIL_NOT_UNIQUE = (
        "Make the field unique=True (or add a UniqueConstraint on it, e.g. on Lower(field)); "
        "django_redis_auth.User's email is unique."
    )


def check_email_delivery(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if uses_mailers():
        alias = auth_settings.MAILER
        if alias not in settings.MAILERS:
            return [
                Warning(
                    Messages.MAILER_MISSING.format(alias),
                    hint=Hints.MAILER_MISSING,
                    id="django_redis_auth.W020",
                )
            ]
        return []
    if _email_backend() == SMTP_BACKEND and not settings.is_overridden("EMAIL_HOST"):
        return [
            Warning(
                Messages.SMTP_UNCONFIGURED,
                hint=Hints.SMTP_UNCONFIGURED,
                id="django_redis_auth.W021",
            )
        ]
    return []


def _email_backend() -> str:
    # Django 6.1 warns at the first read of each EMAIL_* setting it deprecates; a project
    # that still sets EMAIL_BACKEND was told so at startup, not by this check.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"The EMAIL_BACKEND setting is deprecated")
        return str(settings.EMAIL_BACKEND)


def _unique(model: Any, name: str) -> bool:
    if model._meta.get_field(name).unique:
        return True
    for constraint in model._meta.constraints:
        if not isinstance(constraint, UniqueConstraint) or constraint.condition is not None:
            continue
        if tuple(constraint.fields) == (name,):
            return True
        if len(constraint.expressions) == 1:
            refs = {
                getattr(node, "name", None)
                for node in constraint.expressions[0].flatten()
                if isinstance(node, F)
            }
            if refs == {name}:
                return True
    return False


def check_user_model(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    model = get_user_model()
    label = model._meta.label
    warnings: list[Any] = []
    if auth_settings.REQUIRE_VERIFIED_EMAIL and not users.has_field(model, "email_verified"):
        warnings.append(
            Warning(
                Messages.NO_EMAIL_VERIFIED.format(label),
                hint=Hints.NO_EMAIL_VERIFIED,
                id="django_redis_auth.W022",
            )
        )
    if auth_settings.SECOND_FACTOR == "optional" and not users.has_field(model, "otp_required"):
        warnings.append(
            Warning(
                Messages.NO_OTP_REQUIRED.format(label),
                hint=Hints.NO_OTP_REQUIRED,
                id="django_redis_auth.W023",
            )
        )
    email_field = model.get_email_field_name()
    if not users.has_field(model, email_field) or not _unique(model, email_field):
        warnings.append(
            Warning(
                Messages.EMAIL_NOT_UNIQUE.format(email_field, label),
                hint=Hints.EMAIL_NOT_UNIQUE,
                id="django_redis_auth.W024",
            )
        )
    return warnings
