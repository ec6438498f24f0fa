"""System checks of the key set (``manage.py check``): a configuration whose tokens could
not be verified — by this server, or by other services from the JWK Set — is an error at
start-up rather than a 401 for every user. Registered by ``django_redis_auth.checks``."""

from __future__ import annotations

import time
from typing import Any

from django.core.checks import Error
from django.core.exceptions import ImproperlyConfigured


class Messages:
    UNVERIFIABLE = (
        "Tokens signed with SIMPLE_JWT['SIGNING_KEY'] do not verify with the key set "
        "(VERIFYING_KEY is not the public half of SIGNING_KEY): every token would be refused."
    )
    NO_VERIFYING_KEY = (
        "SIMPLE_JWT['ALGORITHM'] is {!r} but SIMPLE_JWT['VERIFYING_KEY'] is empty: simplejwt's "
        "own classes and views could not verify any token."
    )
    KEYS_INVALID = "The JWT key set cannot be loaded: {}"


class Hints:
    UNVERIFIABLE = (
        "Set SIMPLE_JWT['VERIFYING_KEY'] to the public key of SIGNING_KEY (`manage.py "
        "jwt_keys` prints a matching pair); a previous public key goes in "
        "DJANGO_REDIS_AUTH['JWT_VERIFYING_KEYS']."
    )
    NO_VERIFYING_KEY = "Set SIMPLE_JWT['VERIFYING_KEY'] to the public key of SIGNING_KEY."
    KEYS_INVALID = (
        "Fix SIMPLE_JWT's SIGNING_KEY / VERIFYING_KEY or DJANGO_REDIS_AUTH['JWT_VERIFYING_KEYS'] "
        "(PEM strings; see docs/other-services.md)."
    )


def check_key_set(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    from rest_framework_simplejwt import settings as simplejwt_settings

    from django_redis_auth.checks import _settings_error
    from django_redis_auth.tokens import signing

    if _settings_error():
        return []  # E001 says it
    algorithm = simplejwt_settings.api_settings.ALGORITHM
    try:
        signing.build_key_set()
        backend = signing.backend()
        raw = backend.encode({"probe": True, "exp": int(time.time()) + 60})
        backend.decode(raw)
    except ImproperlyConfigured as exc:
        return [
            Error(
                Messages.KEYS_INVALID.format(exc),
                hint=Hints.KEYS_INVALID,
                id="django_redis_auth.E052",
            )
        ]
    except Exception:
        return [Error(Messages.UNVERIFIABLE, hint=Hints.UNVERIFIABLE, id="django_redis_auth.E050")]
    if not algorithm.startswith("HS") and not simplejwt_settings.api_settings.VERIFYING_KEY:
        return [
            Error(
                Messages.NO_VERIFYING_KEY.format(algorithm),
                hint=Hints.NO_VERIFYING_KEY,
                id="django_redis_auth.E051",
            )
        ]
    return []
