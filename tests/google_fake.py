"""A fake Google for the Google sign-in tests: no network.

``responses`` answers Google's endpoints the way Google does (token exchange with PKCE,
userinfo, tokeninfo, the ID-token certificates with their Cache-Control), and ID tokens are
signed with an RSA key generated here, published as an X.509 certificate like Google's.
The package verifies them with google-auth exactly as it verifies real ones.
"""

from __future__ import annotations

import base64
import datetime
import functools
import hashlib
import io
import secrets
import time
from email.utils import formatdate
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import responses
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from urllib3 import HTTPHeaderDict, HTTPResponse

from django_redis_auth.google import backend as social_backend
from tests.helpers import package_settings

CLIENT_ID = "web-client.apps.googleusercontent.com"
CLIENT_SECRET = "web-client-secret"
IOS_CLIENT_ID = "ios-client.apps.googleusercontent.com"
OTHER_APP_CLIENT_ID = "someone-elses-app.apps.googleusercontent.com"
APP = "https://app.example.com/"
SPA_REDIRECT = "https://app.example.com/auth/google"

CERTS_URL = "https://www.googleapis.com/oauth2/v1/certs"
TOKEN_URL = "https://accounts.google.com/o/oauth2/token"
USERINFO_URL = "https://www.googleapis.com/oauth2/v3/userinfo"
TOKENINFO_URL = social_backend.TOKENINFO_URL
ISSUER = "https://accounts.google.com"


