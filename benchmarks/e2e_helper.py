"""Prepares the end-to-end benchmark inside the example project's configuration.

Run by ``bench_e2e`` in a subprocess with ``DJANGO_SETTINGS_MODULE=benchmarks.e2e_settings``
(the served configuration): migrates, creates ``BENCH_E2E_USERS`` users and mints one
token of each kind per user (written one per line to files for wrk's Lua script), serves
one request per token in process to warm every user cache, counts database queries and
Redis round trips of one more request per endpoint, and prints the result as JSON.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

PREFIX = "bench-e2e-"
# ours (sync DRF view), ours on the async path (adrf view), simplejwt's stateless baseline.
ENDPOINTS = {
    "ours": "/auth/me/",
    "ours_async": "/bench/me-async/",
    "simplejwt": "/bench/me-simplejwt/",
}
TOKEN_KIND = {"ours": "ours", "ours_async": "ours", "simplejwt": "simplejwt"}


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
    from django_redis_auth.tokens.issuing import issue_token_pair

    call_command("migrate", verbosity=0)
    count = int(os.environ.get("BENCH_E2E_USERS", "500"))
    user_model = get_user_model()
    user_model.objects.filter(email__startswith=PREFIX).delete()
    users = user_model.objects.bulk_create(
        [
            user_model(email=f"{PREFIX}{i}@bench.example", password="!", email_verified=True)
            for i in range(count)
        ]
    )
    tokens = {
        "ours": [issue_token_pair(u).access for u in users],
        "simplejwt": [str(AccessToken.for_user(u)) for u in users],
    }
    directory = Path(tempfile.mkdtemp(prefix="dra-bench-e2e-"))
    files = {}
    for kind, values in tokens.items():
        files[kind] = str(directory / f"{kind}.txt")
        Path(files[kind]).write_text("\n".join(values) + "\n")
    client = Client(HTTP_HOST="127.0.0.1")
    for token in tokens["ours"]:  # fills every user's cache entry
        response = client.get(ENDPOINTS["ours"], headers={"Authorization": f"Bearer {token}"})
        if response.status_code != 200:
            sys.exit(f"/auth/me/ answered {response.status_code}: {response.content[:200]!r}")
    result: dict[str, object] = {
        "tokens": {kind: values[0] for kind, values in tokens.items()},
        "token_files": files,
        "users": count,
        "paths": ENDPOINTS,
        "token_kind": TOKEN_KIND,
        "counts": {},
    }
    for name, path in ENDPOINTS.items():
        headers = {"Authorization": f"Bearer {tokens[TOKEN_KIND[name]][1 % count]}"}
        warm = client.get(path, headers=headers)
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
            "redis_commands": COUNTER.names(),
        }
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main()
