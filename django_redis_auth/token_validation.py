"""A token's first request: simplejwt's validation, at a fraction of its cost.

simplejwt's ``JWTAuthentication.get_validated_token`` builds each class of
``AUTH_TOKEN_CLASSES`` in turn; building one resolves simplejwt's backend from an import
string, decodes with PyJWT (signature, ``exp``, ``nbf``, ``iat``, ``aud``, ``iss``,
``sub``, ``jti``) and runs ``Token.verify`` (``exp`` present, ``jti`` present, token type).
For simplejwt's own classes and backend, with nothing overridden, :func:`validate` returns
the same token object, and ends with simplejwt's own ``Token.verify`` on it.

The decode: PyJWT spends most of its ~30 µs on generic parsing (per-character base64url
checks of each segment, the header's JSON, option merging) that a token simplejwt itself
signed does not need. For the HMAC algorithms (simplejwt's default ``HS256``) the token is
therefore checked here when, and only when, it has exactly the shape simplejwt writes:

* the header segment is byte for byte the one PyJWT writes for the backend's algorithm
  (``{"alg":"HS256","typ":"JWT"}``): no algorithm choice, no ``kid``, ``crit`` or ``b64``
  is read from the token, so no algorithm confusion is possible;
* the signature is the HMAC of the signing input under the backend's key, compared with
  ``hmac.compare_digest`` (as PyJWT's ``HMACAlgorithm.verify``);
* the payload segment is canonical base64url of a JSON object;
* every registered claim follows PyJWT's rules with simplejwt's options (leeway,
  audience, issuer), with stricter types: ``exp``/``nbf``/``iat`` plain integers, ``exp``
  not past, ``nbf`` and ``iat`` not in the future, ``sub``/``jti``/``iss`` strings,
  ``aud``/``iss`` matching when configured.

Anything else — another header, a non-integer time, a list audience against a list, an
RSA/EC backend — goes through simplejwt's backend (one PyJWT decode with simplejwt's exact
options). The fast checks only ever *accept*: any failure returns ``None`` and the caller
runs simplejwt's full path, so every refusal is simplejwt's own error. Token classes or
backends that override a check, and keys from a ``JWK_URL``, always take the full path.
``tests/test_token_validation.py`` runs simplejwt's token-validation cases (and PyJWT's
claim cases) through both paths and compares the outcomes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from functools import cache
from typing import Any

import jwt
from rest_framework_simplejwt import authentication as simplejwt_authentication
from rest_framework_simplejwt import state as simplejwt_state
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow

# What building and verifying a token runs; a class overriding any of them has checks of its
# own, so it always gets simplejwt's full path (and its tokens are never remembered).
OWN_CHECKS = (
    "__init__",
    "verify",
    "check_exp",
    "verify_token_type",
    "get_token_backend",
    "token_backend",
)
_SIMPLEJWT_CHECKS = tuple(getattr(Token, name) for name in OWN_CHECKS)


def plain_backend(token_class: type, token: Any = None) -> TokenBackend | None:
    """simplejwt's own backend if ``token_class`` (and ``token``, if given) validates with
    simplejwt's own checks and that backend; ``None`` otherwise.

    Only simplejwt's own backend instance of simplejwt's own class counts: a per-tenant
    backend or a subclass installed in its place (to pick keys by key id, say) chooses keys
    its own way and may withdraw one; so may a ``JWK_URL`` issuer.
    """
    for name, own in zip(OWN_CHECKS, _SIMPLEJWT_CHECKS, strict=True):
        if getattr(token_class, name) is not own:
            return None
    backend = simplejwt_state.token_backend
    chosen = (token if token is not None else token_class)._token_backend
    if chosen is not None and chosen is not backend:
        return None
    if type(backend) is not TokenBackend or getattr(backend, "jwks_client", None) is not None:
        return None
    return backend


def validate(raw: bytes | str) -> Token | None:
    """The validated token for ``raw`` as simplejwt's ``get_validated_token`` would return
    it, or ``None``: then run simplejwt's full path (for its error, or its own classes)."""
    # simplejwt tries each class in order and returns the first that validates; so do we,
    # as long as each class tried is a plain one (otherwise its full path decides).
    for token_class in simplejwt_authentication.api_settings.AUTH_TOKEN_CLASSES:
        if getattr(token_class, "token_type", None) is None or token_class.lifetime is None:
            return None
        backend = plain_backend(token_class)
        if backend is None:
            return None
        # Token.__init__(raw) with verify=True, minus the backend look-ups.
        token = token_class.__new__(token_class)
        token.token = raw
        token.current_time = aware_utcnow()
        token._token_backend = backend
        try:
            payload = _hmac_payload(raw, backend)
            token.payload = payload if payload is not None else backend.decode(raw, verify=True)
            token.verify()
        except (TokenError, TokenBackendError):
            continue  # this class refuses it: simplejwt would try the next one
        except Exception:
            return None  # not a refusal simplejwt catches: its full path raises it
        return token
    return None


