"""token_validation: simplejwt's public validation, keyed by ``kid``, accepts exactly what
simplejwt accepts.

The cases are simplejwt's own token and backend validation cases (tests/test_tokens.py,
tests/test_backends.py and tests/test_authentication.py of djangorestframework-simplejwt:
expired, no type, wrong type, no jti, bad signature, algorithm mismatch, leeway, audience
and issuer, RSA and EC keys), plus PyJWT's registered-claim checks simplejwt relies on
(``nbf``, ``iat``, malformed segments). Each case is run through simplejwt's full
``JWTAuthentication.get_validated_token`` and through :func:`token_validation.validate`:
ours must accept every token simplejwt accepts (with the same payload, an instance of the
same class) and nothing else, refusing with simplejwt's own error.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
import pytest
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import authentication as simplejwt_authentication
from rest_framework_simplejwt import state
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken, SlidingToken, Token

from django_redis_auth.authentication import RedisJWTAuthentication
from django_redis_auth.tokens import validation as token_validation
from tests.fleet_keys import key_pair

SECRET = "not_secret, " + "but 64 bytes long " * 3  # PyJWT warns about shorter HMAC keys
AUDIENCE = "openid-client-id"
ISSUER = "https://www.myoidcprovider.com"
LEEWAY = 100


# Pairs of their own (n=7, 8), apart from the ones other tests sign with.
RSA_PRIVATE, RSA_PUBLIC = key_pair("RS256", 7)
RSA_PRIVATE_2, _ = key_pair("RS256", 8)
EC_PRIVATE, EC_PUBLIC = key_pair("ES256", 7)

BACKENDS: dict[str, Callable[[], TokenBackend]] = {
    "hs256": lambda: TokenBackend("HS256", SECRET),
    "hs256-leeway": lambda: TokenBackend("HS256", SECRET, leeway=LEEWAY),
    "hs256-aud-iss": lambda: TokenBackend("HS256", SECRET, audience=AUDIENCE, issuer=ISSUER),
    "rs256": lambda: TokenBackend("RS256", RSA_PRIVATE, RSA_PUBLIC),
    "rs256-aud-iss": lambda: TokenBackend("RS256", RSA_PRIVATE, RSA_PUBLIC, AUDIENCE, ISSUER),
    "es256": lambda: TokenBackend("ES256", EC_PRIVATE, EC_PUBLIC),
}
SIGNING = {"hs256": (SECRET, "HS256"), "rs256": (RSA_PRIVATE, "RS256")}
SIGNING["es256"] = (EC_PRIVATE, "ES256")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Case:
    name: str
    backend: str = "hs256"
    claims: dict[str, Any] = field(default_factory=dict)  # changes to a valid access payload
    drop: tuple[str, ...] = ()
    key: str | None = None  # signing key, default: the backend's
    algorithm: str | None = None
    headers: dict[str, Any] | None = None
    raw: Callable[[str], str] | None = None  # rewrites the encoded token
    accepted: bool = False  # what simplejwt decides (asserted too, so the case means it)


def _now() -> int:
    return int(time.time())


CASES = [
    Case("valid", accepted=True),
    Case("valid-rs256", backend="rs256", accepted=True),
    Case("valid-es256", backend="es256", accepted=True),
    # Shapes simplejwt does not write but PyJWT accepts: PyJWT decides.
    Case("exp-float", claims={"exp": 300.5}, accepted=True),
    Case("iat-float", claims={"iat": -0.5}, accepted=True),
    Case("header-with-kid", headers={"kid": "k1"}, accepted=True),
    Case(
        "iss-not-a-string-unconfigured",
        raw=lambda t: _with_claims(t, iss=7),
        accepted=True,
    ),
    Case(
        "aud-list-containing-ours",
        backend="hs256-aud-iss",
        claims={"aud": ["other", AUDIENCE]},
        accepted=True,
    ),
    Case("aud-empty-list", backend="hs256-aud-iss", claims={"aud": []}),
    Case("exp-bool", claims={"exp": True}),
    Case("sub-not-a-string", claims={"sub": 42}),
    Case("jti-not-a-string", claims={"jti": 42}),
    Case("iss-not-a-string", backend="hs256-aud-iss", raw=lambda t: _with_claims(t, iss=["x"])),
    Case("payload-non-canonical-base64", raw=lambda t: _non_canonical(t)),
    Case(
        "header-alg-hs256-but-other-key-order",
        raw=lambda t: _reordered_header(t),
        accepted=True,
    ),
    Case("expired", claims={"exp": -1}),
    Case("expired-long-ago", claims={"exp": -10_000}),
    Case("no-exp", drop=("exp",)),
    Case("exp-not-a-number", claims={"exp": "soon"}),
    Case("exp-within-leeway", backend="hs256-leeway", claims={"exp": -LEEWAY // 2}, accepted=True),
    Case("exp-beyond-leeway", backend="hs256-leeway", claims={"exp": -LEEWAY * 2}),
    Case("no-type", drop=("token_type",)),
    Case("wrong-type", claims={"token_type": "refresh"}),
    Case("sliding-type", claims={"token_type": "sliding"}),
    Case("no-jti", drop=("jti",)),
    Case("nbf-in-future", claims={"nbf": 60}),
    Case("nbf-passed", claims={"nbf": -60}, accepted=True),
    Case("nbf-within-leeway", backend="hs256-leeway", claims={"nbf": LEEWAY // 2}, accepted=True),
    Case("nbf-not-a-number", claims={"nbf": "later"}),
    Case("iat-in-future", claims={"iat": 3600}),
    Case("iat-not-a-number", claims={"iat": "then"}),
    Case("wrong-signing-key", key="another secret, 32 bytes or more!"),
    Case("payload-swapped-under-signature", raw=lambda t: _swap_payload(t)),
    Case("signature-stripped", raw=lambda t: t.rsplit(".", 1)[0] + "."),
    Case("alg-none", raw=lambda t: _unsigned(t)),
    Case("alg-hs512-for-hs256-backend", algorithm="HS512"),
    Case("alg-rs256-for-hs256-backend", key=RSA_PRIVATE, algorithm="RS256"),
    # The classic key confusion: the RSA public key used as an HMAC secret.
    Case("alg-hs256-for-rs256-backend", backend="rs256", raw=lambda t: _hs256_with_public_key(t)),
    Case("rs256-other-key", backend="rs256", key=RSA_PRIVATE_2),
    Case("aud-iss-valid", backend="hs256-aud-iss", accepted=True),
    Case("aud-iss-valid-rs256", backend="rs256-aud-iss", accepted=True),
    Case("aud-missing", backend="hs256-aud-iss", drop=("aud",)),
    Case("aud-wrong", backend="hs256-aud-iss", claims={"aud": "someone-else"}),
    Case("iss-missing", backend="hs256-aud-iss", drop=("iss",)),
    Case("iss-wrong", backend="hs256-aud-iss", claims={"iss": "https://evil.example"}),
    Case("aud-present-but-not-configured", claims={"aud": "anyone"}, accepted=True),
    Case("crit-header", headers={"crit": ["exp"]}),
    Case("not-a-jwt", raw=lambda t: "not.a.jwt"),
    Case("two-segments", raw=lambda t: t.rsplit(".", 1)[0]),
    Case("payload-not-an-object", raw=lambda t: _resign(t, b"[1, 2, 3]")),
    Case("payload-not-json", raw=lambda t: _resign(t, b"{not json")),
    Case("bad-base64", raw=lambda t: "!!!!" + t[4:]),
]


def _segments(token: str) -> tuple[str, str, str]:
    head, body, sig = token.split(".")
    return head, body, sig


def _swap_payload(token: str) -> str:
    head, body, sig = _segments(token)
    claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    claims["user_id"] = "999"
    return f"{head}.{_b64(json.dumps(claims).encode())}.{sig}"


def _unsigned(token: str) -> str:
    _head, body, _sig = _segments(token)
    head = _b64(b'{"alg":"none","typ":"JWT"}')
    return f"{head}.{body}."


def _hmac_sign(head: str, body: str, secret: bytes) -> str:
    signing_input = f"{head}.{body}".encode()
    sig = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return f"{head}.{body}.{_b64(sig)}"


def _resign(token: str, payload: bytes) -> str:
    return _hmac_sign(_segments(token)[0], _b64(payload), SECRET.encode())


def _non_canonical(token: str) -> str:
    """The same payload bytes, base64url-encoded with trailing bits set (validly signed)."""
    head, body, _sig = _segments(token)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    if len(body) % 4 in (2, 3):
        last = alphabet.index(body[-1])
        body = body[:-1] + alphabet[last | (0b1111 if len(body) % 4 == 2 else 0b11)]
    else:
        body = body + "A"  # not canonical for this length either
    return _hmac_sign(head, body, SECRET.encode())


def _with_claims(token: str, **claims: Any) -> str:
    """The token's payload with ``claims`` changed, validly signed (bypassing PyJWT's
    encoder, which refuses some of these values)."""
    body = _segments(token)[1]
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    payload.update(claims)
    return _resign(token, json.dumps(payload).encode())


def _reordered_header(token: str) -> str:
    """A valid HS256 token whose header lists typ before alg (not how PyJWT writes it)."""
    head = _b64(b'{"typ":"JWT","alg":"HS256"}')
    return _hmac_sign(head, _segments(token)[1], SECRET.encode())


def _hs256_with_public_key(token: str) -> str:
    head = _b64(b'{"alg":"HS256","typ":"JWT"}')
    return _hmac_sign(head, _segments(token)[1], RSA_PUBLIC.encode())


def _encode(case: Case) -> str:
    now = _now()
    payload: dict[str, Any] = {
        "token_type": "access",
        "exp": now + 300,
        "iat": now,
        "jti": "a" * 32,
        "user_id": "1",
        "epoch": "e",
        "fam": "f",
    }
    if "aud-iss" in case.backend:
        payload.update(aud=AUDIENCE, iss=ISSUER)
    for name, value in case.claims.items():
        relative = name in ("exp", "nbf", "iat") and type(value) in (int, float)
        payload[name] = now + value if relative else value
    for name in case.drop:
        payload.pop(name, None)
    key, algorithm = SIGNING[case.backend.split("-")[0]]
    token = jwt.encode(
        payload, case.key or key, algorithm=case.algorithm or algorithm, headers=case.headers
    )
    return case.raw(token) if case.raw else token


@pytest.fixture
def install_backend(monkeypatch):
    """Make ``name`` simplejwt's own backend (where both paths look it up)."""

    def install(name: str) -> TokenBackend:
        backend = BACKENDS[name]()
        monkeypatch.setattr(state, "token_backend", backend)
        return backend

    return install


