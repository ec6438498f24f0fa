"""Key pairs and settings for the fleet tests: asymmetric SIMPLE_JWT configurations."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.conf import settings
from django.test import override_settings

ALGORITHMS = ("RS256", "ES256", "EdDSA")


@functools.cache
def key_pair(algorithm: str, n: int = 0) -> tuple[str, str]:
    """(private PEM, public PEM) for ``algorithm``; ``n`` tells several pairs apart."""
    if algorithm.startswith(("RS", "PS")):
        private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif algorithm == "ES256":
        private = ec.generate_private_key(ec.SECP256R1())
    else:
        private = ed25519.Ed25519PrivateKey.generate()
    private_pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private_pem, public_pem


@contextlib.contextmanager
def signing_with(
    algorithm: str, n: int = 0, *, previous: tuple[Any, ...] = (), verifying: str | None = None
) -> Iterator[tuple[str, str]]:
    """``SIMPLE_JWT`` signing with pair ``n`` of ``algorithm``, and ``previous`` public keys
    still verifying (``JWT_VERIFYING_KEYS``)."""
    private, public = key_pair(algorithm, n)
    jwt_settings = {
        **settings.SIMPLE_JWT,
        "ALGORITHM": algorithm,
        "SIGNING_KEY": private,
        "VERIFYING_KEY": public if verifying is None else verifying,
    }
    auth = {**settings.DJANGO_REDIS_AUTH, "JWT_VERIFYING_KEYS": tuple(previous)}
    with override_settings(SIMPLE_JWT=jwt_settings, DJANGO_REDIS_AUTH=auth):
        yield private, public


@contextlib.contextmanager
def introspection_clients(**clients: str) -> Iterator[None]:
    auth = {**settings.DJANGO_REDIS_AUTH, "INTROSPECTION_CLIENTS": clients}
    with override_settings(DJANGO_REDIS_AUTH=auth):
        yield
