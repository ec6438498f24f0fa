"""The social-auth side of Google sign-in, used by :mod:`.social`.

* :class:`GoogleBackend` is social-core's ``GoogleOAuth2`` (same name, ``google-oauth2``, so
  existing ``UserSocialAuth`` rows keep working) with PKCE, whose ``state`` and verifier come
  from the flow record in Redis instead of a server session.
* :class:`GoogleStrategy` is social-django's strategy without a request or a session: the
  services hand it the request values explicitly, and it runs the pipeline directly on the
  backend it is given (no entry in ``AUTHENTICATION_BACKENDS`` needed).
* :func:`verify_id_token` checks ID tokens with google-auth (signature against Google's
  certificates, issuer, expiry, audience) through a transport that caches the certificates
  as long as Google's ``Cache-Control`` allows.
* :func:`translate` turns social-core's and google-auth's exceptions into this package's
  error codes.

Imported only when the ``[google]`` extra is installed (``social.installed()``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import Any

import jwt
import requests
from cachecontrol import CacheControl
from cachecontrol.cache import DictCache
from google.auth import exceptions as google_exceptions
from google.auth.transport import requests as google_requests
from google.oauth2 import id_token as google_id_token
from rest_framework.exceptions import APIException
from social_core.backends.google import GoogleOAuth2
from social_core.backends.oauth import BaseOAuth2PKCE
from social_core.exceptions import (
    AuthAssociationError,
    AuthCanceled,
    AuthConfigurationError,
    AuthPolicyError,
    AuthProviderError,
    AuthResponseError,
    AuthSessionError,
    SocialAuthBaseException,
)
from social_core.utils import constant_time_compare
from social_django.strategy import DjangoStrategy
from social_django.utils import Storage

from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions import (
    AccountExists,
    InvalidSocialToken,
    InvalidState,
    LastSignInMethod,
    ProviderUnavailable,
    SignInNotAllowed,
)
from django_redis_auth.google.pipeline import DEFAULT_PIPELINE

logger = logging.getLogger("django_redis_auth")

TOKENINFO_URL = "https://oauth2.googleapis.com/tokeninfo"
# Seconds of clock difference tolerated on an ID token's iat / exp (phones and Google's
# servers rarely agree to the second).
CLOCK_SKEW = 10
# Extra-data entries that are credentials: never written to the database.
_CREDENTIALS = ("access_token", "refresh_token", "id_token", "token_type", "expires_in")
_UNAVAILABLE = frozenset(
    {"connection_failed", "timeout", "unavailable", "rate_limited", "tls_error"}
)


class GoogleBackend(BaseOAuth2PKCE, GoogleOAuth2):
    """``GoogleOAuth2`` with PKCE (S256), its state and verifier held by the caller.

    ``flow_state`` is the ``state`` of a browser flow (``None`` for an SPA's own code
    exchange, whose state the SPA checked itself); ``code_verifier`` the PKCE verifier.
    """

    DEFAULT_USE_PKCE = True
    PKCE_DEFAULT_CODE_VERIFIER_LENGTH = 64
    # Links are found by Google's stable ``sub`` only. social-core would also look up a link
    # stored under the address (its legacy uid): any Google account claiming that address,
    # verified or not, would then sign in to the account linked to it.
    ID_KEY = "sub"
    LEGACY_ID_KEYS: tuple[str, ...] = ()

    flow_state: str | None = None
    code_verifier: str | None = None

    # --- state and PKCE from the flow record, not a session ---

    def get_or_create_state(self) -> str | None:
        return self.flow_state

    def validate_state(self) -> str | None:
        if self.flow_state is None:
            return None
        request_state = self.get_request_state()
        if not isinstance(request_state, str) or not constant_time_compare(
            request_state, self.flow_state
        ):
            raise AuthSessionError(self, code="state_mismatch", stage="callback")
        return request_state

    def create_code_verifier(self, state: str | None = None) -> str:
        length = self.setting("PKCE_CODE_VERIFIER_LENGTH", self.PKCE_DEFAULT_CODE_VERIFIER_LENGTH)
        self.code_verifier = self.strategy.random_string(int(length))
        return self.code_verifier

    def get_code_verifier(self, state: str | None = None) -> str:
        if not self.code_verifier:
            raise AuthSessionError(
                self, "code_verifier", code="session_context_missing", stage="callback"
            )
        return self.code_verifier

    # --- policy and storage ---

    def validate_email_verified(self, response: Any, *, stage: Any = "user_info") -> None:
        """Deferred to the pipeline (social_pipeline.py), which knows more than this method:
        an unverified Google address may still sign in to the account already linked to
        its Google id, but never links to (409 ``account_exists``) or creates an account."""
        return None

    def extra_data(self, user: Any, uid: str, response: dict, details: dict, pipeline_kwargs: dict):
        """social-core's extra data without Google's tokens: the package signs users in and
        calls no Google API, so it keeps no Google credential in the database."""
        data = super().extra_data(user, uid, response, details, pipeline_kwargs)
        for name in _CREDENTIALS:
            data.pop(name, None)
        return data

    def request(self, url: str, *, timeout: float | None = None, **kwargs: Any) -> Any:
        if timeout is None:
            timeout = (
                self.setting("REQUESTS_TIMEOUT")
                or self.setting("URLOPEN_TIMEOUT")
                or auth_settings.GOOGLE_TIMEOUT
            )
        return super().request(url, timeout=timeout, **kwargs)

    def check_access_token_audience(self, access_token: str, audiences: Iterable[str]) -> None:
        """Refuse an access token Google issued to another app's client.

        The userinfo endpoint answers for any valid token, whoever it was issued to, so a
        token alone would let any app a user ever signed in to sign in here as that user.
        Google's tokeninfo endpoint names the client (``aud``) the token belongs to.
        """
        info = self.get_json(
            TOKENINFO_URL, params={"access_token": access_token}, stage="token_validation"
        )
        if not isinstance(info, dict) or info.get("aud") not in set(audiences):
            raise AuthResponseError(
                self, code="invalid_claim", claim="aud", stage="token_validation"
            )


class GoogleStrategy(DjangoStrategy):
    """social-django's strategy with explicit request data and no session.

    The browser flow's state lives in Redis (social.py), so the session social-core would
    write to is a throwaway dict; ``build_absolute_uri`` gets absolute URLs already.
    """

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        self._data = dict(data or {})
        super().__init__(Storage, request=None)
        self.session = {}

    def get_request_data(self, merge: bool = True) -> dict[str, Any]:
        return self._data

    def build_absolute_uri(self, path: str | None = None) -> str:
        return path or ""

    def get_pipeline(self, backend: Any = None) -> list[str]:
        return list(auth_settings.GOOGLE_PIPELINE or DEFAULT_PIPELINE)

    def clean_authenticate_args(self, *args: Any, **kwargs: Any) -> tuple[tuple, dict]:
        # social-django's expects Django's positional request first; there is none here.
        kwargs.pop("request", None)
        return args, kwargs

    def authenticate(self, backend: Any, **kwargs: Any) -> Any:
        # The backend is known: run its pipeline directly rather than through
        # django.contrib.auth.authenticate, which would need it in AUTHENTICATION_BACKENDS.
        kwargs.pop("request", None)
        kwargs.update(strategy=self, storage=self.storage, backend=backend)
        return backend.run_authentication(**kwargs)


def backend(
    data: dict[str, Any] | None = None, redirect_uri: str | None = None, **attributes: Any
) -> GoogleBackend:
    instance = GoogleBackend(GoogleStrategy(data), redirect_uri=redirect_uri)
    for name, value in attributes.items():
        setattr(instance, name, value)
    return instance


# --- ID tokens --------------------------------------------------------------------------------


class _Transport(google_requests.Request):
    """google-auth's requests transport over a CacheControl session: Google's certificates
    are kept (in this process) as long as their ``Cache-Control: max-age`` says (hours), so a
    sign-in costs no certificate fetch and Google rotating its keys is followed when the
    published lifetime ends. Our timeout replaces google-auth's default of 120 s."""

    def __init__(self) -> None:
        super().__init__(session=CacheControl(requests.Session(), cache=DictCache()))

    def __call__(self, url: str, method: str = "GET", body: Any = None, headers: Any = None,
                 timeout: Any = None, **kwargs: Any) -> Any:  # fmt: skip
        timeout = timeout if timeout is not None else auth_settings.GOOGLE_TIMEOUT
        return super().__call__(url, method, body, headers, timeout=timeout, **kwargs)


