"""Section 5: signed-in sessions (the device list). What one session costs in Redis, and
what listing and refreshing cost, with many users present.

A session is its family key (the record: digest of the live refresh jti, created, last
refresh, coarsened IP, user agent) plus its member in the user's session index. Memory is
measured two ways: ``MEMORY USAGE`` of the keys (what the target is stated in, as for codes
and revocation records), and ``used_memory`` growth over many sessions (adds the expiry
table and allocator slack).
"""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from benchmarks import environment, fixtures
from benchmarks.harness import Op, Target, markdown_table, measure, print_table

Out = Callable[[str], None]

CHROME = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)


def _client(i: int) -> Any:
    from django_redis_auth.clients import Client

    return Client(ip=f"198.51.{(i >> 8) & 255}.{i & 255}", user_agent=CHROME)


def _sign_in(user: Any, i: int) -> Any:
    from django_redis_auth.tokens import issuing as tokens

    return tokens.issue_token_pair(user, _client(i))


def _memory(users: list[Any], per_user: int) -> dict[str, float]:
    """Sign each user in ``per_user`` times; MEMORY USAGE of one family key and of each
    user's index, and used_memory growth per session."""
    from rest_framework_simplejwt.tokens import RefreshToken

    from django_redis_auth import keys, store

    client = store.get_client()
    before = client.info("memory")["used_memory"]
    last: dict[Any, Any] = {}
    for n, user in enumerate(users):
        for k in range(per_user):
            last[user.pk] = _sign_in(user, n * per_user + k)
    grown = client.info("memory")["used_memory"] - before
    sample = list(last.items())[:50]
    family_sizes, index_sizes = [], []
    for user_id, pair in sample:
        token = RefreshToken(pair.refresh)
        family_sizes.append(client.memory_usage(keys.family(user_id, token["fam"]), samples=0))
        index_sizes.append(client.memory_usage(keys.session_index(user_id), samples=0))
    family = statistics.median(family_sizes)
    index = statistics.median(index_sizes)
    return {
        "family": family,
        "index": index,
        "per_session": family + index / per_user,
        # The epoch key (one per user, there before this feature) is in the growth too.
        "grown": grown / (len(users) * per_user),
    }


