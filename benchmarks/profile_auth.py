#!/usr/bin/env python
"""Where the time of one authenticated request goes, for ours and the floor.

    python benchmarks/profile_auth.py [-n 20000] [--html out.html]

Profiles ``RedisJWTAuthentication.authenticate()`` (warm user cache) with pyinstrument
(``pip install pyinstrument``) and prints a cProfile summary of the same loop as well, with
a per-call breakdown of our own steps so a regression can be pinned to one of them.
Uses the benchmark settings (``BENCH_DATABASE_URL``, ``BENCH_REDIS_URL``; FLUSHDBs that db).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=20_000)
    parser.add_argument("--html", type=Path, help="also write pyinstrument's HTML report")
    args = parser.parse_args()

    from benchmarks import environment

    try:
        environment.prepare()
    except environment.BenchError as exc:
        print(f"profile_auth: {exc}", file=sys.stderr)
        return 2
    from benchmarks import fixtures  # the package's modules read settings when imported

    environment.reset_state()
    import jwt
    from django.contrib.auth import get_user_model
    from rest_framework_simplejwt.authentication import JWTAuthentication
    from rest_framework_simplejwt.settings import api_settings as jwt_settings
    from rest_framework_simplejwt.tokens import AccessToken

    from benchmarks.bench_auth import drf_request
    from django_redis_auth import keys, store
    from django_redis_auth.accounts import users_cache
    from django_redis_auth.authentication import RedisJWTAuthentication
    from django_redis_auth.tokens import revocation, signing
    from django_redis_auth.tokens import validation as token_validation
    from django_redis_auth.tokens import verified as verified_tokens
    from django_redis_auth.tokens.issuing import issue_token_pair

    user = fixtures.make_user("bench-profile@bench.example")
    token = issue_token_pair(user).access
    auth = RedisJWTAuthentication()
    request = drf_request(token)
    auth.authenticate(request)  # warm the user cache

    def loop(n: int) -> None:
        for _ in range(n):
            auth.authenticate(request)

    try:
        from pyinstrument import Profiler
    except ImportError:
        print("pyinstrument is not installed (pip install pyinstrument); cProfile only.\n")
    else:
        profiler = Profiler(interval=0.0001)
        profiler.start()
        loop(args.n)
        profiler.stop()
        print(profiler.output_text(unicode=True, color=False, show_all=False))
        if args.html:
            args.html.write_text(profiler.output_html())

    stream = io.StringIO()
    profile = cProfile.Profile()
    profile.runcall(loop, args.n // 4)
    pstats.Stats(profile, stream=stream).sort_stats("tottime").print_stats(25)
    print(stream.getvalue())

    # Step by step, timed without a profiler's overhead.
    raw = JWTAuthentication().get_raw_token(JWTAuthentication().get_header(request))
    validated = auth.get_validated_token(raw)
    cached = revocation.check(validated)
    client = store.get_client()
    key, algorithm = jwt_settings.SIGNING_KEY, jwt_settings.ALGORITHM
    model = get_user_model()
    row = users_cache._parse(model, cached)
    request_keys = keys.request_keys(validated["user_id"], validated["fam"], validated["jti"])
    steps = {
        "reference: PyJWT decode alone (the floor's decode)": lambda: jwt.decode(
            token, key, algorithms=[algorithm]
        ),
        "get_header + get_raw_token": lambda: auth.get_raw_token(auth.get_header(request)),
        "get_validated_token, a token's first request (token_validation + remember)": (
            lambda: (verified_tokens.clear(), auth.get_validated_token(raw))
        ),
        "get_validated_token, later requests (verified_tokens: expiry only)": lambda: (
            auth.get_validated_token(raw)
        ),
        "  of which: simplejwt's AccessToken(raw) (its constructor)": lambda: AccessToken(raw),
        "  of which: token_validation.validate (the keyed class's constructor)": lambda: (
            token_validation.validate(raw)
        ),
        "  of which: simplejwt's TokenBackend.decode (PyJWT, simplejwt's options)": lambda: (
            signing.backend().decode(raw)
        ),
        "  of which: verified_tokens.remember": lambda: verified_tokens.remember(raw, validated),
        "MGET of the request's 4 keys (hiredis parser when installed)": lambda: client.mget(
            request_keys
        ),
        "users_cache._parse (cached row -> values, memo miss)": lambda: users_cache._parse(
            model, cached
        ),
        "users_cache._instance (values -> model instance: Model.from_db)": lambda: (
            users_cache._instance(model, row)
        ),
        "revocation.check (key names + MGET round trip)": lambda: revocation.check(validated),
        "users_cache.get_user (JSON -> model instance)": lambda: users_cache.get_user(
            validated[jwt_settings.USER_ID_CLAIM], cached
        ),
        "reference: bare client.get (one round trip)": lambda: client.get("bench:nothing"),
        "whole authenticate()": lambda: auth.authenticate(request),
    }
    print("Per-call medians (µs):")
    for name, fn in steps.items():
        samples = []
        for _ in range(max(200, args.n // 10)):
            t0 = time.perf_counter_ns()
            fn()
            samples.append(time.perf_counter_ns() - t0)
        samples.sort()
        print(f"  {samples[len(samples) // 2] / 1000:8.1f}  {name}")
    environment.reset_state()
    return 0


if __name__ == "__main__":
    sys.exit(main())
