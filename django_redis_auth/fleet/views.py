"""HTTP for other services: the JWK Set, introspection and forward-auth (thin views over
:mod:`.jwks`, :mod:`.introspection` and :mod:`.forward_auth`)."""

from __future__ import annotations

from typing import Any

from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response

from django_redis_auth.api import AuthenticatedAPIView, JSONBodyParser, PublicAPIView
from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions import AuthUnavailable, RateLimited
from django_redis_auth.fleet import forward_auth, introspection, jwks
from django_redis_auth.fleet.exceptions import IntrospectionNotConfigured, InvalidClient
from django_redis_auth.fleet.serializers import (
    IntrospectionRequestSerializer,
    IntrospectionSerializer,
    JWKSetSerializer,
)

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class JWKSView(PublicAPIView):
    """The public keys that verify this server's tokens, as a JWK Set; cacheable for
    ``JWKS_MAX_AGE`` seconds. Empty with an HMAC algorithm."""

    serializer_class = None
    response_serializer_class = JWKSetSerializer

    def get(self, request: Request) -> Response:
        max_age = int(auth_settings.JWKS_MAX_AGE)
        response = Response(jwks.jwk_set())
        response["Cache-Control"] = f"public, max-age={max_age}"
        return response


class IntrospectView(PublicAPIView):
    """RFC 7662: ``{"active": true, ...claims}`` for a live token, ``{"active": false}``
    for anything else. Callers authenticate with HTTP Basic as a client of
    ``INTROSPECTION_CLIENTS``."""

    parser_classes = (FormParser, JSONBodyParser)
    serializer_class = IntrospectionRequestSerializer
    response_serializer_class = IntrospectionSerializer
    errors = (InvalidClient, IntrospectionNotConfigured, RateLimited, AuthUnavailable)

    def get_authenticate_header(self, request: Any) -> str:
        return 'Basic realm="token introspection"'

    def post(self, request: Request) -> Response:
        client_id = introspection.authenticate_client(request.META.get("HTTP_AUTHORIZATION"))
        answer = introspection.introspect(client_id, self.validated()["token"])
        return Response(answer, headers=_NO_STORE)


class ForwardAuthView(AuthenticatedAPIView):
    """200 with ``X-User-Id`` (and ``FORWARD_AUTH_HEADERS``) for a live bearer access token,
    401 otherwise: for nginx ``auth_request``, Traefik ForwardAuth, Envoy ``ext_authz``."""

    serializer_class = None

    def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        # Envoy's ext_authz sends the client's own method (nginx subrequests may too): every
        # method is the same check, answered as the GET it stands for. The body is ignored.
        if request.method not in ("GET", "HEAD", "OPTIONS"):
            request.method = "GET"
        return super().dispatch(request, *args, **kwargs)

    def get(self, request: Request) -> Response:
        return Response(headers={**forward_auth.headers_for(request.auth), **_NO_STORE})
