"""Development pages: the mailbox and the signed-in user's Redis keys. ``DEBUG`` only.

Both answer 404 with ``DEBUG`` off, checked on every request (not when the URLconf loads),
so one settings change is enough to close them and nothing about them leaks in production.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from django_redis_auth.authentication import RedisJWTAuthentication
from django_redis_auth.codes import senders
from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions import exception_handler

from . import mailbox, redis_keys

MAX_LIMIT = 100


def debug_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.DEBUG:
            raise Http404("development pages are off (DEBUG is off)")
        return view(request, *args, **kwargs)

    return wrapper


def _backend() -> str:
    """The email backend the package sends through: the MAILER alias of Django 6.1's
    MAILERS when the project defines it, else EMAIL_BACKEND."""
    if senders.uses_mailers():
        config = settings.MAILERS.get(auth_settings.MAILER, {})
        return str(config.get("BACKEND", "django.core.mail.backends.smtp.EmailBackend"))
    return str(settings.EMAIL_BACKEND)


def _using_mailbox() -> bool:
    return _backend() == "demo.mailbox.MailboxBackend"


@debug_only
def mailbox_page(request: HttpRequest) -> HttpResponse:
    """The emails the demo sent, newest first, with their codes."""
    return render(
        request,
        "demo/mailbox.html",
        {
            "messages": mailbox.messages(),
            "size": mailbox.size(),
            "using_mailbox": _using_mailbox(),
            "backend": _backend(),
        },
    )


@debug_only
def mailbox_json(request: HttpRequest) -> JsonResponse:
    """The same as JSON, for the demo page: ``?after=<id>`` keeps only newer messages,
    ``?limit=N`` the N newest."""
    try:
        limit = min(int(request.GET.get("limit", MAX_LIMIT)), MAX_LIMIT)
    except ValueError:
        limit = MAX_LIMIT
    after = request.GET.get("after") or None
    return JsonResponse(
        {"messages": mailbox.messages(after=after, limit=max(limit, 1))},
        headers={"Cache-Control": "no-store"},
    )


class RedisKeysView(APIView):
    """The signed-in user's Redis keys with their TTLs (names only, never values)."""

    authentication_classes = (RedisJWTAuthentication,)
    permission_classes = (IsAuthenticated,)
    renderer_classes = (JSONRenderer,)
    schema = None  # a development page, not part of the API: kept out of /api/schema/

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        if not settings.DEBUG:  # before authentication: nothing to learn with DEBUG off
            raise Http404("development pages are off (DEBUG is off)")
        super().initial(request, *args, **kwargs)

    def get_exception_handler(self) -> Any:
        return exception_handler

    def get(self, request: Request) -> Response:
        return Response(redis_keys.keys_of(request.user), headers={"Cache-Control": "no-store"})
