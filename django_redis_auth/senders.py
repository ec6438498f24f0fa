"""Alias of :mod:`django_redis_auth.codes.senders` for one release (``EMAIL_SENDER`` dotted paths);
it moves in 0.2 and this module goes in 0.3 (docs/migrating.md)."""

from django_redis_auth.codes.senders import send_in_background, send_now

__all__ = ["send_in_background", "send_now"]
