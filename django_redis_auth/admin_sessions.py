"""Alias of :mod:`django_redis_auth.tokens.admin` for one release (user admins that mix in the
session list); it moves in 0.2 and this module goes in 0.3 (docs/migrating.md)."""

from django_redis_auth.tokens.admin import SessionsAdminMixin

__all__ = ["SessionsAdminMixin"]
