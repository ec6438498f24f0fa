"""Enrolled factors: what must survive Redis losing everything (guarantee 11).

* :class:`TOTPFactor` — a user's authenticator app: its secret encrypted (``crypto.py``,
  never in plain text), and the last time step a code of it was accepted, so a replay is
  refused even after Redis is flushed.
* :class:`RecoveryCode` — one of a user's single-use recovery codes, as a keyed hash only.
* :class:`Passkey` — a WebAuthn credential: its public key only (a dump lets nobody sign),
  and the sign count its authenticator last reported.

Both belong to the ``django_redis_auth`` app (imported by its ``models.py``) and point at
``AUTH_USER_MODEL``, whatever model that is. Their reverse accessors are disabled
(``related_name="+"``): nothing is added to the project's user model.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

__all__ = ["Passkey", "RecoveryCode", "TOTPFactor"]


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


class Passkey(models.Model):
    """A user's WebAuthn credential (mfa/passkeys.py registers and checks it).

    ``credential_id`` is the authenticator's id of it, base64url (a sign-in finds the row by
    it, so it is unique); ``public_key`` the COSE key the authenticator made, which verifies
    its assertions. ``user_handle`` is the random id the authenticator stores with a
    discoverable credential (WebAuthn's ``user.id``: never the user's pk or address).
    ``backup_eligible``: a synced passkey (iCloud Keychain, Google Password Manager);
    ``backup_state``: it is backed up now."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=64)
    # WebAuthn allows ids up to 1023 bytes: 1364 base64url characters.
    credential_id = models.CharField(_("credential id"), max_length=1366, unique=True)
    public_key = models.BinaryField(_("public key"))
    sign_count = models.BigIntegerField(_("sign count"), default=0)
    transports = models.JSONField(_("transports"), default=list, blank=True)
    aaguid = models.CharField(_("AAGUID"), max_length=36, blank=True, default="")
    user_handle = models.CharField(_("user handle"), max_length=128)
    backup_eligible = models.BooleanField(_("backup eligible"), default=False)
    backup_state = models.BooleanField(_("backed up"), default=False)
    created = models.DateTimeField(_("created"), default=timezone.now)
    last_used = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("passkey")
        verbose_name_plural = _("passkeys")
        indexes = [models.Index(fields=["user", "created"], name="dra_passkey_user")]

    def __str__(self) -> str:
        return f"Passkey {self.name!r} of user {self.user_id}"
