"""Enrolled factors: what must survive Redis losing everything (guarantee 11).

* :class:`TOTPFactor` — a user's authenticator app: its secret encrypted (``crypto.py``,
  never in plain text), and the last time step a code of it was accepted, so a replay is
  refused even after Redis is flushed.
* :class:`RecoveryCode` — one of a user's single-use recovery codes, as a keyed hash only.

Both belong to the ``django_redis_auth`` app (imported by its ``models.py``) and point at
``AUTH_USER_MODEL``, whatever model that is. Their reverse accessors are disabled
(``related_name="+"``): nothing is added to the project's user model.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["RecoveryCode", "TOTPFactor"]


class TOTPFactor(models.Model):
    """One authenticator app per user (RFC 6238: SHA-1, 6 digits, 30 s)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    # crypto.encrypt(base32 secret, "totp:<user pk>"): v1$<key id>$<nonce + AES-GCM output>.
    secret = models.TextField(_("encrypted secret"))
    # The newest time step (unix time // 30) a code was accepted for; a code of this step or
    # an older one is refused (replay), enforced by a conditional UPDATE.
    last_used_step = models.BigIntegerField(_("last used time step"), default=0)
    created = models.DateTimeField(_("created"), default=timezone.now)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    def __str__(self) -> str:
        return f"TOTP of user {self.user_id}"


class RecoveryCode(models.Model):
    """A recovery code's HMAC-SHA256 (``crypto.recovery_digest``), unique per user: a try
    is one hash and one indexed lookup, and using a code deletes its row (single use)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    digest = models.CharField(_("keyed digest"), max_length=64)
    # Which MFA key hashed it (crypto.Key.id): mfa_rekey tells how many codes still need an
    # old key.
    key_id = models.CharField(_("key id"), max_length=8)
    created = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("recovery code")
        verbose_name_plural = _("recovery codes")
        constraints = [
            models.UniqueConstraint(fields=["user", "digest"], name="dra_recovery_code_digest"),
        ]

    def __str__(self) -> str:
        return f"Recovery code of user {self.user_id}"
