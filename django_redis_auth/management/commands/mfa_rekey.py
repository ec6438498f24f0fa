"""``manage.py mfa_rekey``: re-encrypt every authenticator secret under the current MFA key.

Rotation (docs/mfa.md): put the new key first in ``MFA_ENCRYPTION_KEYS`` (keeping the old
ones after it), deploy, run this, then drop the old keys. Recovery codes are hashes and
cannot be re-keyed: the command says how many still need an old key (their users
regenerate them, or the old key stays in the list until they do).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from django_redis_auth.mfa import crypto
from django_redis_auth.mfa.models import RecoveryCode, TOTPFactor


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class Command(BaseCommand):
    help = "Re-encrypt every authenticator (TOTP) secret under the first MFA key."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would change; write nothing."
        )
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, dry_run: bool = False, batch_size: int = 500, **options: Any):
        current = crypto.current_key()
        done = failed = 0
        stale = TOTPFactor.objects.exclude(secret__contains=f"${current.id}$").order_by("pk")
        for factor in stale.iterator(chunk_size=batch_size):
            context = f"totp:{factor.user_id}"
            try:
                plaintext = crypto.decrypt(factor.secret, context)
            except crypto.DecryptionFailed:
                failed += 1
                continue
            done += 1
            if dry_run:
                continue
            with transaction.atomic(using=TOTPFactor.objects.db):
                # Only if unchanged since read (a concurrent disable or re-enrolment wins).
                TOTPFactor.objects.filter(pk=factor.pk, secret=factor.secret).update(
                    secret=crypto.encrypt(plaintext, context)
                )
        verb = "would be re-encrypted" if dry_run else "re-encrypted"
        self.stdout.write(f"{_plural(done, 'authenticator secret')} {verb} under key {current.id}.")
        old_codes = RecoveryCode.objects.exclude(key_id=current.id).count()
        if old_codes:
            self.stdout.write(
                f"{_plural(old_codes, 'recovery code')} are hashed under older keys: keep those "
                "keys in MFA_ENCRYPTION_KEYS until their users regenerate their codes."
            )
        if failed:
            raise CommandError(
                f"{_plural(failed, 'authenticator secret')} decrypt under no configured key: "
                "a key was removed from MFA_ENCRYPTION_KEYS (or SECRET_KEY_FALLBACKS) too early."
            )
