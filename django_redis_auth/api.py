"""Shared view behaviour: JSON only, our error shape, explicit authentication, and bodies
declared as ``serializer_class`` (swappable, and visible to schema generators)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve
from rest_framework.exceptions import NotFound, ParseError
from rest_framework.generics import GenericAPIView
from rest_framework.parsers import JSONParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from django_redis_auth.authentication import RedisJWTAuthentication
from django_redis_auth.exceptions import exception_handler


class JSONBodyParser(JSONParser):
    """DRF's JSON parser, plus: a body nested deeper than the JSON decoder can recurse
    (``[[[[…`` of a few hundred KB) is a 400 ``malformed_request``, not a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None


class BaseAPIView(GenericAPIView):
    """Our endpoints answer JSON and use our error shape whatever the project's DRF
    defaults are (a reusable app must not depend on the global EXCEPTION_HANDLER).

    A view declares ``serializer_class`` for its request body, parses it with
    :meth:`validated`, makes one service call and answers."""

    parser_classes = (JSONBodyParser,)
    renderer_classes = (JSONRenderer,)
    throttle_classes = ()

    # Declarations read by the OpenAPI schema (django_redis_auth.schema): the success body
    # (a serializer, or {status: serializer or None} when there are several; None: the
    # view's own serializer, or no body with 204), its status, and the exception classes the
    # view can raise (validation and authentication errors are added from serializer_class
    # and the authentication classes).
    response_serializer_class: Any = None
    success_status: int = 200
    errors: tuple[type[Exception], ...] = ()

    def get_exception_handler(self) -> Any:
        return exception_handler

    def validated(self) -> dict[str, Any]:
        """The request body, validated by ``get_serializer()`` (400 if it is not valid)."""
        serializer = self.get_serializer(data=self.request.data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data


def accepted(detail: object) -> Response:
    """The 202 ``{"detail": ...}`` of a request whose effect (usually a mail) follows."""
    return Response({"detail": str(detail)}, status=202)


class PublicAPIView(BaseAPIView):
    # No authentication: a stale bearer token must not block signing in.
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get_authenticate_header(self, request: Any) -> str:
        # Without it DRF turns every 401 of an unauthenticated view into a 403.
        return 'Bearer realm="api"'


class AuthenticatedAPIView(BaseAPIView):
    authentication_classes = (RedisJWTAuthentication,)
    permission_classes = (IsAuthenticated,)


def not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """A path under the package's mount that is no endpoint: JSON, as every other answer
    (a project's ``handler404`` is HTML by default, and Django's debug 404 page always)."""
    exc = NotFound()
    return JsonResponse({"detail": str(exc.detail), "code": exc.default_code}, status=404)


def without_slash(request: HttpRequest, path: str) -> HttpResponse:
    """``login`` answered as ``login/``: the request goes to that view as it is, method and
    body included, instead of a redirect that a client may follow with a GET."""
    try:
        match = resolve(f"{request.path_info}/", getattr(request, "urlconf", None))
    except Resolver404:
        return not_found(request)
    if match.func in (without_slash, not_found):
        return not_found(request)
    request.resolver_match = match
    return match.func(request, *match.args, **match.kwargs)