_lock = threading.Lock()
_transport: _Transport | None = None


def transport() -> _Transport:
    """One per process, so the certificate cache is shared by every sign-in."""
    global _transport
    with _lock:
        if _transport is None:
            _transport = _Transport()
        return _transport


def reset() -> None:
    """Forget the cached certificates (tests; settings changes)."""
    global _transport
    with _lock:
        _transport = None


def verify_id_token(token: str, audiences: list[str]) -> dict[str, Any]:
    """The claims of a Google-signed ID token issued to one of ``audiences``.

    Raises ``InvalidSocialToken`` (bad signature, expired, wrong issuer or audience,
    malformed) or ``ProviderUnavailable`` (Google's certificates could not be fetched).
    """
    try:
        claims = google_id_token.verify_oauth2_token(
            token, transport(), audience=audiences, clock_skew_in_seconds=CLOCK_SKEW
        )
    except google_exceptions.TransportError as exc:
        logger.warning("Google certificates unavailable: %s", type(exc).__name__)
        raise ProviderUnavailable() from exc
    except (google_exceptions.GoogleAuthError, ValueError, jwt.PyJWTError) as exc:
        # The exception's text may quote the token: log its kind only.
        logger.info("Google ID token refused: %s", type(exc).__name__)
        raise InvalidSocialToken() from exc
    return dict(claims)


