"""Recovery codes: ten single-use codes that stand in for a lost authenticator.

OWASP ASVS 5.0 6.5.2 asks for either at least 112 bits of entropy per code under a standard
hash, or shorter codes under a salted password hash. We take the first way: 24 characters
of Crockford's base32 alphabet (120 bits from ``secrets``), shown in six groups of four, and
stored only as HMAC-SHA256 under a key that is not in the database (``crypto.py``), bound
to the user. So a try costs one hash and one indexed lookup — not ten slow hashes, one per
stored code — and a database dump alone reveals no code and allows no offline test of one.
(120 random bits need no slow hash: there is nothing to brute-force.)

Single use under concurrency: using a code is one ``DELETE ... WHERE user = ? AND digest IN
(...)``; of parallel uses of one code exactly one deletes the row. Regenerating deletes
the whole old set in the same transaction that writes the new one.
"""

from __future__ import annotations

import secrets
from typing import Any

from django_redis_auth.accounts import users
from django_redis_auth.clients import Client
from django_redis_auth.mfa import changes, crypto
from django_redis_auth.mfa.exceptions import FactorRequired
from django_redis_auth.mfa.models import RecoveryCode
from django_redis_auth.tokens.issuing import TokenPair

__all__ = [
    "COUNT",
    "consume",
    "delete_codes",
    "generate_code",
    "normalize",
    "regenerate",
    "remaining",
    "replace_codes",
]

COUNT = 10
LENGTH = 24  # characters; 5 bits each: 120 bits
GROUP = 4
# Crockford's base32, lower case: no i, l, o or u, so nothing reads as another character.
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
# What people type for a character the alphabet leaves out (Crockford's decoding).
_READS_AS = str.maketrans({"i": "1", "l": "1", "o": "0"})
_IGNORED = " -\t\r\n"


def generate_code() -> str:
    """One new code as shown to the user: ``xxxx-xxxx-xxxx-xxxx-xxxx-xxxx``."""
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def normalize(code: str) -> str | None:
    """The code's canonical form (lower case, no separators, Crockford's look-alikes
    mapped), or ``None`` when it cannot be a recovery code."""
    text = "".join(ch for ch in str(code).lower() if ch not in _IGNORED).translate(_READS_AS)
    if len(text) != LENGTH or any(ch not in ALPHABET for ch in text):
        return None
    return text


def _row(user: Any, code: str) -> RecoveryCode:
    key = crypto.current_key()
    digest = crypto.recovery_digest(key, user.pk, normalize(code) or "")
    return RecoveryCode(user_id=user.pk, digest=digest, key_id=key.id)


def replace_codes(user: Any) -> list[str]:
    """A new set of :data:`COUNT` codes for ``user``, every earlier code deleted; the codes
    in plain text, to show once. Call it inside the transaction of the change it is part of."""
    codes = [generate_code() for _ in range(COUNT)]
    with users.atomic():
        RecoveryCode.objects.filter(user_id=user.pk).delete()
        RecoveryCode.objects.bulk_create([_row(user, code) for code in codes])
    return codes


def delete_codes(user: Any) -> None:
    RecoveryCode.objects.filter(user_id=user.pk).delete()


def remaining(user: Any) -> int:
    return RecoveryCode.objects.filter(user_id=user.pk).count()


def consume(user: Any, code: str) -> bool:
    """Use ``code`` up: ``True`` if it was one of the user's unused codes (its row is gone
    now), ``False`` otherwise. One query; atomic under concurrency (see the module)."""
    normalized = normalize(code)
    if normalized is None:
        return False
    deleted, _ = RecoveryCode.objects.filter(
        user_id=user.pk, digest__in=crypto.recovery_digests(user.pk, normalized)
    ).delete()
    return deleted > 0


def regenerate(
    user: Any, *, client: Client | None = None, current_session: Any = None
) -> tuple[list[str], TokenPair]:
    """A new set of codes (the old set dies), as a factor change: notice, other sessions
    ended, a fresh pair. Raises ``FactorRequired`` (409) without a factor to back up."""
    from django_redis_auth.mfa import factors  # (factors imports this module)

    if not factors.of(user).strong:
        raise FactorRequired()
    with users.atomic():
        codes = replace_codes(user)
        pair = changes.factor_changed(
            user, client=client, current_session=current_session, kind="recovery_codes_regenerated"
        )
    return codes, pair
