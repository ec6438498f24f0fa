"""Settings of the django-redis-auth example project, read from the environment.

Zero setup by default: SQLite in ``example_project/db.sqlite3`` and an in-process Redis
stand-in (fakeredis). Real services when the environment says so::

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/auth_demo \\
    REDIS_URL=redis://127.0.0.1:6379/0 python example_project/manage.py runserver

==========================  ====================================  ==========================
variable                    default                               meaning
==========================  ====================================  ==========================
``DATABASE_URL``            SQLite file in ``example_project/``   any dj-database-url URL
``REDIS_URL``               unset: in-process fakeredis           e.g. redis://host:6379/0
``SECRET_KEY``              development key (refused without      Django secret; also keys
                            DEBUG)                                the OTP HMAC
``DEBUG``                   ``1``                                 ``0`` in production
``ALLOWED_HOSTS``           ``localhost,127.0.0.1``               comma separated
``EMAIL_BACKEND``           DEBUG: the development mailbox        any Django email backend
                            (``demo.mailbox``); else console
``EMAIL_FILE_PATH``         unset (mailbox: example_project/      directory for the
                            mailbox/)                             file-based backends
``EMAIL_HOST``,             ``localhost``, ``25``                 SMTP server (SMTP backend)
``EMAIL_PORT``
``EMAIL_HOST_USER``,        unset                                 SMTP credentials
``EMAIL_HOST_PASSWORD``
``EMAIL_USE_TLS``,          ``0``                                 STARTTLS / implicit TLS
``EMAIL_USE_SSL``                                                 (not both)
``EMAIL_TIMEOUT``           ``10``                                seconds per SMTP
                                                                  connection
``GOOGLE_OAUTH2_KEY``,      unset: Google sign-in disabled        the web OAuth client
``GOOGLE_OAUTH2_SECRET``                                          (docs/google.md)
``GOOGLE_OAUTH2_EXTRA_``    unset                                 comma separated iOS /
``AUDIENCES``                                                     Android client ids
``GOOGLE_REDIRECT_ALLOWED`` ``/`` when a key is set               comma separated URLs or
                                                                  paths google/start/ may
                                                                  return to
``TRUSTED_PROXIES``         ``0``: forwarding headers ignored     reverse proxies in front
                                                                  that append to the header
``FORWARDED_HEADER``        ``X-Forwarded-For``                   or ``Forwarded`` (RFC 7239)
``INTROSPECTION_CLIENTS``   unset: token/introspect/ is 404       ``id:secret`` pairs, comma
                                                                  separated (HTTP Basic)
``REAUTH_WINDOW``           ``300``                               seconds a sign-in counts
                                                                  as recent (reauth/)
``JWT_ALGORITHM``,          ``HS256`` with SECRET_KEY             RS256 / ES256 / EdDSA: the
``JWT_SIGNING_KEY_FILE``,                                         private PEM; the public
``JWT_VERIFYING_KEY_FILES``                                       PEMs (current first)
==========================  ====================================  ==========================
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

import django_redis_auth

BASE_DIR = Path(__file__).resolve().parent.parent  # example_project/


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    if value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if value.strip().lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1 or 0).")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# --- Core -----------------------------------------------------------------------------------

DEBUG = env_bool("DEBUG", True)

# Only ever used with DEBUG on: the check below refuses it otherwise.
DEVELOPMENT_SECRET_KEY = "django-insecure-django-redis-auth-example-project-development-key"
SECRET_KEY = os.environ.get("SECRET_KEY") or DEVELOPMENT_SECRET_KEY
if not DEBUG and SECRET_KEY == DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured(
        "SECRET_KEY must be set when DEBUG is off: the development key is public, and it "
        "also signs the JWTs and keys the one-time-code HMAC."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "social_django",  # Google sign-in: the links between users and Google accounts
    "drf_spectacular",  # OpenAPI schema at /api/schema/
    "drf_spectacular_sidecar",  # Swagger UI's files, served from here (no CDN): /api/docs/
    "django_redis_auth",
    "demo",  # the demo page, the development mailbox and the demo_user command
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # detail messages and emails in the language of Accept-Language (codes never change).
    "django.middleware.locale.LocaleMiddleware",
    # CommonMiddleware whose APPEND_SLASH redirect keeps a POST a POST (308).
    "demo.middleware.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "demo.urls"
WSGI_APPLICATION = "demo.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database: users live here (Postgres in production) -------------------------------------

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=0 if DEBUG else 600,
        conn_health_checks=not DEBUG,
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "django_redis_auth.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Redis: codes, revocation state and the user cache --------------------------------------

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    REDIS_CONNECTION_POOL_KWARGS: dict[str, object] = {}
else:
    if not DEBUG:
        # An in-process stand-in is per process: a logout on one worker would not reach the
        # others, which breaks "revocation is immediate" in any multi-process deployment.
        raise ImproperlyConfigured("REDIS_URL must be set when DEBUG is off.")
    import fakeredis

    REDIS_URL = "redis://fakeredis:6379/0"  # host is never contacted
    REDIS_CONNECTION_POOL_KWARGS = {
        "connection_class": fakeredis.FakeRedisConnection,
        "server": fakeredis.FakeServer(),  # one in-memory server shared by this process
    }

CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {
            # Bounded waits: with Redis unreachable, authenticated requests get a prompt 503
            # auth_unavailable instead of hanging a worker.
            "SOCKET_CONNECT_TIMEOUT": 1,
            "SOCKET_TIMEOUT": 1,
            "CONNECTION_POOL_KWARGS": REDIS_CONNECTION_POOL_KWARGS,
            # Never IGNORE_EXCEPTIONS here: a swallowed error would read as "not revoked"
            # (system check django_redis_auth.E003).
        },
    }
}

# --- REST framework, simplejwt, django-redis-auth -------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "django_redis_auth.authentication.RedisJWTAuthentication",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}

# OpenAPI (pip install "django-redis-auth[openapi]"); the package's views describe themselves.
SPECTACULAR_SETTINGS = {
    "TITLE": "django-redis-auth example API",
    "DESCRIPTION": "Email codes, JWT revocation and sessions kept in Redis. Every error is "
    '`{"detail", "code"}`; the codes of each status are listed on each operation.',
    "VERSION": django_redis_auth.__version__,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

SIMPLE_JWT = {
    # Lifetimes of the token pair; revocation records expire with them.
    "ACCESS_TOKEN_LIFETIME": timedelta(minutes=5),
    "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
    # SIGNING_KEY defaults to SECRET_KEY (HS256); asymmetric keys below.
}

# Asymmetric signing, so other services verify tokens from /.well-known/jwks.json
# (docs/other-services.md; `manage.py jwt_keys --out DIR` makes a pair): JWT_ALGORITHM
# (RS256, ES256, EdDSA), JWT_SIGNING_KEY_FILE (the private PEM) and JWT_VERIFYING_KEY_FILES
# (comma separated public PEMs: the current key's first, then the previous ones that still
# verify during a rotation).
JWT_ALGORITHM = os.environ.get("JWT_ALGORITHM", "").strip() or "HS256"
JWT_PREVIOUS_KEYS: tuple[str, ...] = ()
if not JWT_ALGORITHM.startswith("HS"):
    _signing_file = os.environ.get("JWT_SIGNING_KEY_FILE", "").strip()
    _verifying_files = env_list("JWT_VERIFYING_KEY_FILES", "")
    if not _signing_file or not _verifying_files:
        raise ImproperlyConfigured(
            f"JWT_ALGORITHM={JWT_ALGORITHM} needs JWT_SIGNING_KEY_FILE and JWT_VERIFYING_KEY_FILES."
        )
    _verifying = [Path(f).read_text() for f in _verifying_files]
    SIMPLE_JWT.update(
        ALGORITHM=JWT_ALGORITHM,
        SIGNING_KEY=Path(_signing_file).read_text(),
        VERIFYING_KEY=_verifying[0],
    )
    JWT_PREVIOUS_KEYS = tuple(_verifying[1:])

# Only what this project decides; every key and its default: docs/settings.md.
DJANGO_REDIS_AUTH = {
    # Behind gunicorn + nginx (one proxy that appends X-Forwarded-For): TRUSTED_PROXIES=1.
    "TRUSTED_PROXIES": env_int("TRUSTED_PROXIES", 0),
    "FORWARDED_HEADER": os.environ.get("FORWARDED_HEADER", "X-Forwarded-For"),
    # Google sign-in (docs/google.md); the web client is SOCIAL_AUTH_GOOGLE_OAUTH2_KEY below.
    # iOS / Android client ids an ID token may be issued to.
    "GOOGLE_EXTRA_AUDIENCES": tuple(env_list("GOOGLE_OAUTH2_EXTRA_AUDIENCES", "")),
    # Passkeys (docs/passkeys.md): browsers refuse an IP address as RP id, so the demo's
    # passkeys work on http://localhost:8000. Origins: comma separated, web or
    # android:apk-key-hash:<hash>.
    "PASSKEY_RP_ID": os.environ.get("PASSKEY_RP_ID", "localhost"),
    "PASSKEY_ORIGINS": tuple(env_list("PASSKEY_ORIGINS", "http://localhost:8000")),
}
if os.environ.get("REAUTH_WINDOW"):
    # Seconds a sign-in counts as recent for 2fa/ changes (try the reauth prompt with 5).
    DJANGO_REDIS_AUTH["REAUTH_WINDOW"] = env_int("REAUTH_WINDOW", 300)
if JWT_PREVIOUS_KEYS:
    DJANGO_REDIS_AUTH["JWT_VERIFYING_KEYS"] = JWT_PREVIOUS_KEYS
# "id:secret,id2:secret2" (HTTP Basic credentials of token/introspect/'s clients).
_introspection_clients = {}
for _pair in env_list("INTROSPECTION_CLIENTS", ""):
    _client_id, _sep, _client_secret = _pair.partition(":")
    if not (_sep and _client_id and _client_secret):
        raise ImproperlyConfigured(
            "INTROSPECTION_CLIENTS must be id:secret pairs, comma separated."
        )
    _introspection_clients[_client_id] = _client_secret
if _introspection_clients:
    DJANGO_REDIS_AUTH["INTROSPECTION_CLIENTS"] = _introspection_clients

# --- Email ----------------------------------------------------------------------------------

# With DEBUG on, mail goes to the development mailbox (demo/mailbox.py): the last
# MAILBOX_SIZE messages as files in MAILBOX_DIR, shown at /dev/mailbox/ and on the demo page.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND") or (
    "demo.mailbox.MailboxBackend" if DEBUG else "django.core.mail.backends.console.EmailBackend"
)
if os.environ.get("EMAIL_FILE_PATH"):
    EMAIL_FILE_PATH = os.environ["EMAIL_FILE_PATH"]
# SMTP (EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("Set EMAIL_USE_TLS or EMAIL_USE_SSL, not both.")
# Bounded: an SMTP peer that accepts and never answers must not hold a mail thread forever.
EMAIL_TIMEOUT = float(os.environ.get("EMAIL_TIMEOUT", "10"))
MAILBOX_DIR = Path(os.environ.get("EMAIL_FILE_PATH") or BASE_DIR / "mailbox")
MAILBOX_SIZE = 100
DEFAULT_FROM_EMAIL = "django-redis-auth demo <no-reply@example.com>"

# --- Google sign-in (docs/google.md); off while GOOGLE_OAUTH2_KEY is unset -----------------

SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = os.environ.get("GOOGLE_OAUTH2_KEY", "")
SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = os.environ.get("GOOGLE_OAUTH2_SECRET", "")
# Where google/start/ may send the browser back to: the demo page itself, once Google is on.
DJANGO_REDIS_AUTH["GOOGLE_REDIRECT_ALLOWED"] = tuple(
    env_list("GOOGLE_REDIRECT_ALLOWED", "/" if SOCIAL_AUTH_GOOGLE_OAUTH2_KEY else "")
)

# --- Internationalisation and static files --------------------------------------------------

LANGUAGE_CODE = "en-us"
# The languages the package ships (django_redis_auth/locale/).
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("fr", "Français"), ("es", "Español")]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

# --- Production hardening (DEBUG=0); `manage.py check --deploy` passes -----------------------

if not DEBUG:
    # SECURE_SSL_REDIRECT=0 serves plain HTTP (a TLS-terminating proxy that talks HTTP to
    # gunicorn without setting X-Forwarded-Proto, or a local check with curl).
    SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "1") != "0"
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True  # the header only; joining the preload list is a separate step
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"
    REST_FRAMEWORK["DEFAULT_RENDERER_CLASSES"] = ["rest_framework.renderers.JSONRenderer"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django_redis_auth": {"handlers": ["console"], "level": "INFO", "propagate": False},
    },
}
