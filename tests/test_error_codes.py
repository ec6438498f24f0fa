"""One mapping from an exception to its ``{"detail", "code"}``: what a DRF view answers for
an error (``exception_handler``) is what :func:`detail_and_code` says for it (the ninja
bearers), for every class in the registry and every error simplejwt raises for us."""

from __future__ import annotations

import pytest
from rest_framework import exceptions
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView
from rest_framework_simplejwt import exceptions as simplejwt_exceptions

from django_redis_auth.authentication import RedisJWTAuthentication
from django_redis_auth.exceptions import (
    PasswordInvalid,
    RateLimited,
    detail_and_code,
    exception_handler,
    registry,
)


def _instance(cls: type[exceptions.APIException]) -> exceptions.APIException:
    if issubclass(cls, RateLimited):
        return cls(3)
    if issubclass(cls, PasswordInvalid):
        return cls(["Too short."])
    if issubclass(cls, exceptions.UnsupportedMediaType):
        return cls("text/plain")
    return cls()


# Every class the registry lists, plus the errors simplejwt raises inside our
# authentication (their code sits beside the detail, not on it) and the classes the package
# raises with another code.
RAISED = [_instance(cls) for cls in registry._descriptions()] + [
    simplejwt_exceptions.AuthenticationFailed(
        "Authorization header must contain two space-delimited values",
        code="bad_authorization_header",
    ),
    simplejwt_exceptions.AuthenticationFailed("User is inactive", code="user_inactive"),
    simplejwt_exceptions.InvalidToken({"detail": "Given token not valid", "messages": []}),
    exceptions.AuthenticationFailed("Sign-in with Google was cancelled.", code="access_denied"),
    exceptions.ValidationError({"email": ["Enter a valid email address."]}, code="invalid"),
    exceptions.ParseError(),
]


class _Raising(APIView):
    """Raises ``exc`` as a package view would: our handler, our authentication (whose
    ``WWW-Authenticate`` keeps a 401 a 401)."""

    authentication_classes = [RedisJWTAuthentication]
    permission_classes: list = []
    exc: exceptions.APIException | None = None

    def get_exception_handler(self):
        return exception_handler

    def get(self, request):
        raise self.exc


@pytest.mark.parametrize("exc", RAISED, ids=lambda e: f"{type(e).__name__}")
def test_a_view_and_detail_and_code_give_one_code(exc):
    status, expected = exc.status_code, detail_and_code(exc)
    response = _Raising.as_view(exc=exc)(APIRequestFactory().get("/"))
    assert response.status_code == status
    assert (response.data["detail"], response.data["code"]) == expected


@pytest.mark.parametrize("exc", RAISED, ids=lambda e: f"{type(e).__name__}")
def test_every_code_answered_is_in_the_registry(exc):
    _, code = detail_and_code(exc)
    assert exc.status_code in {entry.status for entry in registry.ERROR_CODES[code]}


def test_a_bad_authorization_header_is_one_code_everywhere():
    exc = simplejwt_exceptions.AuthenticationFailed("two values", code="bad_authorization_header")
    assert detail_and_code(exc)[1] == "bad_authorization_header"
