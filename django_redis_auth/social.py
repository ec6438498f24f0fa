"""Alias of :mod:`django_redis_auth.google.service` for one release (``SOCIAL_AUTH_PIPELINE =
DEFAULT_PIPELINE``); it moves in 0.2 and this module goes in 0.3 (docs/migrating.md)."""

from django_redis_auth.google.service import DEFAULT_PIPELINE

__all__ = ["DEFAULT_PIPELINE"]
