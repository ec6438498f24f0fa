"""Passwordless sign-in by emailed code: ``login/code/`` → ``login/code/confirm/``.

The code is one of the package's one-time codes (codes/otp.py): keyed hash in Redis,
``CODE_TTL``, ``CODE_MAX_ATTEMPTS``, the resend cooldown, hourly caps per address (its own
budget, so asking for sign-in codes in someone's name uses up neither their reset codes nor
their password sign-in codes) and per IP, and ``CODE_GUESSES_PER_IP`` on wrong codes.

Enumeration safety: ``login/code/`` answers the same 202 and takes the same steps for every
address; only an account that may sign in this way (:func:`.flows.may_sign_in_by_code`: active,
verified, not bound to the password + emailed step-up) is mailed. Confirming works once: the
code is spent before anything else, so of two parallel confirms one gets a pair.

The code proves the inbox, one factor (``amr: ["otp"]``). An account with an authenticator or
a passkey gets the 202 second step after it, like ``login/``.
"""

from __future__ import annotations

from django_redis_auth.accounts import flows, users
from django_redis_auth.clients import Client
from django_redis_auth.codes import otp
from django_redis_auth.codes.purposes import Purpose
from django_redis_auth.conf import auth_settings
from django_redis_auth.exceptions import InvalidCode, LoginByCodeDisabled
from django_redis_auth.mfa import factors
from django_redis_auth.tokens import issuing as tokens
from django_redis_auth.tokens.claims import Amr

__all__ = ["confirm", "request"]


def _require_enabled() -> None:
    if not auth_settings.LOGIN_BY_CODE:
        raise LoginByCodeDisabled()


def request(email: str, client: Client) -> None:
    """Mail a sign-in code to ``email`` if it may sign in this way (the same steps and the
    same answer otherwise). Raises ``LoginByCodeDisabled`` (404), ``RateLimited`` (429),
    ``AuthUnavailable`` (503)."""
    _require_enabled()
    flows.request_code(email, Purpose.LOGIN_CODE, client)


def confirm(email: str, code: str, client: Client) -> tokens.TokenPair | flows.Challenge:
    """The code → a token pair, or the second-step challenge of an account with an
    authenticator or passkey. Raises ``InvalidCode`` / ``TooManyAttempts`` (400),
    ``RateLimited`` (429), ``LoginByCodeDisabled`` (404), ``AuthUnavailable`` (503)."""
    _require_enabled()
    user = users.find_by_email(email)
    # Spent first, whoever asks: a guess at an address without an account counts like any.
    otp.verify_code(email, Purpose.LOGIN_CODE, code, client_ip=client.ip)
    if user is None or not flows.may_sign_in_by_code(user):
        raise InvalidCode()  # (no code is ever mailed to such an account)
    methods = factors.second_step_methods(user)
    if methods:
        return flows.second_step(user, client, methods, first=[Amr.OTP])
    return tokens.issue_token_pair(user, client, amr=[Amr.OTP], method="email_code")
