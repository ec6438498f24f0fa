"""Races across gunicorn workers: 50 parallel verifies of one code, 50 parallel refreshes of one
token, 50 parallel sign-ups of one address, and a logout racing requests on other workers."""

from __future__ import annotations

import time
from functools import partial

import pytest

from tests.redis_servers import wait_until
from tests.reliability.harness import PASSWORD, Load, Stack, parallel, server_errors, statuses

pytestmark = [pytest.mark.reliability, pytest.mark.real]

N = 50


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with Stack(tmp_path_factory.mktemp("concurrency"), workers=4) as stack:
        yield stack


def signed_up(stack, email: str) -> str:
    """Sign ``email`` up and return the verification code it was mailed."""
    assert stack.app.post("/auth/signup/", {"email": email, "password": PASSWORD}).status == 202
    wait_until(lambda: stack.codes_for(email), f"the code for {email}")
    return stack.codes_for(email)[-1]


def test_parallel_verifies_of_one_code(stack, report):
    app = stack.app
    code = signed_up(stack, "race-right@example.com")
    same = parallel(
        [
            partial(
                app.post, "/auth/email/verify/", {"email": "race-right@example.com", "code": code}
            )
            for _ in range(N)
        ]
    )
    assert statuses(same) == {"200": 1, "400 invalid_code": N - 1}

    code = signed_up(stack, "race-mixed@example.com")
    wrong = [f"{(int(code) + i) % 1_000_000:06d}" for i in range(1, N)]
    mixed = parallel(
        [
            partial(app.post, "/auth/email/verify/", {"email": "race-mixed@example.com", "code": c})
            for c in [*wrong[:25], code, *wrong[25:]]
        ]
    )
    counts = statuses(mixed)
    assert not server_errors(mixed), statuses(mixed)
    assert counts.get("200", 0) <= 1
    assert counts.get("400 too_many_attempts", 0) <= 1  # at most 3 guesses were ever counted
    report.add(
        "50 parallel verifies of one code",
        "50 `email/verify/` at once on 4 workers: all with the right code; then 1 right + 49 wrong",
        "one success at most; never more guesses than CODE_MAX_ATTEMPTS",
        same_code=statuses(same),
        one_right_49_wrong=counts,
        codes_over_accepted=statuses(same).get("200", 0) - 1 + max(0, counts.get("200", 0) - 1),
    )


def test_parallel_refreshes_of_one_token(stack, report):
    app = stack.app
    app.create_users("refresh-race@example.com")
    pair = app.login("refresh-race@example.com")
    answers = parallel(
        [partial(app.post, "/auth/token/refresh/", {"refresh": pair["refresh"]}) for _ in range(N)]
    )
    counts = statuses(answers)
    assert not server_errors(answers), statuses(answers)
    assert counts.get("200", 0) == 1
    assert set(counts) <= {"200", "401 token_reused", "401 token_revoked"}
    winner = next(a.data for a in answers if a.status == 200)
    # Reuse was detected, so the whole session died — the winner's new tokens included.
    after = app.call("GET", "/auth/me/", token=winner["access"]).status
    assert after == 401
    report.add(
        "50 parallel refreshes of one token",
        "50 `token/refresh/` at once with the same refresh token, 4 workers",
        "exactly one rotation; the other 49 are reuse, which revokes the whole session",
        answers=counts,
        winners_access_afterwards=after,
    )


def test_parallel_signups_of_one_address(stack, report):
    app, email = stack.app, "same-address@example.com"
    answers = parallel(
        [
            partial(app.post, "/auth/signup/", {"email": email, "password": PASSWORD})
            for _ in range(N)
        ]
    )
    rows = stack.db.query("SELECT count(*) FROM django_redis_auth_user WHERE email = %s", email)
    wait_until(lambda: stack.codes_for(email), "the verification code")
    codes = stack.codes_for(email)
    assert not server_errors(answers), statuses(answers)
    assert set(statuses(answers)) <= {"202", "429 rate_limited"}
    assert rows == [(1,)]
    assert len(codes) == 1
    report.add(
        "50 parallel sign-ups of one address",
        "50 `signup/` at once for the same address, 4 workers",
        "one account, one verification code; the others answer as for a taken address",
        answers=statuses(answers),
        accounts=rows[0][0],
        codes_mailed=len(codes),
    )


def test_logout_racing_requests_on_other_workers(stack, report):
    app = stack.app
    app.create_users("logout-race@example.com")
    pair = app.login("logout-race@example.com")
    with Load(lambda: app.call("GET", "/auth/me/", token=pair["access"]), threads=6) as load:
        wait_until(lambda: len(load.answers) >= 30, "load to warm up")
        answer = app.post("/auth/logout/", {"refresh": pair["refresh"]}, token=pair["access"])
        done = time.monotonic()
        wait_until(lambda: len(load.since(done)) >= 60, "requests after the logout")
    assert answer.status == 204, (answer.status, answer.data)
    after = load.since(done)
    accepted_after = sum(a.status == 200 for a in after)
    assert not server_errors(load.answers), statuses(load.answers)
    assert accepted_after == 0, statuses(after)
    # (A 503 would be an overloaded machine's Redis timeout: refused, never accepted.)
    assert set(statuses(after)) <= {"401 token_revoked", "503 auth_unavailable"}, statuses(after)
    report.add(
        "logout racing requests on other workers",
        "6 clients loop on `GET me/` with one token across 4 workers; `logout/` meanwhile",
        "no request started after logout answered is accepted, on any worker",
        requests=len(load.answers),
        started_after_logout=statuses(after),
        accepted_after_logout=accepted_after,
    )
