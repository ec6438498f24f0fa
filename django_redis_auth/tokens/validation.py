"""A token's first request: simplejwt's validation without its per-request look-ups.

simplejwt's ``JWTAuthentication.get_validated_token`` builds each class of
``AUTH_TOKEN_CLASSES`` in turn; building one resolves simplejwt's backend from an import
string, decodes with PyJWT (signature, ``exp``, ``nbf``, ``iat``, ``aud``, ``iss``, ``sub``,
``jti``, the algorithm) and runs ``Token.verify`` (``exp`` present, ``jti`` present, token
type). For simplejwt's own classes and backend, with nothing overridden, :func:`validate`
does exactly that — one ``TokenBackend.decode`` (PyJWT, with simplejwt's options) and
simplejwt's own ``Token.verify`` — minus the look-ups, and returns the same token object.

Signatures are only ever checked by PyJWT: this module verifies nothing itself. Any
refusal returns ``None`` and the caller runs simplejwt's full path, so every error is
simplejwt's own. Token classes or backends that override a check, and keys from a
``JWK_URL``, always take the full path. ``tests/test_token_validation.py`` runs
simplejwt's token-validation cases (and PyJWT's claim cases) through both paths and
compares the outcomes.
"""

from __future__ import annotations

from typing import Any

from rest_framework_simplejwt import authentication as simplejwt_authentication
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenError
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow

from django_redis_auth.tokens import signing

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
_PLAIN_BACKENDS = (TokenBackend, signing.KeyedTokenBackend)


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
    backend = signing.backend()  # simplejwt's own, or the key set's (by kid) if asymmetric
    chosen = (token if token is not None else token_class)._token_backend
    if chosen is not None and chosen is not backend:
        return None
    if type(backend) not in _PLAIN_BACKENDS or getattr(backend, "jwks_client", None) is not None:
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
            token.payload = backend.decode(raw, verify=True)
            token.verify()
        except (TokenError, TokenBackendError):
            continue  # this class refuses it: simplejwt would try the next one
        except Exception:
            return None  # not a refusal simplejwt catches: its full path raises it
        return token
    return None