def run(args: Any, out: Out) -> list[Target]:
    from django_redis_auth.tokens import devices
    from django_redis_auth.tokens import issuing as tokens

    count = 200 if args.quick else 5_000
    out(
        f"Sessions opened with `tokens.issue_token_pair` for a browser client (user agent "
        f"of {len(CHROME)} characters, stored cut to `SESSION_USER_AGENT_MAX`, IPv4 /24). "
        f"{count:,} users with one session each, then (from an empty db) {count:,} users with "
        "five each."
    )
    one = _memory(fixtures.bulk_users("ses-one-", count), 1)
    environment.reset_state()  # each phase from an empty db: its hash tables grow alike
    five = _memory(fixtures.bulk_users("ses-five-", count), 5)
    out("\n### Redis memory per session\n")
    markdown_table(
        ["", "1 session per user", "5 sessions per user"],
        [
            [
                "family key with its record (MEMORY USAGE)",
                f"{one['family']:.0f} B",
                f"{five['family']:.0f} B",
            ],
            [
                "the user's session index (MEMORY USAGE, whole key)",
                f"{one['index']:.0f} B",
                f"{five['index']:.0f} B",
            ],
            [
                "per session: family key + its share of the index",
                f"{one['per_session']:.0f} B",
                f"{five['per_session']:.0f} B",
            ],
            [
                "used_memory growth per session (incl. the user's epoch key, expiry table)",
                f"{one['grown']:.0f} B",
                f"{five['grown']:.0f} B",
            ],
        ],
        out=out,
    )

    # Listing and refreshing, with the users above present. Sign-ins go to other users, a
    # few sign-ins each: the listed user keeps its 11 sessions, and no signer reaches
    # MAX_SESSIONS_PER_USER (the row would time the cap ending a session on every call).
    listed = fixtures.make_user("bench-sessions@bench.example")
    n = max(20, args.iterations // 10)
    signers = fixtures.bulk_users("bench-sessions-signer-", (n + 40) // 10 + 1)
    for i in range(10):
        _sign_in(listed, i)
    current = [_sign_in(listed, 10).refresh]

    def rotate(i: int) -> None:
        current[0] = tokens.rotate_refresh_token(current[0], _client(i)).refresh

    ops = [
        Op("list_devices, 11 sessions", lambda i: devices.list_devices(listed.pk)),
        Op("rotate_refresh_token (writes the record)", rotate),
        Op(
            "issue_token_pair (sign-in: record + index)",
            lambda i: _sign_in(signers[i // 10], i),
        ),
    ]
    measure(ops, n)
    print_table("Device list and refresh", ops, ops[0], out=out)
    out(
        "\nThis project installs simplejwt's `token_blacklist` (section 1 compares against it), "
        "so simplejwt itself adds a query to both rows: it inserts an `OutstandingToken` for "
        "each refresh token minted (sign-in) and checks `BlacklistedToken` when a refresh "
        "token is verified (refresh). Without that app a sign-in makes one query (Django's "
        "`last_login` update, on `user_logged_in`) and a refresh none (warm user cache)."
    )
    bounded = _one_user_many_logins(200 if args.quick else 1_000, out)
    return [
        Target(
            "14",
            "1,000 logins by one user leave a bounded number of sessions (MAX_SESSIONS_PER_USER)",
            f"{bounded['sessions']} live sessions, {bounded['total']:,.0f} B in Redis for the user",
            bounded["sessions"] <= bounded["cap"],
        ),
        Target(
            "3",
            "MEMORY USAGE per session ≤ 300 B (family key with its record + share of the index)",
            f"{five['per_session']:.0f} B at 5 sessions per user; "
            f"{one['per_session']:.0f} B for a user's only session",
            max(one["per_session"], five["per_session"]) <= 300,
        ),
        Target(
            "5",
            "listing a user's sessions: ≤ 2 Redis round trips, no SCAN",
            f"{ops[0].redis_round_trips} round trips ({', '.join(ops[0].redis_commands)})",
            ops[0].redis_round_trips is not None
            and ops[0].redis_round_trips <= 2
            and "SCAN" not in ops[0].redis_commands,
        ),
    ]


def _one_user_many_logins(logins: int, out: Out) -> dict[str, float]:
    """Guarantee 14: one user signing in ``logins`` times (a script gone wrong, a stolen
    password in a loop) leaves at most MAX_SESSIONS_PER_USER sessions, and a capped activity
    list: what that user costs in Redis, key by key, and one activity entry."""
    from django_redis_auth import keys, store
    from django_redis_auth.conf import auth_settings

    client = store.get_client()
    user = fixtures.make_user("bench-one-user@bench.example")
    for i in range(logins):
        _sign_in(user, i % 64)  # 64 devices: the known-devices hash fills too
    sizes = {
        key.decode(): client.memory_usage(key, samples=0) or 0
        for key in client.scan_iter(match=f"{keys.user_tag(user.pk)}*")
    }
    families = [k for k in sizes if ":fam:" in k]
    act = keys.activity(user.pk)
    entries = client.llen(act)
    total = sum(sizes.values())
    out(f"\n### One user, {logins:,} logins\n")
    markdown_table(
        ["", ""],
        [
            [
                "live sessions (family keys)",
                f"{len(families)} (MAX_SESSIONS_PER_USER = {auth_settings.MAX_SESSIONS_PER_USER})",
            ],
            ["family keys, together", f"{sum(sizes[k] for k in families):,} B"],
            ["session index", f"{sizes.get(keys.session_index(user.pk), 0):,} B"],
            [
                "activity list",
                f"{sizes.get(act, 0):,} B for {entries} entries "
                f"({sizes.get(act, 0) / max(entries, 1):.0f} B per event)",
            ],
            ["known devices", f"{sizes.get(keys.known_devices(user.pk), 0):,} B"],
            ["everything under the user's hash tag", f"{total:,} B"],
        ],
        out=out,
    )
    return {
        "sessions": len(families),
        "cap": int(auth_settings.MAX_SESSIONS_PER_USER),
        "total": total,
        "per_event": sizes.get(act, 0) / max(entries, 1),
    }
