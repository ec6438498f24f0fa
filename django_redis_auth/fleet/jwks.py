"""The public verifying keys as a JWK Set (RFC 7517 §5), for services that verify our
tokens themselves (``GET .well-known/jwks.json``).

Only public keys can appear: each entry is rebuilt from an allow-list of the public members
of its key type (``signing.PUBLIC_MEMBERS``), so neither an HMAC secret nor the private
half of a key that was configured where a public one belongs can leak. With an HMAC
algorithm (the default ``HS256``) there is nothing to publish and the set is empty: the
secret is shared, and services that hold it verify with it directly.
"""

from __future__ import annotations

from typing import Any

from django_redis_auth.tokens import signing

__all__ = ["jwk_set"]

_ENTRY_MEMBERS = ("kid", "alg", "use")


def jwk_set() -> dict[str, list[dict[str, Any]]]:
    """``{"keys": [...]}``: every key that verifies (the current one first), each with its
    ``kid``, ``alg`` and ``use``; empty with an HMAC algorithm."""
    from rest_framework_simplejwt import settings as simplejwt_settings

    if simplejwt_settings.api_settings.ALGORITHM.startswith("HS"):
        return {"keys": []}
    published = []
    for key in signing.key_set().public_keys:
        jwk = key.jwk or {}
        members = signing.PUBLIC_MEMBERS.get(str(jwk.get("kty")), ())
        published.append({name: jwk[name] for name in (*members, *_ENTRY_MEMBERS)})
    return {"keys": published}
