"""The example project's settings as the fault suite serves them: ``demo.settings`` from the
environment, plus what a test run needs — a fast password hasher (50 parallel sign-ups must
not be 50 PBKDF2 runs on a 2-core CI machine), per-IP caps high enough for many requests
from 127.0.0.1 (every client of the suite), package settings a scenario passes as JSON in
``DRA_REL_AUTH``, and the app's log lines in the file ``DRA_REL_LOG``."""

import json
import os

from demo.settings import *  # noqa: F403
from demo.settings import DJANGO_REDIS_AUTH as BASE_AUTH

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

DJANGO_REDIS_AUTH = {
    **BASE_AUTH,
    "HOURLY_CAP_PER_IP": 100_000,
    "HOURLY_CAP_PER_EMAIL": 1_000,
    "CODE_GUESSES_PER_IP": 100_000,
    "LOGIN_FAILURES_PER_IP": 100_000,
    **json.loads(os.environ.get("DRA_REL_AUTH") or "{}"),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(process)d %(levelname)s %(name)s %(message)s"}},
    "handlers": {
        "file": {
            "class": "logging.FileHandler",
            "filename": os.environ.get("DRA_REL_LOG") or os.devnull,
            "formatter": "line",
        }
    },
    "loggers": {
        "django_redis_auth": {"handlers": ["file"], "level": "INFO", "propagate": False},
        "django.request": {"handlers": ["file"], "level": "WARNING", "propagate": False},
    },
}
