#!/usr/bin/env python
"""Where one request's time goes under ASGI, in process, for the three endpoints of
section 4 (ours on the async path, ours sync, stateless simplejwt).

    python benchmarks/profile_asgi.py [-n 500] [--profile]

Why: under uvicorn the end-to-end ratios of section 4 sit close to 1x. This measures one
request through the example project's ASGI handler with Django's ``AsyncClient`` (same
settings as the uvicorn runs, ``benchmarks.e2e_settings``, no HTTP server, no load), so
the cost shared by every endpoint (Django adapting each ``MiddlewareMixin`` hook with
``sync_to_async``) can be told from authentication's. ``--profile`` prints pyinstrument's
tree for the async endpoint. Uses ``BENCH_DATABASE_URL`` + ``_e2e`` and ``BENCH_REDIS_URL``
as section 4 does (run ``python benchmarks/run.py --sections e2e`` once first: it creates
that database's users).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    from benchmarks.bench_e2e import _env

    env = _env()
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "REDIS_URL", "DEBUG", "SECRET_KEY")})
    os.environ.update(
        ALLOWED_HOSTS="testserver",
        DJANGO_SETTINGS_MODULE="benchmarks.e2e_settings",
        BENCH_SERVER="asgi",
    )
    sys.path[:0] = env["PYTHONPATH"].split(os.pathsep)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import AsyncClient
    from rest_framework_simplejwt.tokens import AccessToken

    from benchmarks.e2e_helper import ENDPOINTS, PREFIX
    from django_redis_auth.clients import NOBODY
    from django_redis_auth.tokens import issuing

    user = get_user_model().objects.filter(email__startswith=PREFIX).first()
    if user is None:
        print("profile_asgi: run `benchmarks/run.py --sections e2e` first", file=sys.stderr)
        return 2
    tokens = {"ours": str(issuing.issue_token_pair(user, NOBODY).access)}
    tokens["simplejwt"] = str(AccessToken.for_user(user))
    client = AsyncClient()

    async def run(path: str, token: str, n: int) -> float:
        headers = {"Authorization": f"Bearer {token}"}
        start = time.perf_counter()
        for _ in range(n):
            response = await client.get(path, headers=headers)
            assert response.status_code == 200, (path, response.status_code)
        return (time.perf_counter() - start) / n * 1e6

    async def measure() -> None:
        print("| endpoint | µs per request (in process, ASGI) |\n|---|---|")
        for name, path in ENDPOINTS.items():
            token = tokens["simplejwt" if name == "simplejwt" else "ours"]
            await run(path, token, 50)  # warm up
            print(f"| {path} ({name}) | {await run(path, token, args.n):,.0f} |")
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler(async_mode="enabled")
            profiler.start()
            await run(ENDPOINTS["ours_async"], tokens["ours"], args.n)
            profiler.stop()
            print(profiler.output_text(unicode=True))

    asyncio.run(measure())
    return 0


if __name__ == "__main__":
    sys.exit(main())
