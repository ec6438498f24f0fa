"""Prepares the end-to-end benchmark inside the example project's configuration.

Run by ``bench_e2e`` in a subprocess with ``DJANGO_SETTINGS_MODULE=benchmarks.e2e_settings``
(the served configuration): migrates, creates the bench user, mints one token of each kind,
serves one request per endpoint in process to warm the user cache and to count database
queries and Redis round trips, and prints the result as JSON on stdout.
"""

from __future__ import annotations

import json
import os
import sys

EMAIL = "bench-e2e@bench.example"
ENDPOINTS = {"ours": "/auth/me/", "simplejwt": "/bench/me-simplejwt/"}


def main() -> None:
    os.environ["BENCH_COUNT_REDIS"] = "1"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework_simplejwt.tokens import AccessToken

    from benchmarks.counting import COUNTER
    from django_redis_auth.tokens import issue_token_pair

    call_command("migrate", verbosity=0)
    user_model = get_user_model()
    user = user_model.objects.filter(email=EMAIL).first() or user_model.objects.create_user(
        email=EMAIL, password="bench password 1234", email_verified=True
    )
    tokens = {"ours": issue_token_pair(user).access, "simplejwt": str(AccessToken.for_user(user))}
    client = Client(HTTP_HOST="127.0.0.1")
    result: dict[str, object] = {"tokens": tokens, "paths": ENDPOINTS, "counts": {}}
    for name, path in ENDPOINTS.items():
        headers = {"Authorization": f"Bearer {tokens[name]}"}
        warm = client.get(path, headers=headers)  # fills our user cache
        if warm.status_code != 200:
            sys.exit(f"{path} answered {warm.status_code}: {warm.content[:200]!r}")
        with CaptureQueriesContext(connection) as queries:
            COUNTER.start()
            response = client.get(path, headers=headers)
            COUNTER.stop()
        result["counts"][name] = {
            "status": response.status_code,
            "db_queries": len(queries.captured_queries),
            "redis_round_trips": COUNTER.count,
            "redis_commands": COUNTER.commands,
        }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
