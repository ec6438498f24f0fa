"""Section 7: a passkey sign-in against a password sign-in, on the server.

* passkey: what ``passkeys/login/`` does — the challenge taken (GETDEL), the passkey and its
  user read, py_webauthn's checks and the ES256 signature verified, the sign count's
  conditional UPDATE, the session opened (``issue_token_pair``);
* password: what ``login/`` does — the user read, Django's PBKDF2 (the default hasher, at its
  default iterations), the password guard's script, the session opened;
* the options a passkey sign-in asks for first (a challenge stored), reported apart.

The authenticator's half (signing, done by the user's device) is computed before the clock
starts: every call answers its own fresh challenge. Ratios are printed side by side.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from benchmarks import fixtures
from benchmarks.harness import Op, Target, measure, print_table

WARMUP = 20
PBKDF2 = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def unavailable() -> str | None:
    try:
        import cbor2  # noqa: F401
        import webauthn  # noqa: F401

        from tests import webauthn_soft  # noqa: F401
    except ImportError as exc:
        return f"{exc}"
    return None


def _enrol(user: Any, authenticator: Any) -> None:
    from django_redis_auth.mfa import passkeys

    credential = authenticator.create(passkeys.registration_options(user))
    passkeys.register(user, credential, "bench")


def build_ops(total: int) -> tuple[list[Op], Callable[[], None]]:
    from django.contrib.auth import get_user_model
    from django.test import override_settings

    from django_redis_auth.accounts import flows
    from django_redis_auth.clients import Client
    from django_redis_auth.mfa import passkeys
    from django_redis_auth.tokens import issuing
    from tests.webauthn_soft import SoftAuthenticator

    hashers = override_settings(PASSWORD_HASHERS=PBKDF2)
    hashers.enable()
    model = get_user_model()
    password_user = model.objects.create_user(
        email="bench-password@bench.example", password="bench password 1234", email_verified=True
    )
    assert password_user.password.startswith("pbkdf2_sha256$")
    passkey_user = fixtures.bulk_users("bench-passkey-", 1)[0]
    authenticator = SoftAuthenticator()
    _enrol(passkey_user, authenticator)
    # The device's half, ahead of time: one signed answer per call, counts growing.
    answers = [
        authenticator.get(passkeys.request_options(), sign_count=i + 1) for i in range(total)
    ]
    client = Client(ip="192.0.2.10")

    def passkey(i: int) -> None:
        asserted = passkeys.authenticate(answers[i])
        issuing.issue_token_pair(asserted.user, client, amr=asserted.amr)

    def password(i: int) -> None:
        result = flows.login("bench-password@bench.example", "bench password 1234", client)
        assert isinstance(result, issuing.TokenPair)

    def options(i: int) -> None:
        passkeys.request_options()

    o = Op("ours: passkey sign-in (passkeys/login/: verify + pair)", passkey)
    return [
        o,
        Op("ours: password sign-in (login/: PBKDF2 + pair)", password, ref=o),
        Op("passkey options (passkeys/login/options/: a challenge stored)", options, ref=o),
    ], hashers.disable


# A password check is ~0.3 s of PBKDF2 by design: 3,000 of them would be a quarter of an
# hour for a ratio that is steady after a few dozen.
MAX_ITERATIONS = 300


def run(args: Any, out: Callable[[str], None]) -> list[Target]:
    n = min(args.iterations, MAX_ITERATIONS)
    total = WARMUP + 1 + n
    ops, done = build_ops(total)
    try:
        out(
            "Server side only: the passkey row verifies an answer the authenticator signed "
            "before the clock started (a fresh challenge each call); the password row checks "
            f"PBKDF2-SHA256 at Django's default iterations. Both open a session. N = {n} "
            f"(at most {MAX_ITERATIONS}: PBKDF2 is slow on purpose)."
        )
        measure(ops, n, warmup=WARMUP)
    finally:
        done()
    print_table("Passkey sign-in vs password sign-in", ops, ops[0], out=out)
    passkey, password, options = ops
    ratio = password.median_us / passkey.median_us
    out(
        f"\npassword / passkey: time {ratio:.2f}x "
        f"({password.median_us:.0f} µs vs {passkey.median_us:.0f} µs median); Redis round "
        f"trips {password.redis_round_trips} vs {passkey.redis_round_trips}; queries "
        f"{password.db_queries} vs {passkey.db_queries}. A passkey sign-in asks for options "
        f"first: +{options.median_us:.0f} µs, {options.redis_round_trips} round trip, "
        f"{options.db_queries} queries."
    )
    return [
        Target(
            "7",
            "passkey sign-in: ≤ 4 queries and ≤ 2 Redis round trips",
            f"{passkey.db_queries} queries, {passkey.redis_round_trips} round trips; "
            f"password / passkey = {ratio:.2f}x",
            passkey.db_queries is not None
            and passkey.db_queries <= 4
            and passkey.redis_round_trips is not None
            and passkey.redis_round_trips <= 2,
        )
    ]
