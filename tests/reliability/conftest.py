"""The fault suite (``-m reliability``): real Redis, Postgres and SMTP peers of its own, and the
example project on gunicorn. Every module marks its tests ``reliability`` and ``real`` (the
fakeredis pass skips them).

Each scenario reports its figures through the ``report`` fixture; with
``DRA_RELIABILITY_REPORT=<file>`` set they are written there as JSON at the end of the run,
which ``tests/reliability/report.py`` (``make reliability``) turns into docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

RESULTS: list[dict[str, Any]] = []


class Report:
    def add(self, scenario: str, injected: str, result: str, **figures: Any) -> None:
        RESULTS.append(
            {"scenario": scenario, "injected": injected, "result": result, "figures": figures}
        )


@pytest.fixture(scope="session")
def report() -> Report:
    return Report()


@pytest.fixture(scope="session")
def session_started() -> float:
    return time.monotonic()


def pytest_sessionfinish(session, exitstatus):
    target = os.environ.get("DRA_RELIABILITY_REPORT")
    if target and RESULTS:
        Path(target).write_text(json.dumps(RESULTS, indent=2, default=str))
