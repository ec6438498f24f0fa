"""A software WebAuthn authenticator for the tests: EC P-256 keys (cryptography), CBOR
(cbor2), "none" attestation. It answers the server's ``{"publicKey": ...}`` options with
what a browser's ``credential.toJSON()`` sends, and can be told to lie (another origin, RP
id, no user verification, a sign count that goes backwards)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import struct
from dataclasses import dataclass, field
from typing import Any

import cbor2
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

ORIGIN = "http://localhost:8000"
RP_ID = "localhost"

UP, UV, BE, BS, AT = 0x01, 0x04, 0x08, 0x10, 0x40


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Credential:
    """One credential the authenticator holds."""

    id: bytes
    key: ec.EllipticCurvePrivateKey
    rp_id: str
    user_handle: bytes
    sign_count: int = 0

    def cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor2.dumps(
            {
                1: 2,  # kty: EC2
                3: -7,  # alg: ES256
                -1: 1,  # crv: P-256
                -2: numbers.x.to_bytes(32, "big"),
                -3: numbers.y.to_bytes(32, "big"),
            }
        )


@dataclass
class SoftAuthenticator:
    """``counting``: the sign count grows by one per assertion (0 forever otherwise, as
    synced passkeys do); ``synced``: backup eligible and backed up (amr ``swk``)."""

    counting: bool = True
    synced: bool = False
    credentials: list[Credential] = field(default_factory=list)

    def _flags(self, *, uv: bool, attested: bool = False) -> int:
        flags = UP | (UV if uv else 0)
        if self.synced:
            flags |= BE | BS
        return flags | (AT if attested else 0)

    # --- navigator.credentials.create() ----------------------------------------------------

    def create(
        self,
        options: dict[str, Any],
        *,
        origin: str = ORIGIN,
        rp_id: str | None = None,
        uv: bool = True,
    ) -> dict[str, Any]:
        public_key = options["publicKey"]
        rp = rp_id or public_key["rp"]["id"]
        excluded = {unb64url(c["id"]) for c in public_key.get("excludeCredentials", [])}
        assert not excluded & {c.id for c in self.credentials}, "InvalidStateError"
        credential = Credential(
            id=os.urandom(16),
            key=ec.generate_private_key(ec.SECP256R1()),
            rp_id=rp,
            user_handle=unb64url(public_key["user"]["id"]),
        )
        client_data = _client_data("webauthn.create", public_key["challenge"], origin)
        auth_data = (
            hashlib.sha256(rp.encode()).digest()
            + bytes([self._flags(uv=uv, attested=True)])
            + struct.pack(">I", 0)
            + b"\0" * 16  # AAGUID: none
            + struct.pack(">H", len(credential.id))
            + credential.id
            + credential.cose_key()
        )
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        self.credentials.append(credential)
        return _as_json(
            credential,
            {
                "clientDataJSON": b64url(client_data),
                "attestationObject": b64url(attestation),
                "transports": ["internal", "hybrid"],
            },
        )

    # --- navigator.credentials.get() -------------------------------------------------------

    def get(
        self,
        options: dict[str, Any],
        *,
        origin: str = ORIGIN,
        rp_id: str | None = None,
        uv: bool = True,
        credential: Credential | None = None,
        sign_count: int | None = None,
    ) -> dict[str, Any]:
        public_key = options["publicKey"]
        rp = rp_id or public_key.get("rpId") or RP_ID
        if credential is None:
            allowed = {unb64url(c["id"]) for c in public_key.get("allowCredentials", [])}
            usable = [c for c in self.credentials if not allowed or c.id in allowed]
            assert usable, "NotAllowedError: no credential for these options"
            credential = usable[0]
        if sign_count is not None:
            credential.sign_count = sign_count
        elif self.counting:
            credential.sign_count += 1
        client_data = _client_data("webauthn.get", public_key["challenge"], origin)
        auth_data = (
            hashlib.sha256(rp.encode()).digest()
            + bytes([self._flags(uv=uv)])
            + struct.pack(">I", credential.sign_count)
        )
        signature = credential.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return _as_json(
            credential,
            {
                "clientDataJSON": b64url(client_data),
                "authenticatorData": b64url(auth_data),
                "signature": b64url(signature),
                "userHandle": b64url(credential.user_handle),
            },
        )


def _client_data(kind: str, challenge: str, origin: str) -> bytes:
    return json.dumps(
        {"type": kind, "challenge": challenge, "origin": origin, "crossOrigin": False}
    ).encode()


def _as_json(credential: Credential, response: dict[str, Any]) -> dict[str, Any]:
    """A ``PublicKeyCredential`` as the browser's ``toJSON()`` gives it."""
    return {
        "id": b64url(credential.id),
        "rawId": b64url(credential.id),
        "type": "public-key",
        "authenticatorAttachment": "platform",
        "clientExtensionResults": {},
        "response": response,
    }
