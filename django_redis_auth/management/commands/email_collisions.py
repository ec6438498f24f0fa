"""``manage.py email_collisions``: accounts that share one mailbox under the canonical form.

Addresses written before canonical forms existed (or by code that bypasses them) may spell
one mailbox in several ways — ``Alice@`` and its full-width twin, say. Lookups by
address now find no one for such a group (``users.find_by_email`` refuses to guess), so
those users cannot sign in by email until an operator decides which row keeps the
address. This command lists them; it changes nothing. Exit status 1 when it finds any.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from django_redis_auth.accounts import users
from django_redis_auth.emails import EmailNotAllowed, canonical_email, normalize_email


class Command(BaseCommand):
    help = "Report accounts whose addresses collide under the canonical email form."

    def handle(self, *args: Any, **options: Any) -> None:
        model = get_user_model()
        field = users.email_field()
        groups: dict[str, list[tuple[Any, str]]] = defaultdict(list)
        refused: list[tuple[Any, str, str]] = []
        rows = model._default_manager.values_list("pk", field).order_by("pk")
        for pk, stored in rows.iterator():
            if not stored:
                continue
            groups[normalize_email(stored)].append((pk, stored))
            try:
                canonical_email(stored)
            except EmailNotAllowed as exc:
                refused.append((pk, stored, exc.code))
        collisions = {key: rows for key, rows in groups.items() if len(rows) > 1}
        for key, members in sorted(collisions.items()):
            spelled = ", ".join(f"pk={pk} {stored!r}" for pk, stored in members)
            self.stdout.write(f"collision {key!r}: {spelled}")
        for pk, stored, code in refused:
            self.stdout.write(f"not accepted today ({code}): pk={pk} {stored!r}")
        self.stdout.write(
            f"{len(collisions)} collision(s), {len(refused)} address(es) not accepted today."
        )
        if collisions:
            raise CommandError(
                "Accounts share a mailbox; decide which keeps the address (see docs/security.md)."
            )