_HASHES = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
_B64URL = re.compile(rb"[A-Za-z0-9_-]*")


@cache
def _header_segment(algorithm: str) -> bytes:
    """The header segment PyJWT writes for simplejwt's tokens (encoded by PyJWT itself)."""
    token = jwt.encode({}, "k" * 64, algorithm=algorithm)
    return token.split(".", 1)[0].encode()


def _hmac_payload(raw: bytes | str, backend: TokenBackend) -> dict[str, Any] | None:
    """The payload of ``raw`` if it is an HMAC token of exactly simplejwt's shape that
    PyJWT would accept with the backend's options; ``None``: decide with PyJWT."""
    digest = _HASHES.get(backend.algorithm)
    if digest is None:
        return None
    if isinstance(raw, str):
        raw = raw.encode()
    parts = raw.split(b".")
    if len(parts) != 3 or parts[0] != _header_segment(backend.algorithm):
        return None
    header, body, signature = parts
    mac = hmac.new(backend.prepared_signing_key, header + b"." + body, digest).digest()
    if not hmac.compare_digest(base64.urlsafe_b64encode(mac).rstrip(b"="), signature):
        return None
    if len(body) % 4 == 1 or not _B64URL.fullmatch(body):
        return None
    decoded = base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4))
    if base64.urlsafe_b64encode(decoded).rstrip(b"=") != body:
        return None
    payload = json.loads(decoded)
    if type(payload) is not dict or not _claims_accepted(payload, backend):
        return None
    return payload


def _claims_accepted(payload: dict[str, Any], backend: TokenBackend) -> bool:
    """PyJWT's registered-claim checks (``jwt.api_jwt.PyJWT._validate_claims``) with
    simplejwt's options, stricter about types: ``False`` means "let PyJWT decide"."""
    leeway = backend.get_leeway().total_seconds()
    now = time.time()  # PyJWT: datetime.now(tz=timezone.utc).timestamp()
    for name in ("exp", "nbf", "iat"):
        if name in payload and type(payload[name]) is not int:
            return False
    if "exp" in payload and payload["exp"] <= now - leeway:
        return False
    if "nbf" in payload and payload["nbf"] > now + leeway:
        return False
    if "iat" in payload and payload["iat"] > now + leeway:
        return False
    for name in ("sub", "jti"):
        if name in payload and type(payload[name]) is not str:
            return False
    issuer = backend.issuer
    if issuer is not None and not (type(issuer) is str and payload.get("iss") == issuer):
        return False
    if "iss" in payload and type(payload["iss"]) is not str:
        return False
    audience = backend.audience
    if audience is not None:
        # PyJWT: the token's aud (a string, or a list of strings) must contain one of ours.
        if type(audience) is str:
            audience = [audience]
        elif type(audience) not in (list, tuple):
            return False
        claim = payload.get("aud")
        claims = [claim] if type(claim) is str else claim
        if type(claims) is not list or not claims or any(type(c) is not str for c in claims):
            return False
        if all(a not in claims for a in audience):
            return False
    return True
