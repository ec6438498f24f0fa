"""Security notices mailed to the account's address for events its owner should know about
even when someone else caused them. The factor-change, password and email notices are sent by
their flows; this module holds the ones without a flow of their own."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django_redis_auth.accounts import users
from django_redis_auth.clients import Client
from django_redis_auth.codes import senders
from django_redis_auth.codes.purposes import EmailKind
from django_redis_auth.codes.senders import AuthEmail

__all__ = ["new_device"]


def new_device(user: Any, client: Client | None) -> None:
    """A sign-in from a device (browser family + network) the account has not used within
    ``ACTIVITY_DAYS``: say which, from where, when — never anything that signs in."""
    from django_redis_auth import activity
    from django_redis_auth.tokens import families

    senders.send(
        AuthEmail(
            to=users.stored_email(user),
            kind=EmailKind.NEW_DEVICE,
            context={
                "device": activity.user_agent_family(client.user_agent if client else "")
                or "an unknown device",
                "network": families.coarse_ip(client.ip if client else None) or "",
                "at": datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M UTC"),
            },
        )
    )
