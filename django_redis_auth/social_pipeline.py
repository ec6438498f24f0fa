"""Alias of :mod:`django_redis_auth.google.pipeline` for one release (``SOCIAL_AUTH_PIPELINE``
entries); it moves in 0.2 and this module goes in 0.3 (docs/migrating.md)."""

from django_redis_auth.google.pipeline import (
    announce,
    associate_by_verified_email,
    create_user,
    require_active,
)

__all__ = ["announce", "associate_by_verified_email", "create_user", "require_active"]