@functools.cache
def rsa_key(name: str = "google") -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def certificate_pem(key: rsa.RSAPrivateKey) -> str:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "accounts.google.com")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def challenge_of(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")


class _EndsClosed(io.BytesIO):
    """A body that reads as closed once read to its end, as a socket's does: CacheControl
    stores a response when its body stream closes, which responses' own bodies never do."""

    @property
    def closed(self) -> bool:
        return super().closed or self.tell() >= len(self.getvalue())


class _SocketLikeResponse(responses.CallbackResponse):
    """A callback response whose body behaves like a real connection's, so the certificate
    cache (CacheControl in google/backend.py) works in these tests as against Google."""

    def get_response(self, request: Any) -> HTTPResponse:
        status, headers, body = self.callback(request)
        headers = HTTPHeaderDict(headers)
        spent = io.BytesIO()
        spent.close()
        return HTTPResponse(
            status=status,
            headers=headers,
            body=_EndsClosed(body.encode()),
            preload_content=False,
            original_response=HTTPResponse(body=spent, msg=headers, preload_content=False),
            request_method=request.method,
        )


class FakeGoogle:
    """Google's endpoints on a ``responses`` mock, with the state a test can inspect."""

    KID = "fake-google-key-1"

    def __init__(self, mock: responses.RequestsMock) -> None:
        self.mock = mock
        self.key = rsa_key()
        self.access_tokens: dict[str, tuple[dict[str, Any], str]] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.calls: dict[str, int] = {"certs": 0, "token": 0, "userinfo": 0, "tokeninfo": 0}
        self.failure: int | None = None  # every endpoint answers this status when set
        self.last_token_request: dict[str, str] = {}
        mock.add(_SocketLikeResponse(responses.GET, CERTS_URL, callback=self._certs))
        mock.add_callback(responses.POST, TOKEN_URL, callback=self._token)
        mock.add_callback(responses.GET, USERINFO_URL, callback=self._userinfo)
        mock.add_callback(responses.GET, TOKENINFO_URL, callback=self._tokeninfo)

    # --- what a test makes ---

    @staticmethod
    def profile(
        sub: str = "1001", email: str = "alice@example.com", email_verified: bool = True, **extra
    ) -> dict[str, Any]:
        return {
            "sub": sub,
            "email": email,
            "email_verified": email_verified,
            "name": "Alice Liddell",
            "given_name": "Alice",
            "family_name": "Liddell",
            **extra,
        }

    def id_token(
        self,
        profile: dict[str, Any] | None = None,
        *,
        aud: str = CLIENT_ID,
        iss: str = ISSUER,
        lifetime: int = 3600,
        issued: float | None = None,
        key: rsa.RSAPrivateKey | None = None,
    ) -> str:
        now = int(issued if issued is not None else time.time())
        claims = {
            "iss": iss,
            "aud": aud,
            "azp": aud,
            "iat": now,
            "exp": now + lifetime,
            **(profile or self.profile()),
        }
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": self.KID})

    def access_token(self, profile: dict[str, Any] | None = None, aud: str = CLIENT_ID) -> str:
        token = "ya29." + secrets.token_urlsafe(24)
        self.access_tokens[token] = (profile or self.profile(), aud)
        return token

    def authorize(self, auth_url: str, profile: dict[str, Any] | None = None) -> dict[str, str]:
        """The user consents on Google's page: the query Google sends to the callback."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(auth_url).query).items()}
        assert query["client_id"] == CLIENT_ID
        assert query["code_challenge_method"] == "S256"
        code = "4/" + secrets.token_urlsafe(16)
        self.codes[code] = {
            "profile": profile or self.profile(),
            "redirect_uri": query["redirect_uri"],
            "challenge": query["code_challenge"],
        }
        return {"code": code, "state": query["state"], "scope": query.get("scope", "")}

    def spa_code(
        self, verifier: str, profile: dict[str, Any] | None = None, redirect_uri: str = SPA_REDIRECT
    ) -> str:
        """An authorization code an SPA obtained itself (with its own PKCE challenge)."""
        code = "4/" + secrets.token_urlsafe(16)
        self.codes[code] = {
            "profile": profile or self.profile(),
            "redirect_uri": redirect_uri,
            "challenge": challenge_of(verifier),
        }
        return code

    # --- Google's endpoints ---

    def _failed(self) -> tuple[int, dict[str, str], str] | None:
        if self.failure is None:
            return None
        return (self.failure, {"Content-Type": "text/html"}, "<html>Server Error</html>")

    def _certs(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls["certs"] += 1
        import json

        return self._failed() or (
            200,
            {
                "Content-Type": "application/json",
                "Cache-Control": "public, max-age=21600, must-revalidate, no-transform",
                "Date": formatdate(usegmt=True),
            },
            json.dumps({self.KID: certificate_pem(self.key)}),
        )

    def _json(self, status: int, body: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        import json

        return status, {"Content-Type": "application/json"}, json.dumps(body)

    def _token(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls["token"] += 1
        failed = self._failed()
        if failed:
            return failed
        form = {k: v[0] for k, v in parse_qs(request.body).items()}
        self.last_token_request = form
        if (form.get("client_id"), form.get("client_secret")) != (CLIENT_ID, CLIENT_SECRET):
            return self._json(401, {"error": "invalid_client"})
        grant = self.codes.pop(form.get("code", ""), None)  # codes are single use at Google too
        if (
            grant is None
            or form.get("grant_type") != "authorization_code"
            or form.get("redirect_uri") != grant["redirect_uri"]
            or challenge_of(form.get("code_verifier", "")) != grant["challenge"]
        ):
            return self._json(400, {"error": "invalid_grant", "error_description": "Bad Request"})
        access = self.access_token(grant["profile"])
        return self._json(
            200,
            {
                "access_token": access,
                "expires_in": 3599,
                "token_type": "Bearer",
                "scope": "openid email profile",
                "id_token": self.id_token(grant["profile"]),
            },
        )

    def _bearer(self, request: Any) -> str:
        header = request.headers.get("Authorization", "")
        return header.removeprefix("Bearer ")

    def _userinfo(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls["userinfo"] += 1
        failed = self._failed()
        if failed:
            return failed
        found = self.access_tokens.get(self._bearer(request))
        if found is None:
            return self._json(
                401, {"error": "invalid_request", "error_description": "Invalid Credentials"}
            )
        return self._json(200, found[0])

    def _tokeninfo(self, request: Any) -> tuple[int, dict[str, str], str]:
        self.calls["tokeninfo"] += 1
        failed = self._failed()
        if failed:
            return failed
        token = parse_qs(urlsplit(request.url).query).get("access_token", [""])[0]
        found = self.access_tokens.get(token)
        if found is None:
            return self._json(400, {"error": "invalid_token", "error_description": "Invalid Value"})
        profile, aud = found
        return self._json(
            200,
            {"aud": aud, "azp": aud, "sub": profile["sub"], "scope": "openid email", "exp": "9"},
        )


def google_settings(**changes: Any) -> dict[str, Any]:
    """``DJANGO_REDIS_AUTH`` of the test settings with Google's keys set (plus ``changes``)."""
    google = {
        "GOOGLE_EXTRA_AUDIENCES": (IOS_CLIENT_ID,),
        "GOOGLE_REDIRECT_ALLOWED": (APP, SPA_REDIRECT),
    }
    return package_settings(**{**google, **changes})


@pytest.fixture
def google(settings):
    """Google sign-in configured, Google itself faked; yields the :class:`FakeGoogle`."""
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = CLIENT_ID
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = CLIENT_SECRET
    settings.DJANGO_REDIS_AUTH = google_settings()
    social_backend.reset()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield FakeGoogle(mock)
    social_backend.reset()
