"""Django settings for the in-process benchmarks (``benchmarks/run.py``).

Real services only: PostgreSQL (``BENCH_DATABASE_URL``, a dedicated database the runner
creates) and Redis (``BENCH_REDIS_URL``, a dedicated db number the runner FLUSHDBs).
Besides our app it installs the alternatives measured side by side: simplejwt's
``token_blacklist`` tables and django-otp's ``EmailDevice``.
"""

import os
from datetime import timedelta

import dj_database_url

from benchmarks.counting import CountingConnection
from benchmarks.environment import DEFAULT_DATABASE_URL, DEFAULT_REDIS_URL

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL)

SECRET_KEY = "benchmark-secret-key-not-for-production-0123456789"
DEBUG = False
USE_TZ = True
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
ROOT_URLCONF = "benchmarks.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_otp",
    "django_otp.plugins.otp_email",
    "django_otp.plugins.otp_totp",
    "django_redis_auth",
    "benchmarks",
]
MIDDLEWARE: list[str] = []
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {},
    }
]
AUTH_USER_MODEL = "django_redis_auth.User"
# The benchmarks create thousands of users; hashing cost is not what is measured.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=None)}

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {
            "CONNECTION_POOL_KWARGS": {"connection_class": CountingConnection},
            "SOCKET_CONNECT_TIMEOUT": 2,
            "SOCKET_TIMEOUT": 5,
        },
    }
}

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "django_redis_auth.authentication.RedisJWTAuthentication",
    ],
}
# Long lifetimes: a full run (bulk-loading a million keys) must not outlive its tokens.
SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(hours=2),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
}
DJANGO_REDIS_AUTH = {
    # Warm for the whole run: the measured path is the cache hit.
    "USER_CACHE_TTL": 3 * 3600,
    "EMAIL_SENDER": "django_redis_auth.codes.senders.send_now",
}

EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "auth@example.com"
# django-otp configured like ours: codes live 10 minutes, resend cooldown 60 s.
OTP_EMAIL_SENDER = "auth@example.com"
OTP_EMAIL_TOKEN_VALIDITY = 600
OTP_EMAIL_COOLDOWN_DURATION = 60

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "loggers": {"django_redis_auth": {"handlers": ["null"], "propagate": False}},
}
