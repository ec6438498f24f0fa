"""DRF permissions over *how* and *when* the user behind a token signed in.

They read the token's ``amr`` / ``auth_time`` claims (tokens/claims.py), which every pair of
this package carries and refreshing keeps, so a permission costs no round trip on a request
that passes. Only a ``RecentAuthentication`` whose sign-in is too old looks further, for
the session's ``reauth/`` mark (one Redis GET, on that refusal path only)::

    from django_redis_auth.permissions import MultiFactorRequired, RecentAuthentication

    class PayoutView(APIView):
        permission_classes = [IsAuthenticated, MultiFactorRequired, RecentAuthentication(600)]

Both work as classes (``[RecentAuthentication]`` uses ``REAUTH_WINDOW``) and as configured
instances, and compose with DRF's ``&`` / ``|``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.permissions import BasePermission

from django_redis_auth.tokens import claims

__all__ = ["MultiFactorRequired", "MultiFactorRequiredError", "RecentAuthentication"]


class MultiFactorRequiredError(exceptions.APIException):
    """The session did not pass two factors (its ``amr`` lacks ``mfa``). The emailed
    step-up never counts (an inbox is not an authenticator)."""

    status_code = status.HTTP_403_FORBIDDEN
    default_detail = _("This needs a sign-in with two factors (an authenticator or a passkey).")
    default_code = "multi_factor_required"


class _Configurable(BasePermission):
    """DRF instantiates what ``permission_classes`` lists; an instance configured in the
    list is handed back as is."""

    def __call__(self) -> _Configurable:
        return self


class MultiFactorRequired(_Configurable):
    """The token's session passed two factors (``"mfa"`` in ``amr``)."""

    def has_permission(self, request: Any, view: Any) -> bool:
        token = getattr(request, "auth", None)
        if token is None:
            return False  # not authenticated: DRF answers 401 through the authenticator
        if claims.Amr.MULTI_FACTOR not in claims.amr_of(token):
            raise MultiFactorRequiredError()
        return True


class RecentAuthentication(_Configurable):
    """The user proved who they are within ``max_age`` seconds (default ``REAUTH_WINDOW``):
    signed in (``auth_time``), or passed ``reauth/`` in this session. Otherwise 403
    ``reauthentication_required`` with the ``methods`` ``reauth/`` takes."""

    def __init__(self, max_age: int | None = None) -> None:
        self.max_age = max_age

    def has_permission(self, request: Any, view: Any) -> bool:
        token = getattr(request, "auth", None)
        if token is None:
            return False
        from django_redis_auth.conf import auth_settings
        from django_redis_auth.mfa import reauth

        max_age = int(auth_settings.REAUTH_WINDOW if self.max_age is None else self.max_age)
        if reauth.proof_of(token, max_age=max_age) is not None:
            return True
        raise reauth.ReauthenticationRequired(reauth.methods_for(request.user))


DESCRIPTIONS: dict[type[exceptions.APIException], str] = {
    MultiFactorRequiredError: "A view guarded by `permissions.MultiFactorRequired`: the "
    "session did not pass two factors (`mfa` not in its `amr`); sign in with an "
    "authenticator or a passkey.",
}
