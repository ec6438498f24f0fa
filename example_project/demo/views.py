"""The demo page at ``/`` and the JSON index of the API at ``/api/``."""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

from .management.commands.demo_user import DEMO_ACCOUNTS, DEMO_PASSWORD

NAMESPACE = "django_redis_auth"
_PARAMETER = re.compile(r"<(?:\w+:)?(\w+)>")


def _mount() -> tuple[str, list[Any]]:
    """Where the project includes the package's URLconf, and its patterns."""
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver) and entry.namespace == NAMESPACE:
            return "/" + str(entry.pattern), entry.url_patterns
    raise LookupError(f"the {NAMESPACE} URLconf is not included")


def _methods(callback: Any) -> list[str]:
    view = getattr(callback, "view_class", None) or getattr(callback, "cls", None)
    if view is None:
        return ["GET"]
    return [
        method.upper()
        for method in view.http_method_names
        if method not in {"options", "head"} and hasattr(view, method)
    ]


def _summary(callback: Any) -> str:
    view = getattr(callback, "view_class", None) or callback
    doc = (view.__doc__ or "").strip()
    return " ".join(doc.split("\n\n")[0].split())


def endpoints() -> list[dict[str, Any]]:
    """Every route of the package as mounted here, read from its URLconf, so endpoints
    added to the package appear without editing this file."""
    root, patterns = _mount()
    found = []
    for pattern in patterns:
        if not isinstance(pattern, URLPattern):
            continue
        methods = _methods(pattern.callback)
        found.append(
            {
                "path": root + _PARAMETER.sub(r"{\1}", str(pattern.pattern)),
                "name": pattern.name,
                "method": ", ".join(methods),
                "methods": methods,
                "description": _summary(pattern.callback),
            }
        )
    return found


def _optional(name: str) -> str | None:
    """The URL of an optional route of this project (the OpenAPI pages), if it has one."""
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def api_index(request: HttpRequest) -> JsonResponse:
    links = {"demo": reverse("index"), "admin": reverse("admin:index")}
    for key, name in (("schema", "schema"), ("docs", "swagger-ui")):
        if url := _optional(name):
            links[key] = url
    if settings.DEBUG:
        links["mailbox"] = reverse("dev-mailbox")
        links["mailbox_json"] = reverse("dev-mailbox-json")
        links["redis_keys"] = reverse("dev-redis-keys")
    return JsonResponse(
        {"name": "django-redis-auth example project", "endpoints": endpoints(), "links": links},
        json_dumps_params={"ensure_ascii": False, "indent": 2},
    )


def index(request: HttpRequest) -> HttpResponse:
    """The demo page: plain HTML and a little JavaScript over the real API."""
    api, _patterns = _mount()
    google = bool(
        settings.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY and settings.SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET
    )
    config = {
        "api": api,
        "mailbox": reverse("dev-mailbox-json") if settings.DEBUG else None,
        "redis_keys": reverse("dev-redis-keys") if settings.DEBUG else None,
        "google": google,
        # The demo accounts exist only with DEBUG on (``manage.py demo_user`` refuses otherwise).
        "accounts": DEMO_ACCOUNTS if settings.DEBUG else [],
        "demo_password": DEMO_PASSWORD if settings.DEBUG else "",
        "passkeyRpId": settings.DJANGO_REDIS_AUTH.get("PASSKEY_RP_ID", "localhost"),
    }
    links = {
        "api": reverse("api-index"),
        "docs": _optional("swagger-ui"),
        "admin": reverse("admin:index"),
        "mailbox": reverse("dev-mailbox") if settings.DEBUG else None,
        "google_start": f"{api}google/start/?next=/",
    }
    return render(request, "demo/index.html", {"config": config, "links": links})


# Errors outside any DRF view (an unknown path, a crash in middleware) answer in the API's
# shape too: {"detail", "code"}, never Django's HTML page (settings' DEBUG=0 uses these).
def not_found(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Not found.", "code": "not_found"}, status=404)


def server_error(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"detail": "Server error.", "code": "server_error"}, status=500)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Bad request.", "code": "bad_request"}, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> JsonResponse:
    return JsonResponse({"detail": "Forbidden.", "code": "permission_denied"}, status=403)
