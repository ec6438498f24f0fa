"""System checks for unsafe or inconsistent configuration (``manage.py check``).

IDs are stable; each message has a hint saying how to fix it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, Warning
from django.core.checks import register as register_check
from django.core.exceptions import ImproperlyConfigured

from django_redis_auth.conf import auth_settings

AUTH_CLASS = "django_redis_auth.authentication.RedisJWTAuthentication"


class Messages:
    SETTINGS_INVALID = "DJANGO_REDIS_AUTH is invalid: {}"
    NOT_REDIS = "Cache alias {!r} is not a django-redis cache."
    IGNORE_EXCEPTIONS = "Cache alias {!r} swallows Redis errors (IGNORE_EXCEPTIONS)."
    FAIL_OPEN = "FAIL_OPEN is on: while Redis is down, revoked tokens are accepted."
    AUTH_CLASS_MISSING = "RedisJWTAuthentication is not in DEFAULT_AUTHENTICATION_CLASSES."
    PLAIN_JWT_AUTH = "simplejwt's JWTAuthentication is in DEFAULT_AUTHENTICATION_CLASSES."
    ASYNC_AUTH_DEFAULT = "AsyncRedisJWTAuthentication is in DEFAULT_AUTHENTICATION_CLASSES."
    LIFETIMES = "ACCESS_TOKEN_LIFETIME is longer than REFRESH_TOKEN_LIFETIME."
    BLACKLIST_APP = "rest_framework_simplejwt.token_blacklist is installed."
    REVOKE_TOKEN_CLAIM = "SIMPLE_JWT['CHECK_REVOKE_TOKEN'] has no effect with django_redis_auth."
    EVICTION = (
        "Redis maxmemory-policy is {!r}: at maxmemory Redis evicts this app's keys{}. Rate "
        "limits and resend cooldowns are then reset (a capped client or address gets codes "
        "again), pending codes and second-factor logins vanish, and live sessions are signed "
        "out (revocation stays safe: a missing key refuses the token)."
    )
    GOOGLE_EXTRA_MISSING = (
        "Google sign-in is configured (SOCIAL_AUTH_GOOGLE_OAUTH2_KEY or GOOGLE_EXTRA_AUDIENCES) "
        "but its packages are not installed: google/* answers 404 provider_not_configured."
    )
    GOOGLE_APP_MISSING = "Google sign-in is configured but 'social_django' is not installed."
    GOOGLE_NO_REDIRECTS = "GOOGLE_REDIRECT_ALLOWED is empty: google/start/ refuses every next."
    PASSKEY_RP = "PASSKEYS is on but PASSKEY_RP_ID is {}."
    PASSKEY_ORIGINS = "PASSKEYS is on but PASSKEY_ORIGINS {}."


class Hints:
    EVICTION = (
        "Set maxmemory-policy noeviction (redis.conf, or CONFIG SET): at maxmemory Redis then "
        "refuses writes and the app answers 503 auth_unavailable with nothing half-written. "
        "Size maxmemory for the live sessions and codes (docs/deployment.md)."
    )
    SETTINGS_INVALID = "Fix the DJANGO_REDIS_AUTH dict in settings.py."
    NOT_REDIS = (
        "Point CACHES[alias]['BACKEND'] at 'django_redis.cache.RedisCache', set "
        "DJANGO_REDIS_AUTH['CACHE_ALIAS'] to such an alias, or set REDIS_CLIENT_FACTORY."
    )
    IGNORE_EXCEPTIONS = (
        "Remove IGNORE_EXCEPTIONS from that alias (and DJANGO_REDIS_IGNORE_EXCEPTIONS), or give "
        "django_redis_auth its own alias without it: a swallowed error reads as 'not revoked'."
    )
    FAIL_OPEN = "Set DJANGO_REDIS_AUTH['FAIL_OPEN'] = False unless availability beats revocation."
    AUTH_CLASS_MISSING = f"Add {AUTH_CLASS!r} to REST_FRAMEWORK['DEFAULT_AUTHENTICATION_CLASSES']."
    ASYNC_AUTH_DEFAULT = (
        "DRF's synchronous views (the package's own endpoints among them) do not await an "
        "authenticator: keep RedisJWTAuthentication there and set AsyncRedisJWTAuthentication "
        "on your adrf async views (authentication_classes)."
    )
    PLAIN_JWT_AUTH = (
        "Replace it with RedisJWTAuthentication: the plain class accepts revoked tokens."
    )
    LIFETIMES = "Make SIMPLE_JWT['ACCESS_TOKEN_LIFETIME'] <= SIMPLE_JWT['REFRESH_TOKEN_LIFETIME']."
    BLACKLIST_APP = (
        "Remove it from INSTALLED_APPS: django_redis_auth revokes in Redis, and the blacklist "
        "app would add database writes to every token issue."
    )
    REVOKE_TOKEN_CLAIM = (
        "Remove it: a password change revokes every session of the user through model signals "
        "without reading the password hash on each request, and the setting only puts a hash "
        "of the password hash into every token. Where a password is written without save() "
        "(QuerySet.update, raw SQL), call django_redis_auth.tokens.revocation.revoke_user(user)."
    )
    GOOGLE_EXTRA_MISSING = (
        "pip install 'django-redis-auth[google]' (social-auth-app-django, google-auth)."
    )
    GOOGLE_APP_MISSING = (
        "Add 'social_django' to INSTALLED_APPS and run migrate (it stores the Google links)."
    )
    GOOGLE_NO_REDIRECTS = (
        "List your front-end's URLs in DJANGO_REDIS_AUTH['GOOGLE_REDIRECT_ALLOWED'] "
        "(e.g. 'https://app.example.com/'); see docs/google.md."
    )
    PASSKEY_RP = (
        "Set DJANGO_REDIS_AUTH['PASSKEY_RP_ID'] to your registrable domain (e.g. "
        "'example.com'; browsers refuse an IP address), or PASSKEYS = False."
    )
    PASSKEY_ORIGINS = (
        "List every origin passkeys are used from in DJANGO_REDIS_AUTH['PASSKEY_ORIGINS']: "
        "'https://app.example.com' (scheme, host, port) or 'android:apk-key-hash:<hash>'."
    )


def _settings_error() -> list[Error]:
    try:
        for name in auth_settings.defaults:
            getattr(auth_settings, name)
    except ImproperlyConfigured as exc:
        return [
            Error(
                Messages.SETTINGS_INVALID.format(exc),
                hint=Hints.SETTINGS_INVALID,
                id="django_redis_auth.E001",
            )
        ]
    return []


def check_settings(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    return _settings_error()


def check_redis_alias(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if _settings_error():
        return []
    errors: list[Any] = []
    alias = auth_settings.CACHE_ALIAS
    config = settings.CACHES.get(alias)
    if auth_settings.REDIS_CLIENT_FACTORY is None and (
        config is None or not str(config.get("BACKEND", "")).startswith("django_redis.")
    ):
        errors.append(
            Error(
                Messages.NOT_REDIS.format(alias), hint=Hints.NOT_REDIS, id="django_redis_auth.E002"
            )
        )
    if config is not None and (
        (config.get("OPTIONS") or {}).get("IGNORE_EXCEPTIONS")
        or getattr(settings, "DJANGO_REDIS_IGNORE_EXCEPTIONS", False)
    ):
        errors.append(
            Error(
                Messages.IGNORE_EXCEPTIONS.format(alias),
                hint=Hints.IGNORE_EXCEPTIONS,
                id="django_redis_auth.E003",
            )
        )
    return errors


def check_fail_open(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    if _settings_error() or not auth_settings.FAIL_OPEN:
        return []
    return [Warning(Messages.FAIL_OPEN, hint=Hints.FAIL_OPEN, id="django_redis_auth.W001")]


def check_drf(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    classes = list(
        (getattr(settings, "REST_FRAMEWORK", {}) or {}).get("DEFAULT_AUTHENTICATION_CLASSES", [])
    )
    warnings: list[Any] = []
    if AUTH_CLASS not in classes:
        warnings.append(
            Warning(
                Messages.AUTH_CLASS_MISSING,
                hint=Hints.AUTH_CLASS_MISSING,
                id="django_redis_auth.W002",
            )
        )
    if "rest_framework_simplejwt.authentication.JWTAuthentication" in classes:
        warnings.append(
            Warning(Messages.PLAIN_JWT_AUTH, hint=Hints.PLAIN_JWT_AUTH, id="django_redis_auth.W003")
        )
    if "django_redis_auth.async_auth.AsyncRedisJWTAuthentication" in classes:
        warnings.append(
            Warning(
                Messages.ASYNC_AUTH_DEFAULT,
                hint=Hints.ASYNC_AUTH_DEFAULT,
                id="django_redis_auth.W006",
            )
        )
    return warnings


def check_simplejwt(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    from rest_framework_simplejwt.settings import api_settings as jwt_settings

    errors: list[Any] = []
    if jwt_settings.ACCESS_TOKEN_LIFETIME > jwt_settings.REFRESH_TOKEN_LIFETIME:
        errors.append(Error(Messages.LIFETIMES, hint=Hints.LIFETIMES, id="django_redis_auth.E004"))
    if "rest_framework_simplejwt.token_blacklist" in settings.INSTALLED_APPS:
        errors.append(
            Warning(Messages.BLACKLIST_APP, hint=Hints.BLACKLIST_APP, id="django_redis_auth.W004")
        )
    if getattr(jwt_settings, "CHECK_REVOKE_TOKEN", False):
        errors.append(
            Warning(
                Messages.REVOKE_TOKEN_CLAIM,
                hint=Hints.REVOKE_TOKEN_CLAIM,
                id="django_redis_auth.W005",
            )
        )
    return errors


def maxmemory_policy() -> str | None:
    """The Redis server's ``maxmemory-policy``: ``CONFIG GET``, else ``INFO memory`` (managed
    Redis often disables CONFIG), else ``None`` (neither allowed, or Redis unreachable)."""
    from django_redis_auth import store

    try:
        client = store.get_client()
    except Exception:
        return None
    try:
        value = client.config_get("maxmemory-policy").get("maxmemory-policy")
    except Exception:
        try:
            value = client.info("memory").get("maxmemory_policy")
        except Exception:
            return None
    return store.decode(value) if isinstance(value, bytes | str) else None


def check_eviction(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Deploy check (it asks the configured Redis): warn on any evicting policy."""
    if _settings_error():
        return []
    policy = maxmemory_policy()
    if policy is None or not policy.startswith(("allkeys-", "volatile-")):
        return []
    # Every key of the app has a TTL, so volatile-* evicts them exactly as allkeys-* does.
    scope = "" if policy.startswith("allkeys-") else " (every one of them has a TTL)"
    return [
        Warning(
            Messages.EVICTION.format(policy, scope),
            hint=Hints.EVICTION,
            id="django_redis_auth.W007",
        )
    ]


