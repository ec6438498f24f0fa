"""The keys tokens are signed and verified with, each named by a ``kid``.

Why: other services verify our tokens from the published JWK Set (``fleet/jwks.py``), and
keys must be replaceable without signing everyone out. So every token signed with an
asymmetric key carries a ``kid`` header (the key's RFC 7638 thumbprint), and verification
picks the key by that ``kid``: the current key (``SIMPLE_JWT["SIGNING_KEY"]`` /
``VERIFYING_KEY``) signs, and the previous public keys listed in
``DJANGO_REDIS_AUTH["JWT_VERIFYING_KEYS"]`` still verify until their last token expires.

simplejwt's ``TokenBackend`` has no notion of key ids and simplejwt 5.5 builds its backend
once from an import string with no setting to swap it, so this module brings a
:class:`KeyedTokenBackend` (a ``TokenBackend`` subclass overriding its public ``encode``,
``get_verifying_key`` and ``decode``) and token classes whose documented
``get_token_backend()`` returns it. Everything else is PyJWT's public API.

HMAC algorithms (``HS256``, the default) work exactly as before: no ``kid`` is added (a
digest of a shared secret is nothing to publish), tokens are byte for byte the same.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from dataclasses import dataclass, field
from typing import Any

import jwt
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from jwt import ExpiredSignatureError, InvalidAlgorithmError, InvalidTokenError
from rest_framework_simplejwt import settings as simplejwt_settings
from rest_framework_simplejwt import state as simplejwt_state
from rest_framework_simplejwt import tokens as simplejwt_tokens
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError, TokenBackendExpiredToken

from django_redis_auth.conf import auth_settings, on_change

__all__ = [
    "AccessToken",
    "KeySet",
    "KeyedTokenBackend",
    "RefreshToken",
    "UntypedToken",
    "VerifyingKey",
    "backend",
    "key_set",
    "keyed",
    "public_jwk",
    "thumbprint",
]

# The members of a public JWK per key type (RFC 7518 §6, RFC 8037 §2); the same lists are
# the "required members" an RFC 7638 thumbprint hashes. Nothing outside them is published.
PUBLIC_MEMBERS: dict[str, tuple[str, ...]] = {
    "RSA": ("e", "kty", "n"),
    "EC": ("crv", "kty", "x", "y"),
    "OKP": ("crv", "kty", "x"),
}
_EC_ALGORITHMS = {"P-256": "ES256", "P-384": "ES384", "P-521": "ES512", "secp256k1": "ES256K"}


@dataclass(frozen=True)
class VerifyingKey:
    """One key that verifies tokens: its ``kid`` (``None`` for an HMAC secret), the one
    algorithm it verifies (never taken from a token's header), the prepared key, and for an
    asymmetric key its public JWK."""

    kid: str | None
    algorithm: str
    key: Any = field(repr=False)
    jwk: dict[str, str] | None = None


@dataclass(frozen=True)
class KeySet:
    """The current signing key (with its ``kid``) and every key that verifies, by ``kid``.
    ``default`` verifies tokens without a ``kid`` (HMAC, or issued before kids existed)."""

    algorithm: str
    signing_key: Any = field(repr=False)
    signing_kid: str | None
    default: VerifyingKey
    by_kid: dict[str, VerifyingKey]

    @property
    def public_keys(self) -> list[VerifyingKey]:
        """The keys to publish: asymmetric ones only, current first."""
        return [k for k in self.by_kid.values() if k.jwk is not None]


def thumbprint(jwk: dict[str, Any]) -> str:
    """The RFC 7638 JWK thumbprint (SHA-256, base64url without padding) of a public JWK."""
    members = {name: jwk[name] for name in PUBLIC_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).rstrip(b"=").decode()


def _public(key: Any) -> Any:
    """The public half of a private key object; a public key as it is."""
    return key.public_key() if hasattr(key, "private_bytes") else key


def public_jwk(key: Any, algorithm: str) -> dict[str, str]:
    """The public JWK of ``key`` (a private key yields only its public half): the public
    members of its type and nothing else, plus ``kid``, ``alg`` and ``use``."""
    exported = jwt.get_algorithm_by_name(algorithm).to_jwk(_public(key), as_dict=True)
    members = PUBLIC_MEMBERS.get(str(exported.get("kty")))
    if members is None:  # an HMAC secret ("oct") or anything unknown is never published
        raise ImproperlyConfigured(f"{algorithm} keys have no public part to publish.")
    jwk = {name: exported[name] for name in members}
    return {**jwk, "kid": thumbprint(jwk), "alg": algorithm, "use": "sig"}


def _algorithm_for(key: Any, preferred: str) -> str:
    """The algorithm a verifying key is for: ``preferred`` (``SIMPLE_JWT["ALGORITHM"]``) if
    it fits the key's type, else the usual one for that type (a key kept from before a
    switch from RS256 to EdDSA keeps verifying RS256)."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    if isinstance(key, rsa.RSAPublicKey):
        return preferred if preferred.startswith(("RS", "PS")) else "RS256"
    if isinstance(key, ec.EllipticCurvePublicKey):
        name = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}.get(
            key.curve.name, key.curve.name
        )
        if name not in _EC_ALGORITHMS:
            raise ImproperlyConfigured(f"Unsupported elliptic curve {key.curve.name!r}.")
        return _EC_ALGORITHMS[name]
    if isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        return "EdDSA"
    raise ImproperlyConfigured(f"Unsupported key type {type(key).__name__}.")


