"""The package's user model: the email address is the login.

It is swappable like ``auth.User``: its table exists only in projects that set
``AUTH_USER_MODEL = "django_redis_auth.User"``. Everything else in the package works with
any user model that has an email field (``EMAIL_FIELD``); ``email_verified`` and
``otp_required`` are used when the model has them.
"""

from __future__ import annotations

import unicodedata
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def normalize_email(email: str) -> str:
    """One spelling per mailbox, so one account and one set of rate limits per mailbox.

    Whole-address lower-casing (``Alice@Example.com`` is ``alice@example.com``; Django's own
    normaliser only lower-cases the domain), Unicode NFC (a precomposed and a decomposed
    ``ä`` are one letter), and the domain in its ASCII (IDNA) form (``exämple.com`` is
    ``xn--exmple-cua.com``). A domain IDNA cannot encode is left as is for the email
    validator to refuse."""
    email = unicodedata.normalize("NFC", (email or "").strip()).lower()
    local, at, domain = email.rpartition("@")
    if not at or domain.isascii():
        return email
    try:
        domain = domain.encode("idna").decode("ascii")
    except UnicodeError:
        return email
    return f"{local}@{domain}"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_by_natural_key(self, email: str) -> User:
        return self.get(**{f"{self.model.EMAIL_FIELD}__iexact": normalize_email(email)})

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
        self.email = normalize_email(self.email)

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.email = normalize_email(self.email)
        super().save(*args, **kwargs)

    def get_full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name
