"""What every factor change does: a notice to the account's address, every other session
ended, and a fresh pair for the caller.

PLACEHOLDER written by the wt-mfa-core branch so its flows can call the agreed name; the
wt-mfa-reauth branch owns this module and replaces it (the notice mail, ending only the
*other* sessions, trusted devices dropped).
"""

from __future__ import annotations

from typing import Any

from django_redis_auth.clients import Client
from django_redis_auth.tokens import issuing, revocation

__all__ = ["factor_changed"]


def factor_changed(
    user: Any, *, client: Client | None, current_session: Any, kind: str
) -> issuing.TokenPair:
    """``kind`` names the change (``totp_enabled``, ``totp_disabled``,
    ``recovery_codes_regenerated``); ``current_session`` is the caller's access token.
    Placeholder: ends every session of the user and returns a fresh pair."""
    revocation.revoke_user(user, reason=kind)
    return issuing.issue_token_pair(user, client)