def check_google(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    from django_redis_auth.google import service as social

    if _settings_error() or not social.audiences():
        return []
    if not social.installed():
        return [
            Error(
                Messages.GOOGLE_EXTRA_MISSING,
                hint=Hints.GOOGLE_EXTRA_MISSING,
                id="django_redis_auth.E010",
            )
        ]
    problems: list[Any] = []
    if "social_django" not in settings.INSTALLED_APPS and not any(
        str(app).startswith("social_django.") for app in settings.INSTALLED_APPS
    ):
        problems.append(
            Error(
                Messages.GOOGLE_APP_MISSING,
                hint=Hints.GOOGLE_APP_MISSING,
                id="django_redis_auth.E011",
            )
        )
    if social.client_secret() and not auth_settings.GOOGLE_REDIRECT_ALLOWED:
        problems.append(
            Warning(
                Messages.GOOGLE_NO_REDIRECTS,
                hint=Hints.GOOGLE_NO_REDIRECTS,
                id="django_redis_auth.W010",
            )
        )
    return problems


def check_passkeys(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """E030 / E031: passkeys on without a usable relying party id or origins."""
    import ipaddress

    if _settings_error() or not auth_settings.PASSKEYS:
        return []
    problems: list[Any] = []
    rp_id = str(auth_settings.PASSKEY_RP_ID or "")
    try:
        ipaddress.ip_address(rp_id.strip("[]"))
        rp_problem = "an IP address (browsers refuse one)"
    except ValueError:
        rp_problem = "" if rp_id and "/" not in rp_id and ":" not in rp_id else "not a domain"
    if not rp_id:
        rp_problem = "empty"
    if rp_problem:
        problems.append(
            Error(
                Messages.PASSKEY_RP.format(rp_problem),
                hint=Hints.PASSKEY_RP,
                id="django_redis_auth.E030",
            )
        )
    origins = [str(o) for o in auth_settings.PASSKEY_ORIGINS]
    bad = [
        o
        for o in origins
        if not o.startswith(("https://", "http://", "android:apk-key-hash:")) or o.endswith("/")
    ]
    if not origins or bad:
        problems.append(
            Error(
                Messages.PASSKEY_ORIGINS.format(
                    "is empty" if not origins else f"has entries that are no origin: {bad}"
                ),
                hint=Hints.PASSKEY_ORIGINS,
                id="django_redis_auth.E031",
            )
        )
    return problems


def check_adoption(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """Mail delivery and user-model fields (W020-W024, in adoption_checks.py)."""
    if _settings_error():
        return []
    from django_redis_auth import adoption_checks

    return adoption_checks.check_email_delivery() + adoption_checks.check_user_model()


def register() -> None:
    for check in (check_settings, check_redis_alias, check_fail_open, check_simplejwt):
        register_check(check, Tags.security)
    register_check(check_drf, Tags.security)
    register_check(check_eviction, Tags.security, deploy=True)
    register_check(check_google, Tags.security)
    register_check(check_passkeys, Tags.security)
    from django_redis_auth.fleet.checks import check_key_set  # E050-E052

    register_check(check_key_set, Tags.security)
    register_check(check_adoption)