def _load_public(pem: Any) -> Any:
    """A PEM (public or private, str or bytes) or a key object, as a public key object."""
    if hasattr(pem, "public_bytes") or hasattr(pem, "private_bytes"):
        return _public(pem)
    data = pem.encode() if isinstance(pem, str) else bytes(pem)
    from cryptography.hazmat.primitives import serialization

    try:
        if b"PRIVATE KEY" in data:
            return serialization.load_pem_private_key(data, password=None).public_key()
        if data.lstrip().startswith(b"-----"):
            return serialization.load_pem_public_key(data)
        return serialization.load_ssh_public_key(data)
    except Exception as exc:  # ValueError, UnsupportedAlgorithm, ...: cryptography's refusals
        raise ImproperlyConfigured(f"Not a usable public key: {exc}") from None


def _asymmetric_key(entry: Any, preferred: str, where: str) -> VerifyingKey:
    kid = None
    algorithm = None
    if isinstance(entry, dict):
        unknown = set(entry) - {"key", "algorithm", "kid"}
        if unknown or "key" not in entry:
            raise ImproperlyConfigured(
                f"{where}: a dict needs 'key' and may have 'algorithm' and 'kid' "
                f"(unknown: {sorted(unknown)})."
            )
        kid, algorithm, entry = entry.get("kid"), entry.get("algorithm"), entry["key"]
    public = _load_public(entry)
    algorithm = algorithm or _algorithm_for(public, preferred)
    if algorithm.startswith("HS") or algorithm not in jwt.algorithms.get_default_algorithms():
        raise ImproperlyConfigured(f"{where}: {algorithm!r} is not an asymmetric algorithm.")
    try:
        prepared = jwt.get_algorithm_by_name(algorithm).prepare_key(public)
    except (jwt.InvalidKeyError, ValueError, TypeError) as exc:
        raise ImproperlyConfigured(f"{where}: not a key for {algorithm}: {exc}") from None
    jwk = public_jwk(prepared, algorithm)
    if kid is not None:
        jwk["kid"] = str(kid)
    return VerifyingKey(jwk["kid"], algorithm, prepared, jwk)


