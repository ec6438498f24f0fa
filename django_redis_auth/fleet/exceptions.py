"""Errors of the endpoints for other services (:mod:`django_redis_auth.fleet`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions


class InvalidClient(exceptions.AuthenticationFailed):
    """token/introspect/ without valid client credentials (HTTP Basic, RFC 6749 §2.3.1):
    401 with ``WWW-Authenticate: Basic``. The same answer for an unknown client id and a
    wrong secret."""

    default_detail = _("Client authentication failed.")
    default_code = "invalid_client"


class IntrospectionNotConfigured(exceptions.NotFound):
    """token/introspect/ while ``INTROSPECTION_CLIENTS`` is empty: nobody may call it."""

    default_detail = _("Token introspection is not configured on this server.")
    default_code = "introspection_not_configured"


DESCRIPTIONS = {
    InvalidClient: "token/introspect/: no HTTP Basic client credentials, or not those of a "
    "client in `INTROSPECTION_CLIENTS`.",
    IntrospectionNotConfigured: "token/introspect/ is off: `INTROSPECTION_CLIENTS` is empty.",
}
