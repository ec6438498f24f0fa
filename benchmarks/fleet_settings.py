"""Settings for ``benchmarks/bench_fleet.py``: the example project's own, plus simplejwt's
``TokenVerifyView`` (signature only) as the baseline, no introspection rate limit in the
way of the load, and (``BENCH_COUNT_REDIS``) round-trip counting for the one-off counts."""

import os

from demo.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.fleet_urls"
SECURE_SSL_REDIRECT = False
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False  # noqa: F405
DJANGO_REDIS_AUTH = {**DJANGO_REDIS_AUTH, "INTROSPECTION_RATE_LIMIT": 0}  # noqa: F405

if os.environ.get("BENCH_COUNT_REDIS"):
    from django_redis_auth.testing import CountingConnection

    CACHES["default"]["OPTIONS"]["CONNECTION_POOL_KWARGS"] = {  # noqa: F405
        "connection_class": CountingConnection
    }