def build_key_set() -> KeySet:
    """The key set the current settings describe; :class:`ImproperlyConfigured` if a key
    cannot be loaded (system check ``E052`` reports it)."""
    jwt_settings = simplejwt_settings.api_settings
    algorithm = jwt_settings.ALGORITHM
    extra = auth_settings.JWT_VERIFYING_KEYS
    if algorithm.startswith("HS"):
        if extra:
            raise ImproperlyConfigured(
                "JWT_VERIFYING_KEYS holds public keys: it needs an asymmetric "
                "SIMPLE_JWT['ALGORITHM'] (RS256, ES256, EdDSA, ...)."
            )
        secret = jwt.get_algorithm_by_name(algorithm).prepare_key(jwt_settings.SIGNING_KEY)
        default = VerifyingKey(None, algorithm, secret)
        return KeySet(algorithm, secret, None, default, {})
    try:
        signing = jwt.get_algorithm_by_name(algorithm).prepare_key(jwt_settings.SIGNING_KEY)
    except (jwt.InvalidKeyError, ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"SIMPLE_JWT['SIGNING_KEY'] is not a {algorithm} key: {exc}"
        ) from None
    if not hasattr(signing, "private_bytes"):
        raise ImproperlyConfigured(f"SIMPLE_JWT['SIGNING_KEY'] must be a {algorithm} private key.")
    verifying = jwt_settings.VERIFYING_KEY or signing
    current = _asymmetric_key(
        {"key": verifying, "algorithm": algorithm}, algorithm, "VERIFYING_KEY"
    )
    signer = public_jwk(signing, algorithm)["kid"]
    by_kid = {current.kid: current}
    for index, entry in enumerate(extra):
        key = _asymmetric_key(entry, algorithm, f"JWT_VERIFYING_KEYS[{index}]")
        by_kid.setdefault(key.kid, key)
    # The signing kid is the thumbprint of the signing key's own public half, so a
    # VERIFYING_KEY that does not match it never verifies what is signed (check E050).
    return KeySet(algorithm, signing, signer, current, by_kid)


_lock = threading.Lock()
_state: dict[str, Any] = {}


def key_set() -> KeySet:
    """The key set of the current settings (built once; rebuilt when settings change)."""
    found = _state.get("keys")
    if found is None:
        with _lock:
            found = _state.get("keys")
            if found is None:
                found = _state["keys"] = build_key_set()
    return found


class KeyedTokenBackend(TokenBackend):
    """simplejwt's ``TokenBackend`` with a key set: ``encode`` adds the signing key's
    ``kid`` header, and ``decode`` verifies with the key that ``kid`` names, for the
    algorithm configured for that key (the header's ``alg`` only has to agree)."""

    def __init__(self, keys: KeySet) -> None:
        jwt_settings = simplejwt_settings.api_settings
        super().__init__(
            keys.algorithm,
            jwt_settings.SIGNING_KEY,
            jwt_settings.VERIFYING_KEY,
            jwt_settings.AUDIENCE,
            jwt_settings.ISSUER,
            jwt_settings.JWK_URL,
            jwt_settings.LEEWAY,
            jwt_settings.JSON_ENCODER,
        )
        self.keys = keys

    def encode(self, payload: dict[str, Any]) -> str:
        claims = payload.copy()
        if self.audience is not None:
            claims["aud"] = self.audience
        if self.issuer is not None:
            claims["iss"] = self.issuer
        headers = {"kid": self.keys.signing_kid} if self.keys.signing_kid else None
        return jwt.encode(
            claims,
            self.keys.signing_key,
            algorithm=self.keys.algorithm,
            headers=headers,
            json_encoder=self.json_encoder,
        )

    def verifying_key_for(self, token: Any) -> VerifyingKey:
        """The key that verifies ``token``, chosen by its ``kid`` header; a ``kid`` this key
        set does not hold is refused (``TokenBackendError``)."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except InvalidTokenError as exc:
            raise TokenBackendError(_("Token is invalid")) from exc
        if kid is None or self.keys.signing_kid is None:
            return self.keys.default
        found = self.keys.by_kid.get(kid) if isinstance(kid, str) else None
        if found is None:
            raise TokenBackendError(_("Token is invalid"))
        return found

    def get_verifying_key(self, token: Any) -> Any:
        if self.jwks_client:
            return super().get_verifying_key(token)
        return self.verifying_key_for(token).key

    def decode(self, token: Any, verify: bool = True) -> dict[str, Any]:
        if self.jwks_client:
            return super().decode(token, verify=verify)
        key = self.verifying_key_for(token)
        try:
            return jwt.decode(
                token,
                key.key,
                algorithms=[key.algorithm],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.get_leeway(),
                options={"verify_aud": self.audience is not None, "verify_signature": verify},
            )
        except InvalidAlgorithmError as exc:
            raise TokenBackendError(_("Invalid algorithm specified")) from exc
        except ExpiredSignatureError as exc:
            raise TokenBackendExpiredToken(_("Token is expired")) from exc
        except InvalidTokenError as exc:
            raise TokenBackendError(_("Token is invalid")) from exc


def backend() -> TokenBackend:
    """The backend every token of this package is signed and verified with: with an HMAC
    algorithm simplejwt's own (nothing changes), else the :class:`KeyedTokenBackend` of the
    key set."""
    if simplejwt_settings.api_settings.ALGORITHM.startswith("HS"):
        return simplejwt_state.token_backend
    found = _state.get("backend")
    if found is None:
        keys = key_set()
        with _lock:
            found = _state.get("backend")
            if found is None:
                found = _state["backend"] = KeyedTokenBackend(keys)
    return found


def _reset() -> None:
    with _lock:
        _state.clear()


on_change(_reset)


class KeyedToken:
    """Mixin for simplejwt token classes: sign and verify with :func:`backend`."""

    @property
    def token_backend(self) -> TokenBackend:
        return backend()

    def get_token_backend(self) -> TokenBackend:
        return backend()


class AccessToken(KeyedToken, simplejwt_tokens.AccessToken):
    """simplejwt's ``AccessToken``, signed and verified with the key set."""


