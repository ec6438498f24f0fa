"""``manage.py revoke_sessions alice@example.com [...]``: sign a user out everywhere."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_redis_auth.accounts import users
from django_redis_auth.emails import normalize_email
from django_redis_auth.exceptions import AuthUnavailable
from django_redis_auth.tokens import revocation


class Command(BaseCommand):
    help = "Revoke every token of the given users, on every device (e.g. a stolen laptop)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("emails", nargs="+", metavar="email")

    def handle(self, *args: Any, emails: list[str], **options: Any) -> None:
        missing = []
        for email in emails:
            user = users.find_by_email(normalize_email(email))
            if user is None:
                missing.append(email)
                continue
            try:
                revocation.revoke_user(user, reason="command")
            except AuthUnavailable as exc:
                raise CommandError(f"Redis is unreachable; nothing revoked for {email}.") from exc
            self.stdout.write(self.style.SUCCESS(f"Revoked every session of {email}."))
        if missing:
            raise CommandError(f"No user with email: {', '.join(missing)}")
