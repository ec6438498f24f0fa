"""OpenAPI 3 for the package's endpoints, through drf-spectacular (the ``[openapi]`` extra).

The schema is built from what each view *declares*, so it cannot drift from the code that
answers: ``serializer_class`` (the request body; ``query_serializer_class`` for a GET's
query string), ``response_serializer_class`` and
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

from types import SimpleNamespace
from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiViewExtension
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import serializers, status

from django_redis_auth.authentication import RedisJWTAuthentication
from django_redis_auth.exceptions import (
    AUTHENTICATION_ERRORS,
    ERROR_CODES,
    VALIDATION_CODES,
    DatabaseUnavailable,
    ErrorCode,
)
from django_redis_auth.serializers import EmailField

__all__ = [
    "AsyncRedisJWTScheme",
    "DeclaredViewExtension",
    "RedisJWTScheme",
    "declared",
    "error_codes_for",
    "error_schema",
    "methods_of",
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


class AsyncRedisJWTScheme(RedisJWTScheme):
    """The same bearer scheme for the async class (adrf views), under its own name: one
    schema may describe views of both kinds, and a name stands for one class."""

    target_class = "django_redis_auth.async_auth.AsyncRedisJWTAuthentication"
    priority = 2
    name = "bearerAuthAsync"


def _entry(code: str, status_code: int) -> ErrorCode:
    for entry in ERROR_CODES[code]:
        if entry.status == status_code:
            return entry
    raise LookupError(f"{code!r} with status {status_code} is not in exceptions.ERROR_CODES")


_BODY_METHODS = frozenset({"post", "put", "patch"})

# Operations grouped by the package module their view lives in (a project's own subclass
# elsewhere keeps drf-spectacular's default tag).
_TAGS = {
    "django_redis_auth.accounts.views": "sign-up, sign-in, codes and account",
    "django_redis_auth.tokens.views": "tokens and sessions",
    "django_redis_auth.google.views": "Google sign-in",
    "django_redis_auth.fleet.views": "other services",
}


def declared(view_class: type, name: str, method: str) -> Any:
    """A view's declaration for one HTTP method: ``<method>_<name>`` (``delete_errors``)
    where a view answers methods differently, else ``<name>``."""
    return getattr(view_class, f"{method.lower()}_{name}", getattr(view_class, name, None))


def _validation_codes(serializer_class: type[serializers.Serializer], method: str) -> set[str]:
    """The codes the error handler can give this serializer's input (its first field error):
    the body of a POST, or the query string of a GET (never null, never unparsable)."""
    body = method.lower() in _BODY_METHODS
    codes = set(_BODY_CODES) if body else set()
    for name, field in serializer_class().fields.items():
        if field.read_only:
            continue
        if field.required:
            codes.add("required")
        if body and not field.allow_null:
            codes.add("null")
        if isinstance(field, serializers.CharField) and not field.allow_blank:
            codes.add("blank")
        if getattr(field, "max_length", None):
            codes.add("max_length")
        if getattr(field, "min_length", None):
            codes.add("invalid_input")  # DRF's min_length is not registered: invalid_input
        if isinstance(field, serializers.ChoiceField):
            codes.add("invalid_choice")
        if "email" in name:
            codes.add("invalid_email")
        if isinstance(field, EmailField):
            codes.update({"invalid_email", "email_not_allowed"})
    codes.update(getattr(serializer_class, "validation_codes", ()))  # its validate()'s
    assert codes <= set(VALIDATION_CODES), codes - set(VALIDATION_CODES)
    return codes


def body_serializer(view_class: type) -> Any:
    """The serializer class of the view's request body (``get_serializer_class()``, which
    may come from a setting such as USER_SERIALIZER), or None."""
    try:
        return view_class().get_serializer_class()
    except AssertionError:  # GenericAPIView without serializer_class
        return None


def _input_serializer(view_class: type, method: str) -> Any:
    """What a ``method`` request carries: the body's serializer (POST, PUT, PATCH), the
    declared ``query_serializer_class`` (GET), or nothing (DELETE)."""
    if method.lower() in _BODY_METHODS:
        return body_serializer(view_class)
    if method.lower() == "get":
        return getattr(view_class, "query_serializer_class", None)
    return None


def _authenticators(view_class: type, method: str) -> list[type]:
    """The authentication classes the view uses for ``method`` (some choose per method)."""
    view = view_class()
    view.request, view.args, view.kwargs = SimpleNamespace(method=method.upper()), (), {}
    return [type(auth) for auth in view.get_authenticators()]


def error_codes_for(view_class: type, method: str = "post") -> dict[int, list[ErrorCode]]:
    """Every error ``view_class`` can answer ``method`` with, by status."""
    found: dict[int, dict[str, ErrorCode]] = {}

    def add(code: str, status_code: int) -> None:
        found.setdefault(status_code, {})[code] = _entry(code, status_code)

    # Any package view may need the database (a user outside the user cache, say): the
    # handler turns its outage into 503 database_unavailable everywhere (outages.py).
    add(str(DatabaseUnavailable.default_code), DatabaseUnavailable.status_code)
    serializer_class = _input_serializer(view_class, method)
    if serializer_class is not None:
        for code in _validation_codes(serializer_class, method):
            add(code, status.HTTP_400_BAD_REQUEST)
        if method.lower() in _BODY_METHODS:
            add("unsupported_media_type", status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
    if any(
        issubclass(auth, RedisJWTAuthentication) for auth in _authenticators(view_class, method)
    ):
        for exc in AUTHENTICATION_ERRORS:
            add(str(exc.default_code), exc.status_code)
    for error in declared(view_class, "errors", method) or ():
        if isinstance(error, ErrorCode):  # a class raised with a code other than its own
            add(error.code, error.status)
        else:
            add(str(error.default_code), error.status_code)
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


def success_responses(view_class: type, method: str = "post") -> dict[int, Any]:
    """The success statuses of ``method`` with their body's serializer (None: no body)."""
    success = declared(view_class, "response_serializer_class", method)
    success_status = declared(view_class, "success_status", method)
    if success is None and success_status < 300 and success_status != 204:
        # No separate declaration: the view's own serializer is its answer (``me/``, whose
        # serializer is the USER_SERIALIZER setting), as in DRF's generic views.
        success = body_serializer(view_class)
    if isinstance(success, dict):
        return dict(success)
    return {success_status: success}


