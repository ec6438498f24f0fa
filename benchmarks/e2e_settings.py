"""Settings for the end-to-end benchmark: the example project's own settings, plus one
bench-only URL serving the same ``me/`` view with simplejwt's stateless authentication.

Run with the example project's environment (``DATABASE_URL``, ``REDIS_URL``, ``DEBUG=0``,
``SECRET_KEY``) and ``example_project/`` on ``sys.path``.
"""

import os

from demo.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.e2e_urls"
# Plain HTTP on the loopback: the production HTTPS redirect would turn every request of the
# load generator into a 301.
SECURE_SSL_REDIRECT = False

if os.environ.get("BENCH_COUNT_REDIS"):
    # Only for the one-off request that counts round trips, never in the served process.
    from benchmarks.counting import CountingConnection

    CACHES["default"]["OPTIONS"]["CONNECTION_POOL_KWARGS"] = {  # noqa: F405
        "connection_class": CountingConnection
    }
    DJANGO_REDIS_AUTH = {
        **DJANGO_REDIS_AUTH,  # noqa: F405
        "ASYNC_REDIS_CLIENT_FACTORY": "benchmarks.counting.async_counting_client",
    }

# One query per request for the stateless baseline, not two: with health checks on, Django
# also sends "SELECT 1" before the first query of every request (ours makes none).
DATABASES["default"]["CONN_HEALTH_CHECKS"] = False  # noqa: F405

_db = DATABASES["default"]  # noqa: F405
if os.environ.get("BENCH_SERVER") == "asgi" and _db["ENGINE"].endswith("postgresql"):
    # Django's advice for ASGI: no persistent connections (there they are kept per request
    # thread and never reused: under wrk's load the stateless baseline ran Postgres out of
    # connections, "too many clients already"), the backend's own pool instead.
    _db["CONN_MAX_AGE"] = 0
    # Room for every connection wrk opens (bench_e2e.CONNECTIONS), all on one worker if need be.
    _db.setdefault("OPTIONS", {})["pool"] = {"min_size": 2, "max_size": 8}