def simplejwt_outcome(raw: bytes) -> tuple[type, dict] | Any:
    try:
        token = JWTAuthentication().get_validated_token(raw)
    except InvalidToken as exc:
        return exc.detail
    return type(token), token.payload


def our_outcome(raw: bytes) -> Token | Any:
    try:
        return token_validation.validate(raw)
    except InvalidToken as exc:
        return exc.detail


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_validate_accepts_exactly_what_simplejwt_accepts(case, install_backend, pyjwt_decodes):
    install_backend(case.backend)
    raw = _encode(case).encode()
    expected = simplejwt_outcome(raw)
    assert isinstance(expected, tuple) is case.accepted, expected  # the case means what it says
    pyjwt_decodes.clear()
    ours = our_outcome(raw)
    if case.accepted:
        assert isinstance(ours, expected[0]) and ours.payload == expected[1]
        assert ours.token == raw and ours.current_time is not None
        assert len(pyjwt_decodes) == 1  # PyJWT, and only PyJWT, checks the signature
    else:
        assert ours == expected  # simplejwt's own error, message for message


@pytest.mark.parametrize("case", [c for c in CASES if not c.accepted], ids=lambda c: c.name)
def test_refusals_are_simplejwts_own_errors(case, install_backend):
    install_backend(case.backend)
    raw = _encode(case).encode()
    with pytest.raises(AuthenticationFailed) as ours:
        RedisJWTAuthentication().get_validated_token(raw)
    assert ours.value.detail == simplejwt_outcome(raw)


