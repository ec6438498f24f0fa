"""The package's user model: the email address is the login.

It is swappable like ``auth.User``: its table exists only in projects that set
``AUTH_USER_MODEL = "django_redis_auth.User"``. Everything else in the package works with
any user model that has an email field (``EMAIL_FIELD``); ``email_verified`` and
``otp_required`` are used when the model has them.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from django_redis_auth.emails import EmailNotAllowed, canonical_email, normalize_email

__all__ = ["RecoveryCode", "TOTPFactor", "User", "UserManager", "normalize_email"]


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, email: str) -> User:
        # Exact: the column holds the canonical form (see emails.py), never ``__iexact``.
        return self.get(**{self.model.EMAIL_FIELD: normalize_email(email)})

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        extra.setdefault("email_verified", True)
        if extra["is_staff"] is not True or extra["is_superuser"] is not True:
            raise ValueError("A superuser needs is_staff=True and is_superuser=True.")
        return self._create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    email = models.EmailField(_("email address"), unique=True)
    email_verified = models.BooleanField(_("email verified"), default=False)
    otp_required = models.BooleanField(
        _("second factor"),
        default=False,
        help_text=_("Ask for an emailed code after the password at every sign-in."),
    )
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    is_staff = models.BooleanField(_("staff status"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects = UserManager()

    # The email column holds the canonical form (emails.py), so lookups are exact.
    CANONICAL_EMAIL = True
    EMAIL_FIELD = "email"
    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        swappable = "AUTH_USER_MODEL"
        constraints = [
            models.UniqueConstraint(Lower("email"), name="django_redis_auth_user_email_ci"),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        try:
            self.email = canonical_email(self.email)
        except EmailNotAllowed as exc:
            raise ValidationError({"email": exc.message}, code=exc.code) from None

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name


# The enrolled factors (multi-factor authentication) belong to this app too: Django finds
# an app's models through its models module.
from django_redis_auth.mfa.models import RecoveryCode, TOTPFactor  # noqa: E402