def _operation(view_class: type, method: str) -> Any:
    responses: dict[int, Any] = success_responses(view_class, method)
    for status_code in responses:
        if 300 <= status_code < 400:
            responses[status_code] = OpenApiResponse(description="Redirect (see `Location`).")
    for status_code, entries in error_codes_for(view_class, method).items():
        responses[status_code] = OpenApiResponse(
            response=error_schema(entries), description=_describe(entries)
        )
    kwargs: dict[str, Any] = {"responses": responses, "parameters": []}
    if view_class.__module__ in _TAGS:
        kwargs["tags"] = [_TAGS[view_class.__module__]]
    if method in _BODY_METHODS:
        if body_serializer(view_class) is None:
            kwargs["request"] = None
    else:
        kwargs["request"] = None
        query = _input_serializer(view_class, method)
        if query is not None:
            kwargs["parameters"].append(query)
    if status.HTTP_429_TOO_MANY_REQUESTS in responses:
        kwargs["parameters"].append(
            OpenApiParameter(
                "Retry-After",
                int,
                OpenApiParameter.HEADER,
                description="Seconds to wait before asking again.",
                response=[status.HTTP_429_TOO_MANY_REQUESTS],
            )
        )
    return extend_schema(**kwargs)


def methods_of(view_class: type) -> list[str]:
    """The HTTP methods the view answers (as DRF dispatches them), lower case."""
    return [
        m
        for m in view_class.http_method_names
        if m not in {"options", "head"} and hasattr(view_class, m)
    ]


class DeclaredViewExtension(OpenApiViewExtension):
    """Describes every view derived from the package's ``BaseAPIView`` from its declarations,
    with whatever ``DEFAULT_SCHEMA_CLASS`` the project uses (through ``extend_schema``)."""

    target_class = "django_redis_auth.api.BaseAPIView"
    match_subclasses = True

    def view_replacement(self) -> type:
        view_class = self.target
        replacement = type(view_class.__name__, (view_class,), {"__doc__": view_class.__doc__})
        operations = {method: _operation(view_class, method) for method in methods_of(view_class)}
        return extend_schema_view(**operations)(replacement)
