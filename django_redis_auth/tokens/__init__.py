"""Tokens and sessions: issuing pairs (:mod:`.issuing`), the claims this package adds
(:mod:`.claims`), the per-request check (:mod:`.validation`, :mod:`.verified`,
:mod:`.revocation`), session families and the device list (:mod:`.families`, :mod:`.devices`).

``from django_redis_auth.tokens import issue_token_pair`` keeps working (the module was
``tokens.py`` before 0.2): the names of :mod:`.issuing` are looked up on first use, so
importing a submodule does not import them all.
"""

from typing import Any

_ISSUING = ("TokenPair", "issue_token_pair", "logout", "parse_refresh", "rotate_refresh_token")


def __getattr__(name: str) -> Any:
    if name in _ISSUING:
        from django_redis_auth.tokens import issuing

        return getattr(issuing, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
