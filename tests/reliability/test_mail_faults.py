"""Mail faults against the example project on gunicorn: a working SMTP server (the baseline),
a closed port, and a server that accepts and never answers. Sign-up latency must not depend on
the mail server, the mail threads stay bounded, a stopping worker does not hang, and no code
is lost silently: every one is delivered, or counted in the log as failed or unsent."""

from __future__ import annotations

import re
import statistics

import pytest

from tests.redis_servers import wait_until
from tests.reliability.harness import PASSWORD, Stack, server_errors, statuses

pytestmark = [pytest.mark.reliability, pytest.mark.real]

SIGNUPS = 20


def sign_up_many(app, prefix: str):
    return [
        app.post("/auth/signup/", {"email": f"{prefix}{i}@example.com", "password": PASSWORD})
        for i in range(SIGNUPS)
    ]


def exit_totals(lines: list[str]) -> dict[str, int]:
    """Sum of the per-worker "Background mail at exit" counts."""
    totals = {"sent": 0, "failed": 0, "dropped": 0, "unsent": 0}
    for line in lines:
        match = re.search(
            r"Background mail at exit: (\d+) sent, (\d+) failed, (\d+) dropped \(queue full\), "
            r"(\d+) unsent",
            line,
        )
        if match:
            for name, value in zip(totals, match.groups(), strict=True):
                totals[name] += int(value)
    return totals


def ms(seconds: float) -> int:
    return round(seconds * 1000)


def test_working_smtp_delivers_every_code(tmp_path, report):
    with Stack(tmp_path, smtp="sink") as stack:
        answers = sign_up_many(stack.app, "sink")
        wait_until(lambda: len(stack.smtp.messages) >= SIGNUPS, "every code to arrive")
        codes = sum(len(stack.codes_for(f"sink{i}@example.com")) for i in range(SIGNUPS))
    assert statuses(answers) == {"202": SIGNUPS}
    assert codes == SIGNUPS
    BASELINE.extend(a.seconds for a in answers)
    report.add(
        "SMTP working (baseline)",
        f"{SIGNUPS} sign-ups, SMTP sink",
        "every verification code arrives",
        answers=statuses(answers),
        median_signup_ms=ms(statistics.median(BASELINE)),
        codes_delivered=codes,
        mail_lost=SIGNUPS - codes,
    )


BASELINE: list[float] = []


def test_closed_smtp_port(tmp_path, report):
    with Stack(tmp_path, smtp="closed") as stack:
        app = stack.app
        answers = sign_up_many(app, "closed")
        wait_until(lambda: any("Mail delivery failing" in x for x in app.log_lines()), "a log line")
        stopped_in = app.stop()
        lines = app.log_lines()
    totals = exit_totals(lines)
    assert statuses(answers) == {"202": SIGNUPS}
    assert not server_errors(answers), statuses(answers)
    failing = [x for x in lines if "Mail delivery failing" in x]
    assert 1 <= len(failing) <= app.workers
    assert all("@example.com" not in x for x in lines)
    assert totals["failed"] + totals["unsent"] + totals["sent"] == SIGNUPS
    report.add(
        "SMTP port closed",
        f"{SIGNUPS} sign-ups, nothing listening on EMAIL_PORT",
        "202 as fast as with a working server; each failure counted, none silent",
        answers=statuses(answers),
        median_signup_ms=ms(statistics.median(a.seconds for a in answers)),
        baseline_median_ms=ms(statistics.median(BASELINE)) if BASELINE else None,
        failure_log_lines=len(failing),
        at_exit=totals,
        mail_lost_silently=SIGNUPS - sum(totals.values()),
        graceful_stop_s=round(stopped_in, 1),
    )


def test_smtp_that_accepts_and_never_answers(tmp_path, report):
    with Stack(tmp_path, smtp="silent") as stack:
        app = stack.app
        threads_before = app.threads_per_worker()
        answers = sign_up_many(app, "silent")
        threads_after = app.threads_per_worker()
        stopped_in = app.stop()
        lines = app.log_lines()
    totals = exit_totals(lines)
    unsent_lines = [x for x in lines if "emails unsent at shutdown" in x]
    assert statuses(answers) == {"202": SIGNUPS}
    # Two mail threads per worker at most, whatever is queued.
    assert all(
        after - before <= 2 for before, after in zip(threads_before, threads_after, strict=True)
    )
    # The stop waits EMAIL_SHUTDOWN_TIMEOUT (5 s), not until gunicorn's graceful timeout.
    assert stopped_in < 15
    assert unsent_lines
    assert totals["unsent"] + totals["failed"] == SIGNUPS
    report.add(
        "SMTP accepts and never answers",
        f"{SIGNUPS} sign-ups to a peer that accepts and stays silent, then a graceful stop",
        "202 as fast as with a working server; 2 mail threads per worker; the stop takes "
        "EMAIL_SHUTDOWN_TIMEOUT and hands the queue back (logged, or EMAIL_UNSENT_HANDLER)",
        answers=statuses(answers),
        median_signup_ms=ms(statistics.median(a.seconds for a in answers)),
        baseline_median_ms=ms(statistics.median(BASELINE)) if BASELINE else None,
        threads_per_worker=f"{threads_before} -> {threads_after}",
        graceful_stop_s=round(stopped_in, 1),
        at_exit=totals,
        mail_lost_silently=SIGNUPS - totals["unsent"] - totals["failed"],
    )
