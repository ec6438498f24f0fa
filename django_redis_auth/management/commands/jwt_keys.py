"""``manage.py jwt_keys [--algorithm ES256] [--out DIR]``: a new signing key pair, and the
settings to paste (docs/other-services.md, "Key rotation step by step")."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from django.core.management.base import BaseCommand, CommandError

from django_redis_auth.tokens import signing

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "ES512", "EdDSA")
_CURVES = {"ES256": ec.SECP256R1, "ES384": ec.SECP384R1, "ES512": ec.SECP521R1}


def generate(algorithm: str) -> Any:
    """A new private key for ``algorithm`` (RSA 3072 bits, the NIST curve, or Ed25519)."""
    if algorithm in _CURVES:
        return ec.generate_private_key(_CURVES[algorithm]())
    if algorithm == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=3072)


class Command(BaseCommand):
    help = "Generate a JWT signing key pair and print the settings that use it."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--algorithm", choices=ALGORITHMS, default="ES256")
        parser.add_argument(
            "--out",
            metavar="DIR",
            help="write <kid>.pem (private, mode 0600) and <kid>.pub.pem there instead of "
            "printing the private key",
        )

    def handle(self, *args: Any, algorithm: str, out: str | None, **options: Any) -> None:
        key = generate(algorithm)
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        public = (
            key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        kid = signing.public_jwk(key, algorithm)["kid"]
        w = self.stdout.write
        if out:
            folder = Path(out)
            if not folder.is_dir():
                raise CommandError(f"{out} is not a directory.")
            private_path, public_path = folder / f"{kid}.pem", folder / f"{kid}.pub.pem"
            fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(private)
            public_path.write_text(public)
            w(f"# kid {kid}: {private_path} (keep secret), {public_path}")
            w("from pathlib import Path\n")
            w("SIMPLE_JWT = {")
            w("    # ... lifetimes as before")
            w(f'    "ALGORITHM": "{algorithm}",')
            w(f'    "SIGNING_KEY": Path("{private_path}").read_text(),')
            w(f'    "VERIFYING_KEY": Path("{public_path}").read_text(),')
            w("}")
        else:
            w(f"# kid {kid}. Keep the private key secret (a secrets manager, not git).")
            w("SIMPLE_JWT = {")
            w("    # ... lifetimes as before")
            w(f'    "ALGORITHM": "{algorithm}",')
            w(f'    "SIGNING_KEY": """{private}""",')
            w(f'    "VERIFYING_KEY": """{public}""",')
            w("}")
        w(
            "# Rotating? Put the public key that verifies today into "
            'DJANGO_REDIS_AUTH["JWT_VERIFYING_KEYS"]\n# and keep it there until its last '
            "refresh token has expired (REFRESH_TOKEN_LIFETIME)."
        )
