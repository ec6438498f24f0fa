"""Keys for factor secrets at rest: AES-256-GCM encryption of TOTP secrets and the keyed
hash (HMAC-SHA256) of recovery codes, under keys that are never in the database.

The keys come from ``MFA_ENCRYPTION_KEYS`` (a list of secrets: the first encrypts and
hashes new values, every one decrypts and matches, so a key can be rotated in), or, when it
is unset, from ``SECRET_KEY`` and ``SECRET_KEY_FALLBACKS`` (rotated the Django way). Each
configured secret is never used as is: HKDF-SHA256 derives one subkey per use
(encryption, recovery-code hashing, the key's public id) with its own label, so a subkey
reveals neither the secret nor the other subkeys.

A ciphertext names the key that made it (``v1$<key id>$<base64 of nonce + ciphertext>``)
and is bound to what it protects (AES-GCM's associated data, e.g. ``totp:<user pk>``): a
secret copied onto another user's row, or from a pending enrolment into a factor, does not
decrypt. ``manage.py mfa_rekey`` re-encrypts every secret under the first key.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from django_redis_auth.conf import auth_settings

__all__ = [
    "DecryptionFailed",
    "Key",
    "current_key",
    "decrypt",
    "encrypt",
    "key_id_of",
    "keys",
    "recovery_digests",
]

VERSION = "v1"
_LABEL = "django_redis_auth.mfa."
_NONCE_BYTES = 12  # AES-GCM's standard nonce; random per encryption


class DecryptionFailed(Exception):
    """The value was made under a key no longer configured, was tampered with, or belongs
    to another record (its associated data differs)."""


@dataclass(frozen=True)
class Key:
    """One configured secret's subkeys. ``id`` (8 hex digits) names it in ciphertexts and
    recovery-code rows; it is derived, so it says nothing about the secret."""

    id: str
    encryption: bytes
    recovery: bytes


def _derive(secret: bytes, label: str, length: int = 32) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=length, salt=None, info=(_LABEL + label).encode()
    ).derive(secret)


@functools.lru_cache(maxsize=8)
def _keys_for(secrets: tuple[bytes, ...]) -> tuple[Key, ...]:
    return tuple(
        Key(
            id=_derive(secret, "key-id", 4).hex(),
            encryption=_derive(secret, "encryption"),
            recovery=_derive(secret, "recovery-codes"),
        )
        for secret in secrets
    )


def _as_bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)


def keys() -> tuple[Key, ...]:
    """Every configured key, the current one first (derived once per configuration)."""
    configured = auth_settings.MFA_ENCRYPTION_KEYS
    if configured:
        if isinstance(configured, str | bytes):
            raise ImproperlyConfigured(
                "DJANGO_REDIS_AUTH['MFA_ENCRYPTION_KEYS'] must be a list of secrets."
            )
        secrets = tuple(_as_bytes(s) for s in configured)
    else:
        fallbacks = getattr(settings, "SECRET_KEY_FALLBACKS", ())
        secrets = tuple(_as_bytes(s) for s in (settings.SECRET_KEY, *fallbacks))
    if not secrets or not all(secrets):
        raise ImproperlyConfigured("The MFA keys (MFA_ENCRYPTION_KEYS or SECRET_KEY) are empty.")
    return _keys_for(secrets)


def current_key() -> Key:
    return keys()[0]


def encrypt(plaintext: str, context: str) -> str:
    """``plaintext`` encrypted under the current key and bound to ``context``."""
    key = current_key()
    nonce = os.urandom(_NONCE_BYTES)
    sealed = AESGCM(key.encryption).encrypt(nonce, plaintext.encode(), context.encode())
    body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    return f"{VERSION}${key.id}${body}"


def key_id_of(ciphertext: str) -> str | None:
    """The id of the key that made ``ciphertext`` (``None`` if it is not one of ours)."""
    parts = ciphertext.split("$")
    return parts[1] if len(parts) == 3 and parts[0] == VERSION else None


def decrypt(ciphertext: str, context: str) -> str:
    """The plaintext of :func:`encrypt`'s output for the same ``context``, under whichever
    configured key made it. Raises :class:`DecryptionFailed` otherwise."""
    key_id = key_id_of(ciphertext)
    key = next((k for k in keys() if k.id == key_id), None)
    if key is None:
        raise DecryptionFailed(f"no configured MFA key has id {key_id!r}")
    body = ciphertext.split("$")[2]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        return AESGCM(key.encryption).decrypt(nonce, sealed, context.encode()).decode()
    except (InvalidTag, ValueError) as exc:
        raise DecryptionFailed("the value does not decrypt under its key") from exc


def recovery_digest(key: Key, user_pk: object, code: str) -> str:
    """HMAC-SHA256 of a normalized recovery code, bound to its user (hex)."""
    message = f"{user_pk}\x00{code}".encode()
    return hmac.new(key.recovery, message, hashlib.sha256).hexdigest()


def recovery_digests(user_pk: object, code: str) -> list[str]:
    """The code's digest under every configured key: one lookup (``digest IN (...)``)
    finds it whichever key hashed it."""
    return [recovery_digest(key, user_pk, code) for key in keys()]
