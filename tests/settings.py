"""Settings for the whole test suite.

``DRA_TEST_BACKEND=fake`` (default): SQLite in memory + fakeredis (with Lua) in process.
``DRA_TEST_BACKEND=real``: the local PostgreSQL and Redis (``DRA_TEST_DATABASE_URL``,
``DRA_TEST_REDIS_URL``). The same tests run against both.
"""

import os
from datetime import timedelta

import django
import fakeredis

from tests.redis_counting import CountingConnection, CountingFakeConnection

BACKEND = os.environ.get("DRA_TEST_BACKEND", "fake")
REAL = BACKEND == "real"

SECRET_KEY = "test-secret-key-not-for-production-0123456789abcdef"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["testserver", "localhost"]
ROOT_URLCONF = "tests.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.admin",
    "rest_framework",
    "social_django",  # Google sign-in (the [google] extra is part of the test extra)
    "django_redis_auth",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.request",
            ]
        },
    }
]
AUTH_USER_MODEL = "django_redis_auth.User"
# Fast hashing: tests create many users. Real projects keep Django's default.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

if REAL:
    import dj_database_url

    DATABASES = {
        "default": dj_database_url.parse(
            os.environ.get("DRA_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dra")
        )
    }
    REDIS_URL = os.environ.get("DRA_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
    CONNECTION_POOL_KWARGS = {"connection_class": CountingConnection}
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    REDIS_URL = "redis://fakeredis:6379/0"
    FAKE_REDIS_SERVER = fakeredis.FakeServer()
    CONNECTION_POOL_KWARGS = {
        "connection_class": CountingFakeConnection,
        "server": FAKE_REDIS_SERVER,
    }

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {
            "CONNECTION_POOL_KWARGS": CONNECTION_POOL_KWARGS,
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
        },
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "django_redis_auth.authentication.RedisJWTAuthentication",
    ],
}
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
}
DJANGO_REDIS_AUTH = {
    # Synchronous delivery so tests read mail.outbox right after the request.
    "EMAIL_SENDER": "django_redis_auth.codes.senders.send_now",
    # The async path on the same Redis, counting round trips (tests/redis_counting.py).
    "ASYNC_REDIS_CLIENT_FACTORY": "tests.redis_counting.async_client",
}
if django.VERSION >= (6, 1):
    # Django 6.1 deprecates EMAIL_BACKEND for MAILERS (and refuses both at once).
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
else:
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "auth@example.com"
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "loggers": {"django_redis_auth": {"handlers": ["null"], "propagate": True}},
}

LANGUAGES = [("en", "English"), ("de", "German"), ("fr", "French"), ("es", "Spanish")]