def test_token_without_user_id_claim_is_refused(install_backend, db):
    install_backend("hs256")
    raw = _encode(Case("no-user-id", drop=("user_id",))).encode()
    assert isinstance(token_validation.validate(raw), Token)  # simplejwt's checks pass it...
    with pytest.raises(AuthenticationFailed):  # ...but it is no token of ours
        RedisJWTAuthentication().get_validated_token(raw)


@pytest.mark.parametrize(
    ("classes", "accepted_by"),
    [
        ([RefreshToken, AccessToken], AccessToken),  # the first refuses, the next one
        ([RefreshToken], None),
        ([SlidingToken, AccessToken], AccessToken),
    ],
)
def test_token_classes_are_tried_in_order_like_simplejwt(
    classes, accepted_by, install_backend, monkeypatch
):
    install_backend("hs256")
    monkeypatch.setattr(simplejwt_authentication.api_settings, "AUTH_TOKEN_CLASSES", classes)
    raw = _encode(Case("valid")).encode()
    expected = simplejwt_outcome(raw)
    assert (expected[0] if isinstance(expected, tuple) else None) is accepted_by
    ours = our_outcome(raw)
    if accepted_by is None:
        assert ours == expected
    else:
        assert isinstance(ours, accepted_by)
        assert isinstance(RedisJWTAuthentication().get_validated_token(raw), accepted_by)