# --- errors -----------------------------------------------------------------------------------


def translate(exc: SocialAuthBaseException) -> APIException:
    """The package's error for a social-core failure (never a 500, never an HTML page)."""
    status = exc.status_code or 0
    if isinstance(exc, AuthProviderError) and (exc.code in _UNAVAILABLE or status >= 500):
        logger.warning("Google unavailable (%s, status %s, %s)", exc.code, status, exc.stage)
        return ProviderUnavailable()
    if isinstance(exc, AuthResponseError) and exc.code == "malformed_response":
        logger.warning("Google answered something unreadable (%s)", exc.stage)
        return ProviderUnavailable()
    if isinstance(exc, AuthPolicyError):
        if exc.code == "disconnect_disallowed":
            return LastSignInMethod()
        return SignInNotAllowed()
    if isinstance(exc, AuthAssociationError):
        return AccountExists()
    if isinstance(exc, AuthSessionError):
        return InvalidState()
    if isinstance(exc, AuthConfigurationError) and not status:
        # Our own configuration, not the client's credential: say so in the log, and
        # answer like an outage (the client can do nothing about it).
        logger.error("Google sign-in is misconfigured: %s (%s)", exc.code, exc.parameter)
        return ProviderUnavailable()
    if exc.provider_code in ("invalid_client", "unauthorized_client"):
        logger.error("Google refused this server's client id or secret (%s)", exc.provider_code)
    else:
        logger.info(
            "Google credential refused (%s, %s, %s)", exc.code, exc.provider_code, exc.stage
        )
    if isinstance(exc, AuthCanceled):
        return InvalidSocialToken(detail="Sign-in with Google was cancelled.", code="access_denied")
    return InvalidSocialToken()
