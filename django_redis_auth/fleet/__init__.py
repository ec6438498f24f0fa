"""Tokens the rest of the fleet can trust: the public keys as a JWK Set (:mod:`.jwks`),
revocation-aware introspection for other services (:mod:`.introspection`, RFC 7662) and
forward-auth for gateways (:mod:`.forward_auth`). The keys themselves are
:mod:`django_redis_auth.tokens.signing`'s; see docs/other-services.md."""