class AuditedAccessToken(AccessToken):
    audited: list[str] = []

    def verify(self):
        super().verify()
        AuditedAccessToken.audited.append(self["jti"])


def test_a_class_with_checks_of_its_own_runs_them(install_backend, monkeypatch):
    install_backend("hs256")
    monkeypatch.setattr(
        simplejwt_authentication.api_settings, "AUTH_TOKEN_CLASSES", [AuditedAccessToken]
    )
    AuditedAccessToken.audited = []
    raw = _encode(Case("valid")).encode()
    token = token_validation.validate(raw)
    assert isinstance(token, AuditedAccessToken) and type(token).__name__ == "AuditedAccessToken"
    assert AuditedAccessToken.audited == ["a" * 32]


def test_a_class_with_a_backend_of_its_own_keeps_it(install_backend, monkeypatch):
    install_backend("hs256")
    other = TokenBackend("HS256", "another secret, " + "64 bytes long " * 4)

    class TenantToken(AccessToken):
        @property
        def token_backend(self):
            return other

    monkeypatch.setattr(simplejwt_authentication.api_settings, "AUTH_TOKEN_CLASSES", [TenantToken])
    raw = _encode(Case("valid")).encode()  # signed with SECRET, not the tenant's key
    assert simplejwt_outcome(raw) == our_outcome(raw)
    assert isinstance(our_outcome(raw), dict)


def test_a_backend_installed_as_simplejwts_own_is_the_one_that_decodes(monkeypatch):
    decoded = []

    class RotatingBackend(TokenBackend):
        def decode(self, token, verify=True):
            decoded.append(token)
            return super().decode(token, verify)

    monkeypatch.setattr(state, "token_backend", RotatingBackend("HS256", SECRET))
    raw = _encode(Case("valid")).encode()
    assert isinstance(token_validation.validate(raw), AccessToken)
    assert decoded == [raw]
