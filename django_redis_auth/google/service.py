"""Google sign-in for web, single-page and mobile apps (docs/google.md).

Every way in ends where password login ends: :func:`tokens.issue_token_pair` (so logout,
logout-all, rotation and reuse detection apply unchanged), or the same 202 second-factor
challenge as ``login/`` when the user's second-factor policy applies (unless
``GOOGLE_SATISFIES_SECOND_FACTOR``).

* :func:`sign_in_with_id_token` — an ID token from Google Identity Services, One Tap, Android
  or iOS: checked by google-auth (signature against Google's cached certificates, issuer,
  expiry, and an audience among the configured client ids).
* :func:`sign_in_with_access_token` — an access token: tokeninfo must name one of our
  client ids, then social-core's ``do_auth`` reads the user info.
* :func:`sign_in_with_code` — an SPA's own authorization code + PKCE verifier, exchanged by
  social-core's ``auth_complete`` with our client secret.
* :func:`start_browser_sign_in` / :func:`finish_browser_sign_in` / :func:`exchange` — the
  redirect flow without a server session: ``state`` and the PKCE verifier wait in Redis
  (10 minutes, taken once with GETDEL) bound to a cookie of the browser that started, and
  the callback sends the browser back to an allow-listed ``next`` with a one-time exchange
  code (60 seconds, single use, stored under its keyed digest) in the URL fragment.

Accounts are found, linked and created by social-core's pipeline with this package's rules
(social_pipeline.py), in one transaction with the Redis write that follows (the session, the
exchange code or the challenge's code), Redis last: if Redis refuses, no account or link is
left behind. The HTTP requests to Google inside it come before the first query, so no
database transaction waits on Google. Google's HTTP and verification are social-core's and
google-auth's (social_backend.py); nothing here parses a token. Services never read the
request: views pass the values (client, callback URL, cookie).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from hmac import compare_digest
from importlib import import_module
from typing import Any
from urllib.parse import unquote, urlencode, urlsplit

from django.apps import apps
from django.conf import settings
from django.utils.crypto import salted_hmac
from rest_framework.exceptions import APIException

from django_redis_auth import keys, signals, store
from django_redis_auth.accounts import flows, users, users_cache
from django_redis_auth.clients import Client
from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions import (
    InvalidCode,
    InvalidCredentials,
    InvalidState,
    NotLinked,
    ProviderNotConfigured,
    RedirectNotAllowed,
)
from django_redis_auth.google.pipeline import DEFAULT_PIPELINE
from django_redis_auth.mfa import factors
from django_redis_auth.tokens import issuing as tokens
from django_redis_auth.tokens.claims import Amr

__all__ = [
    "DEFAULT_PIPELINE",
    "PROVIDER",
    "BrowserStart",
    "configured",
    "exchange",
    "finish_browser_sign_in",
    "installed",
    "is_allowed_redirect",
    "is_linked",
    "sign_in_with_access_token",
    "sign_in_with_code",
    "sign_in_with_id_token",
    "start_browser_sign_in",
    "unlink",
]

PROVIDER = "google-oauth2"
STATE_TTL = 600  # seconds a started browser sign-in may take
EXCHANGE_TTL = 60  # seconds an exchange code lives
STATE_MAX = 128
URL_MAX = 2048
BINDING_SALT = "django_redis_auth.google_browser"

# What the [google] extra installs.
EXTRA_MODULES = ("social_core", "social_django", "google.oauth2.id_token")

SignIn = tokens.TokenPair | flows.Challenge


# --- configuration ----------------------------------------------------------------------------


def installed() -> bool:
    """Whether the ``[google]`` extra (social-auth-app-django, google-auth) is importable."""
    for name in EXTRA_MODULES:
        try:
            import_module(name)
        except ImportError:
            return False
    return True


def client_id() -> str:
    """The web client's id: social-auth's ``SOCIAL_AUTH_GOOGLE_OAUTH2_KEY``."""
    return str(getattr(settings, "SOCIAL_AUTH_GOOGLE_OAUTH2_KEY", "") or "")


def client_secret() -> str:
    return str(getattr(settings, "SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET", "") or "")


def audiences() -> list[str]:
    """Client ids an ID token may be issued to: the web client and GOOGLE_EXTRA_AUDIENCES."""
    ids = [client_id(), *auth_settings.GOOGLE_EXTRA_AUDIENCES]
    return list(dict.fromkeys(str(i) for i in ids if i))


def configured(*, secret: bool = False) -> bool:
    """Google sign-in is on: the extra is installed, ``social_django`` is an installed app
    and there is a client id (and, with ``secret``, the web client's id and secret, which
    the code flows need)."""
    if not audiences() or not installed() or not apps.is_installed("social_django"):
        return False
    return not secret or bool(client_id() and client_secret())


def _require(*, secret: bool = False) -> Any:
    """The backend module, or 404 ``provider_not_configured``."""
    if not configured(secret=secret):
        raise ProviderNotConfigured()
    from django_redis_auth.google import backend as social_backend

    return social_backend


@contextmanager
def _google(backend_module: Any) -> Iterator[None]:
    """social-core's failures as this package's errors (401, 503, 409 ...)."""
    from social_core.exceptions import SocialAuthBaseException

    try:
        yield
    except SocialAuthBaseException as exc:
        raise backend_module.translate(exc) from exc


def _finish(user: Any, client: Client) -> SignIn:
    """Google vouched for ``user``: the token pair, or the second-factor challenge."""
    if user is None or not hasattr(user, "pk") or not users.is_active(user):
        raise InvalidCredentials()
    # GOOGLE_SATISFIES_SECOND_FACTOR stands in for the emailed code only: an enrolled
    # authenticator app is asked for after Google too (docs/mfa.md).
    found = factors.of(user)
    methods = factors.second_step_methods(user, found=found)
    if methods and (found.strong or not auth_settings.GOOGLE_SATISFIES_SECOND_FACTOR):
        return flows.second_step(user, client, methods, first=[Amr.GOOGLE])
    return tokens.issue_token_pair(user, client, amr=[Amr.GOOGLE], method="google")


# --- API sign-in (mobile, Google Identity Services, SPA) ----------------------------------------


def sign_in_with_id_token(id_token: str, client: Client) -> SignIn:
    sb = _require()
    claims = sb.verify_id_token(id_token, audiences())
    backend = sb.backend()
    with users.atomic():
        with _google(sb):
            user = backend.strategy.authenticate(backend, response=claims)
        return _finish(user, client)


def sign_in_with_access_token(access_token: str, client: Client) -> SignIn:
    sb = _require()
    backend = sb.backend()
    with _google(sb):
        backend.check_access_token_audience(access_token, audiences())
    with users.atomic():
        with _google(sb):
            user = backend.do_auth(access_token)
        return _finish(user, client)


def sign_in_with_code(code: str, code_verifier: str, redirect_uri: str, client: Client) -> SignIn:
    """An SPA ran the authorization request (with its own ``state`` and PKCE) and got
    ``code`` at ``redirect_uri``, which must be allow-listed (GOOGLE_REDIRECT_ALLOWED)."""
    sb = _require(secret=True)
    if not is_allowed_redirect(redirect_uri):
        raise RedirectNotAllowed()
    backend = sb.backend({"code": code}, redirect_uri=redirect_uri, code_verifier=code_verifier)
    with users.atomic():
        with _google(sb):
            user = backend.auth_complete()
        return _finish(user, client)


# --- the browser flow -------------------------------------------------------------------------


@dataclass(frozen=True)
class BrowserStart:
    """Where to send the browser (Google's consent page), and the value of the cookie
    that binds this sign-in to that browser."""

    url: str
    binding: str


def _binding_digest(binding: str) -> str:
    return salted_hmac(BINDING_SALT, binding, algorithm="sha256").hexdigest()


def start_browser_sign_in(next_url: str, callback_url: str) -> BrowserStart:
    """Store a new ``state`` with its PKCE verifier, ``next`` and the browser binding for
    ``STATE_TTL`` seconds and return Google's authorization URL.

    Raises ``RedirectNotAllowed`` (400) for a ``next`` outside GOOGLE_REDIRECT_ALLOWED.
    """
    sb = _require(secret=True)
    if not is_allowed_redirect(next_url):
        raise RedirectNotAllowed()
    state = secrets.token_urlsafe(32)
    binding = secrets.token_urlsafe(32)
    backend = sb.backend(redirect_uri=callback_url, flow_state=state)
    with _google(sb):
        url = backend.auth_url()
    record = {
        "v": backend.code_verifier,
        "n": next_url,
        "r": callback_url,
        "b": _binding_digest(binding),
    }
    with store.guard():
        store.get_client().set(keys.google_state(state), json.dumps(record), ex=STATE_TTL)
    return BrowserStart(url=url, binding=binding)


def _take_state(state: Any, binding: str | None) -> dict[str, Any]:
    """The flow record of ``state``, taken (GETDEL: a second callback finds nothing)."""
    if not isinstance(state, str) or not state or len(state) > STATE_MAX:
        raise InvalidState()
    with store.guard():
        raw = store.get_client().getdel(keys.google_state(state))
    try:
        record = json.loads(raw) if raw is not None else None
    except ValueError:
        record = None
    if not isinstance(record, dict) or not all(
        isinstance(record.get(k), str) for k in ("v", "n", "r", "b")
    ):
        raise InvalidState()
    # Another browser than the one that started (login CSRF: an attacker's own callback
    # URL opened in the victim's browser) has no cookie, or a different one.
    if not binding or not compare_digest(record["b"], _binding_digest(binding)):
        raise InvalidState()
    return record


def _with_fragment(url: str, values: dict[str, str]) -> str:
    return f"{url}#{urlencode(values)}"


def finish_browser_sign_in(params: dict[str, Any], binding: str | None) -> str:
    """Google's callback: the URL to send the browser to.

    An unknown, expired, replayed or foreign ``state`` raises ``InvalidState`` (400: there
    is no trusted ``next`` to go back to). From then on every outcome goes back to
    ``next``: ``#code=<exchange code>`` on success, ``#error=<error code>`` otherwise
    (``access_denied`` when the user declined, ``account_exists``, ...).
    """
    sb = _require(secret=True)
    state = params.get("state")
    record = _take_state(state, binding)
    data = {k: params[k] for k in ("code", "state", "error", "error_description") if k in params}
    backend = sb.backend(
        data, redirect_uri=record["r"], flow_state=state, code_verifier=record["v"]
    )
    try:
        with users.atomic():
            with _google(sb):
                user = backend.auth_complete()
            if user is None or not hasattr(user, "pk") or not users.is_active(user):
                raise InvalidCredentials()
            code = secrets.token_urlsafe(32)
            # The browser binding goes with the code: exchanging it needs the same cookie,
            # so a code lifted from one browser's flow signs no other browser in (login CSRF).
            pending = json.dumps({"u": str(users.user_id_of(user)), "b": _binding_digest(binding)})
            with store.guard():
                store.get_client().set(keys.google_exchange(code), pending, ex=EXCHANGE_TTL)
    except APIException as exc:
        return _with_fragment(record["n"], {"error": _code_of(exc)})
    return _with_fragment(record["n"], {"code": code})


def _code_of(exc: APIException) -> str:
    codes = exc.get_codes()
    while isinstance(codes, list | dict):
        codes = (list(codes.values()) if isinstance(codes, dict) else codes or ["error"])[0]
    return str(codes)


def exchange(code: str, binding: str | None, client: Client) -> SignIn:
    """The one-time code from the callback's fragment → token pair (or challenge), for the
    browser that ran the flow (``binding``: its cookie). Taken with GETDEL: of two
    concurrent exchanges one wins, the other gets 400; a code presented without the
    browser's binding is spent and refused."""
    _require()
    with store.guard():
        raw = store.decode(store.get_client().getdel(keys.google_exchange(code)))
    try:
        record = json.loads(raw) if raw else {}
    except ValueError:
        record = {}
    if not isinstance(record, dict) or not isinstance(record.get("b"), str):
        raise InvalidCode()
    if not binding or not compare_digest(record["b"], _binding_digest(binding)):
        raise InvalidCode()
    user = users_cache.load_from_db(record.get("u")) if record.get("u") else None
    if user is None:
        raise InvalidCode()
    return _finish(user, client)


# --- unlinking --------------------------------------------------------------------------------


def is_linked(user: Any) -> bool:
    if not configured():
        return False
    from social_django.models import UserSocialAuth

    return UserSocialAuth.objects.filter(user_id=user.pk, provider=PROVIDER).exists()


def unlink(user: Any) -> None:
    """Remove the user's Google link through social-core's disconnect pipeline.

    Raises ``NotLinked`` (404), or ``LastSignInMethod`` (409) while Google is the account's
    only way in (no usable password and no other provider).
    """
    sb = _require()
    fresh = users_cache.load_from_db(users.user_id_of(user))
    if fresh is None or not is_linked(fresh):
        raise NotLinked()
    backend = sb.backend()
    with _google(sb):
        backend.disconnect(user=fresh)
    signals.social_unlinked.send(sender=type(backend), user=fresh, provider=PROVIDER)


# --- redirect targets -------------------------------------------------------------------------


def _parts(url: str) -> tuple[str, str, str]:
    split = urlsplit(url)
    return split.scheme.lower(), split.netloc.lower(), split.path


def is_allowed_redirect(url: Any) -> bool:
    """Whether ``url`` is within GOOGLE_REDIRECT_ALLOWED (no open redirect).

    Entries are absolute URLs (``https://app.example.com/``) or paths on this site
    (``/app/``), over http(s). Scheme and host must be equal; the path must be equal, or below the
    entry when it ends with ``/``. Refused outright: fragments, user info
    (``https://app.example.com@evil.example``), backslashes, control characters,
    protocol-relative URLs (``//evil.example``) and ``.``/``..`` path segments.
    """
    if not isinstance(url, str) or not url or len(url) > URL_MAX or not url.isprintable():
        return False
    if "\\" in url or "#" in url or " " in url:
        return False
    split = urlsplit(url)
    if "@" in split.netloc or (not split.scheme and (split.netloc or not url.startswith("/"))):
        return False
    if any(segment in (".", "..") for segment in unquote(split.path).split("/")):
        return False
    scheme, netloc, path = _parts(url)
    if scheme not in ("", "http", "https"):
        return False
    for entry in auth_settings.GOOGLE_REDIRECT_ALLOWED:
        e_scheme, e_netloc, e_path = _parts(str(entry))
        if (e_scheme, e_netloc) != (scheme, netloc):
            continue
        e_path = e_path or "/"
        if (path or "/") == e_path or (e_path.endswith("/") and path.startswith(e_path)):
            return True
    return False
