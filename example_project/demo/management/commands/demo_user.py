"""``manage.py demo_user``: the demo's sign-in account, created or reset idempotently."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_redis_auth import users

DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "demo-password-1234"


class Command(BaseCommand):
    help = (
        f"Create (or reset) the verified demo user {DEMO_EMAIL} with password "
        f"{DEMO_PASSWORD!r}. Refuses to run with DEBUG off: a published password."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", default=DEMO_EMAIL)
        parser.add_argument("--password", default=DEMO_PASSWORD)

    def handle(self, *args: Any, email: str, password: str, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("DEBUG is off: refusing to create a user with a known password.")
        model = get_user_model()
        user = users.find_by_email(email)
        created = user is None
        if created:
            user = model._default_manager.create_user(
                email=email, password=password, email_verified=True
            )
        else:
            user.email_verified = True
            user.is_active = True
            if not user.check_password(password):
                user.set_password(password)  # also revokes the user's sessions (receivers)
            user.save()
        action = "Created" if created else "Ready"
        self.stdout.write(f"{action}: {user.email} / {password} (email verified)")