class RefreshToken(KeyedToken, simplejwt_tokens.RefreshToken):
    """simplejwt's ``RefreshToken``, signed and verified with the key set; its
    ``access_token`` is one of ours too."""

    access_token_class = AccessToken


class UntypedToken(KeyedToken, simplejwt_tokens.UntypedToken):
    """simplejwt's ``UntypedToken`` (any token type), verified with the key set."""


_keyed: dict[type, type] = {}


def keyed(token_class: type) -> type:
    """``token_class`` verifying with :func:`backend`: the class itself if it already does
    (one of ours) or brings a backend of its own (it overrides ``token_backend`` or
    ``get_token_backend``), for simplejwt's ``AccessToken``, ``RefreshToken`` and
    ``UntypedToken`` the classes of this module, else a subclass of it with
    :class:`KeyedToken` mixed in (same name, every other method the class's own).

    Why: ``SIMPLE_JWT["AUTH_TOKEN_CLASSES"]`` defaults to simplejwt's ``AccessToken``, whose
    documented ``get_token_backend()`` is simplejwt's backend, which knows one verifying key
    and no ``kid``: tokens of a rotated key would be refused. A subclass is how simplejwt
    documents changing a token class. With HMAC the subclass verifies with simplejwt's own
    backend, exactly as the class would (and skips its per-token import-string look-up).
    """
    found = _keyed.get(token_class)
    if found is None:
        own = simplejwt_tokens.Token
        if issubclass(token_class, KeyedToken) or (
            token_class.token_backend is not own.token_backend
            or token_class.get_token_backend is not own.get_token_backend
        ):
            found = token_class
        else:
            found = type(
                token_class.__name__,
                (KeyedToken, token_class),
                {"__module__": __name__, "__doc__": token_class.__doc__},
            )
        found = _keyed.setdefault(token_class, found)  # one class, even under a race
    return found


# simplejwt's own classes verify as the ones above (documented in docs/python-api.md).
_keyed.update(
    {
        simplejwt_tokens.AccessToken: AccessToken,
        simplejwt_tokens.RefreshToken: RefreshToken,
        simplejwt_tokens.UntypedToken: UntypedToken,
    }
)
