"""The DRF exception handler: every error leaves as ``{"detail": "...", "code": "..."}``;
validation errors add ``"errors": {field: [...]}``."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.response import Response

from django_redis_auth.exceptions.base import AuthUnavailable, DatabaseUnavailable
from django_redis_auth.exceptions.registry import PASSED_THROUGH


def _first_code(detail: Any) -> str:
    if isinstance(detail, exceptions.ErrorDetail):
        return detail.code or "invalid"
    if isinstance(detail, dict):
        for value in detail.values():
            return _first_code(value)
    if isinstance(detail, list) and detail:
        return _first_code(detail[0])
    return "invalid"


def _flatten(detail: Any) -> Any:
    if isinstance(detail, dict):
        return {k: _flatten(v) for k, v in detail.items()}
    if isinstance(detail, list):
        return [_flatten(v) for v in detail]
    return str(detail)


def _database_unavailable(exc: Exception) -> DatabaseUnavailable:
    """A database connection error as a 503, logged once per outage. Recovery is noticed
    when Django next opens a connection (``outages.database_connected``)."""
    from django_redis_auth import outages

    outages.database.failed(outages.describe(exc), consequence="; answering 503")
    return DatabaseUnavailable()


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF exception handler giving every error the ``{"detail", "code"}`` shape."""
    # Imported here: rest_framework.views imports the authentication classes, which import us.
    from rest_framework.views import exception_handler as drf_exception_handler

    if isinstance(exc, RequestDataTooBig):
        exc = exceptions.ValidationError(_("Request body too large."), code="request_too_large")
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, OperationalError | InterfaceError):
        exc = _database_unavailable(exc)
    response = drf_exception_handler(exc, context)
    if response is None or not isinstance(exc, exceptions.APIException):
        return response
    if isinstance(exc, AuthUnavailable | DatabaseUnavailable):
        # The outage is logged once (outages.py); without this Django would log every one of
        # these answers at ERROR on "django.request" (and mail them to ADMINS).
        response._has_been_logged = True
    response.data = error_body(exc)
    return response


def error_body(exc: exceptions.APIException) -> dict[str, Any]:
    """The JSON body of ``exc``: ``{"detail", "code"}`` (validation errors add ``errors``).

    The one mapping from an exception to its code: :func:`exception_handler` answers it and
    :func:`detail_and_code` (integrations that render errors themselves) reads it, so the
    two can never give one exception two codes."""
    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError) and isinstance(detail, dict):
        field = next(iter(detail), "")
        code = _first_code(detail)
        if code not in PASSED_THROUGH:
            code = "invalid_email" if "email" in field else "invalid_input"
        return {"detail": str(_("Invalid input.")), "code": code, "errors": _flatten(detail)}
    if isinstance(exc, exceptions.ParseError):
        return {"detail": str(detail), "code": "malformed_request"}
    if isinstance(detail, list):
        detail = detail[0] if detail else exc.default_detail
    elif isinstance(detail, dict):
        detail = detail.get("detail", exc.default_detail)
    code = _first_code(exc.detail)
    if isinstance(exc.detail, dict) and "code" in exc.detail:
        # simplejwt's errors carry their code beside the detail (whose own code is generic).
        code = str(exc.detail["code"])
    # What a client needs to act on the error (reauthentication_required's ``methods``).
    extra = getattr(exc, "extra_body", None) or {}
    return {"detail": str(detail), "code": code, **extra}


def detail_and_code(exc: exceptions.APIException) -> tuple[str, str]:
    """The ``detail`` and ``code`` :func:`exception_handler` would render for ``exc``
    (for integrations that render errors themselves, such as ``ninja_auth``)."""
    body = error_body(exc)
    return body["detail"], body["code"]
