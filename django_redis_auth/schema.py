"""OpenAPI 3 for the package's endpoints, through drf-spectacular (the ``[openapi]`` extra).

The schema is built from what each view *declares*, so it cannot drift from the code that
answers: ``serializer_class`` (the request body), ``response_serializer_class`` and
``success_status`` (the success answer) and ``errors`` (the exception classes the view
raises). Validation errors are added from the request serializer's fields and the
authentication errors from the view's authentication classes; every error code and its
meaning come from :data:`django_redis_auth.exceptions.ERROR_CODES`.

Nothing to configure beyond drf-spectacular itself (``DEFAULT_SCHEMA_CLASS``): the app
imports this module in ``AppConfig.ready()`` when drf-spectacular is installed, which
registers the two extensions below. A project's own subclasses of the package's views are
described the same way.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiViewExtension
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status

from .authentication import RedisJWTAuthentication
from .exceptions import AUTHENTICATION_ERRORS, ERROR_CODES, VALIDATION_CODES, ErrorCode
from .serializers import EmailField

__all__ = [
    "DeclaredViewExtension",
    "RedisJWTScheme",
    "error_codes_for",
    "error_schema",
    "success_responses",
]

# Always possible for a JSON body, whatever its fields: not JSON, too big, not a JSON object.
_BODY_CODES = ("malformed_request", "request_too_large", "invalid_input")


class RedisJWTScheme(OpenApiAuthenticationExtension):
    """``Authorization: Bearer <access>`` for :class:`RedisJWTAuthentication` and subclasses
    (ahead of drf-spectacular's own simplejwt scheme, which it would otherwise match)."""

    target_class = "django_redis_auth.authentication.RedisJWTAuthentication"
    match_subclasses = True
    priority = 1
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "The `access` token of a pair from `login/`, `login/verify/`, "
            "`email/verify/` or `token/refresh/`.",
        }


def _entry(code: str, status_code: int) -> ErrorCode:
    for entry in ERROR_CODES[code]:
        if entry.status == status_code:
            return entry
    raise LookupError(f"{code!r} with status {status_code} is not in exceptions.ERROR_CODES")


def _validation_codes(serializer_class: type[serializers.Serializer]) -> set[str]:
    """The codes the error handler can give a body for this serializer (first field error)."""
    codes = set(_BODY_CODES)
    for name, field in serializer_class().fields.items():
        if field.read_only:
            continue
        if field.required:
            codes.add("required")
        if not field.allow_null:
            codes.add("null")
        if isinstance(field, serializers.CharField) and not field.allow_blank:
            codes.add("blank")
        if getattr(field, "max_length", None):
            codes.add("max_length")
        if isinstance(field, serializers.ChoiceField):
            codes.add("invalid_choice")
        if "email" in name:
            codes.add("invalid_email")
        if isinstance(field, EmailField):
            codes.update({"invalid_email", "email_not_allowed"})
    assert codes <= set(VALIDATION_CODES), codes - set(VALIDATION_CODES)
    return codes


def error_codes_for(view_class: type) -> dict[int, list[ErrorCode]]:
    """Every error ``view_class`` can answer with, by status."""
    found: dict[int, dict[str, ErrorCode]] = {}

    def add(code: str, status_code: int) -> None:
        found.setdefault(status_code, {})[code] = _entry(code, status_code)

    serializer_class = getattr(view_class, "serializer_class", None)
    if serializer_class is not None:
        for code in _validation_codes(serializer_class):
            add(code, status.HTTP_400_BAD_REQUEST)
        add("unsupported_media_type", status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
    authenticators = getattr(view_class, "authentication_classes", ())
    if any(issubclass(auth, RedisJWTAuthentication) for auth in authenticators):
        for exc in AUTHENTICATION_ERRORS:
            add(str(exc.default_code), exc.status_code)
    for exc in getattr(view_class, "errors", ()):
        add(str(exc.default_code), exc.status_code)
    return {s: sorted(codes.values(), key=lambda e: e.code) for s, codes in sorted(found.items())}


def error_schema(entries: list[ErrorCode]) -> dict[str, Any]:
    """The ``{"detail", "code"}`` body whose ``code`` is one of ``entries``."""
    properties: dict[str, Any] = {
        "detail": {"type": "string", "description": "A human-readable message."},
        "code": {
            "type": "string",
            "enum": [e.code for e in entries],
            "description": "Stable, machine-readable error code.",
        },
    }
    if entries and entries[0].status == status.HTTP_400_BAD_REQUEST:
        properties["errors"] = {
            "type": "object",
            "description": "Validation errors only: the messages of each invalid field.",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        }
    return {"type": "object", "properties": properties, "required": ["detail", "code"]}


def _describe(entries: list[ErrorCode]) -> str:
    return "\n".join(f"- `{e.code}`: {e.description}" for e in entries)


def success_responses(view_class: type) -> dict[int, Any]:
    """The success statuses of ``view_class`` with their body's serializer (None: no body)."""
    success = view_class.response_serializer_class
    if success is None and view_class.success_status != status.HTTP_204_NO_CONTENT:
        # No separate declaration: the view's own serializer is its answer (``me/``, whose
        # serializer is the USER_SERIALIZER setting), as in DRF's generic views.
        success = view_class().get_serializer_class()
    if isinstance(success, dict):
        return dict(success)
    return {view_class.success_status: success}


def _responses(view_class: type) -> dict[int, Any]:
    responses = success_responses(view_class)
    for status_code, entries in error_codes_for(view_class).items():
        responses[status_code] = OpenApiResponse(
            response=error_schema(entries), description=_describe(entries)
        )
    return responses


class DeclaredViewExtension(OpenApiViewExtension):
    """Describes every view derived from the package's ``BaseAPIView`` from its declarations,
    with whatever ``DEFAULT_SCHEMA_CLASS`` the project uses (through ``extend_schema``)."""

    target_class = "django_redis_auth.views.base.BaseAPIView"
    match_subclasses = True

    def view_replacement(self) -> type:
        view_class = self.target
        kwargs: dict[str, Any] = {"responses": _responses(view_class)}
        if getattr(view_class, "serializer_class", None) is None:
            kwargs["request"] = None
        if status.HTTP_429_TOO_MANY_REQUESTS in kwargs["responses"]:
            kwargs["parameters"] = [
                OpenApiParameter(
                    "Retry-After",
                    int,
                    OpenApiParameter.HEADER,
                    description="Seconds to wait before asking again.",
                    response=[status.HTTP_429_TOO_MANY_REQUESTS],
                )
            ]
        replacement = type(view_class.__name__, (view_class,), {"__doc__": view_class.__doc__})
        return extend_schema(**kwargs)(replacement)
