"""Recent authentication before sensitive changes.

PLACEHOLDER written by the wt-mfa-core branch so its views can call the agreed name; the
wt-mfa-reauth branch owns this module and replaces it (REAUTH_WINDOW, reauth/, the marks in
Redis). Until then every request counts as recent.
"""

from __future__ import annotations

from typing import Any

__all__ = ["require_recent_authentication"]


def require_recent_authentication(request: Any) -> None:
    """Raise ``ReauthenticationRequired`` (403 ``reauthentication_required``, with the
    user's ``methods``) unless the caller signed in or passed ``reauth/`` within
    ``REAUTH_WINDOW``. Placeholder: accepts every request."""
    return None
