"""``manage.py demo_user``: the demo's sign-in accounts, created or reset idempotently.

* ``demo@example.com``: verified, staff and superuser, so it also opens ``/admin/``;
* ``demo-2fa@example.com``: verified, with the emailed second factor on (``login/`` answers
  202 with a challenge, the code arrives in the development mailbox).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_redis_auth.accounts import users

DEMO_EMAIL = "demo@example.com"
DEMO_2FA_EMAIL = "demo-2fa@example.com"
DEMO_PASSWORD = "demo-password-1234"

# What the demo page offers as one-click logins; ``flags`` are set on every run.
DEMO_ACCOUNTS: list[dict[str, Any]] = [
    {
        "email": DEMO_EMAIL,
        "password": DEMO_PASSWORD,
        "label": f"{DEMO_EMAIL} (staff)",
        "flags": {"is_staff": True, "is_superuser": True, "otp_required": False},
        "note": "email verified, staff: opens /admin/",
    },
    {
        "email": DEMO_2FA_EMAIL,
        "password": DEMO_PASSWORD,
        "label": f"{DEMO_2FA_EMAIL} (second factor)",
        "flags": {"is_staff": False, "is_superuser": False, "otp_required": True},
        "note": "email verified, second factor on",
    },
]


class Command(BaseCommand):
    help = (
        f"Create (or reset) the verified demo users {DEMO_EMAIL} (staff, opens /admin/) and "
        f"{DEMO_2FA_EMAIL} (second factor on), password {DEMO_PASSWORD!r}. Refuses to run "
        "with DEBUG off: a published password."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", default=DEMO_EMAIL, help="address of the staff account")
        parser.add_argument("--password", default=DEMO_PASSWORD, help="password of both")

    def handle(self, *args: Any, email: str, password: str, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("DEBUG is off: refusing to create a user with a known password.")
        for account in DEMO_ACCOUNTS:
            address = email if account["email"] == DEMO_EMAIL else account["email"]
            action, user = self._ensure(address, password, account["flags"])
            self.stdout.write(f"{action}: {user.email} / {password} ({account['note']})")

    def _ensure(self, email: str, password: str, flags: dict[str, Any]) -> tuple[str, Any]:
        model = get_user_model()
        user = users.find_by_email(email)
        if user is None:
            user = model._default_manager.create_user(
                email=email, password=password, email_verified=True, **flags
            )
            return "Created", user
        user.email_verified = True
        user.is_active = True
        for name, value in flags.items():
            setattr(user, name, value)
        if not user.check_password(password):
            user.set_password(password)  # also revokes the user's sessions (receivers)
        user.save()
        return "Ready", user
