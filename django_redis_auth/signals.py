"""Signals other apps can listen to (audit logs, metrics, security notifications)."""

from django.dispatch import Signal

__all__ = [
    "account_deleted",
    "activity_recorded",
    "code_failed",
    "code_issued",
    "code_verified",
    "email_changed",
    "factor_changed",
    "login_throttled",
    "password_changed",
    "second_factor_changed",
    "session_revoked",
    "social_linked",
    "social_sign_in",
    "social_unlinked",
    "tokens_revoked",
]

# Sent after tokens were revoked. kwargs: user_id, scope ("token" | "session" | "user"),
# reason ("logout", "logout_all", "password_changed", "password_reset", "email_changed",
# "account_deleted", "deactivated", "deleted", "refresh_reuse", "api", "others", "admin",
# "command").
tokens_revoked = Signal()

# One-time codes. kwargs: email, purpose; code_failed adds reason ("invalid" | "too_many_attempts").
code_issued = Signal()
code_verified = Signal()
code_failed = Signal()

# Account self-service (account.py, devices.py). kwargs: user (the user after the change);
# second_factor_changed adds enabled (bool); email_changed adds old_email, new_email;
# session_revoked has user_id, session_id and reason ("api" | "others" | "admin") instead;
# account_deleted has user_id, email and deactivated (bool: the row was kept, inactive).
password_changed = Signal()
second_factor_changed = Signal()
email_changed = Signal()
session_revoked = Signal()
account_deleted = Signal()

# How the user signs in changed (mfa/changes.py). kwargs: user, change ("totp_enabled",
# "totp_disabled", "recovery_codes_regenerated", "passkey_added", "passkey_removed",
# "factors_reset").
factor_changed = Signal()

# An event entered the user's security activity list (activity.py). kwargs: user_id, event
# (activity.Event: type, at, ip, user_agent, session, method). Connect a receiver to keep
# events for longer than ACTIVITY_DAYS (docs/activity.md has one that writes a model).
activity_recorded = Signal()

# Google sign-in (social.py). kwargs: user, provider ("google-oauth2").
# social_sign_in adds created (a new account) and linked (an existing account was linked to
# Google by its verified address in this sign-in); it is sent once Google vouched for the
# user, before the token pair or the second-factor challenge.
social_sign_in = Signal()
social_linked = Signal()
social_unlinked = Signal()

# A password-guessing limit tripped (password_guard.py). kwargs: email (canonical form),
# scope ("account_client": this address from one client, now delayed; "account": this
# address from every client, now needs an emailed code with the password; "client": one
# client IP across addresses, now refused), reason ("delay" | "step_up" | "spraying").
# Sent once when the limit trips, not for every refused attempt; no IP in it.
login_throttled = Signal()
