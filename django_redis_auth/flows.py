"""Placeholder: the OTP flows land with the email-code issue."""

from typing import Any


def start_login_challenge(user: Any, request: Any) -> str:
    raise NotImplementedError
