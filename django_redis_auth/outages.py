"""Logging a dependency's outage once, not once per request.

Why: when Redis, the database or the mail server goes away, every request (or every email)
fails the same way. Logging each failure with its traceback buries the one line that says
what happened under thousands that say it again (≈3,000 lines in 5 s at a few hundred
requests per second), and redis-py's exception texts can carry whole commands, i.e. key
names with user ids, family ids and address digests. So each dependency has one
:class:`OutageLog`:

* the first failure of an outage is logged at ERROR, with a *sanitised* description
  (:func:`describe`: the exception class and a message with no command, key or value in it);
* further failures are only counted; at most every ``SUMMARY_INTERVAL`` seconds a WARNING
  says how many requests were refused since the last line;
* the first success at least ``settle`` seconds after the last failure logs at INFO that the
  dependency is back, after how long and how many refusals (a Redis at ``maxmemory``
  answers reads and refuses writes: without the settling time every refused write after a
  read would start a new outage). A dependency that stays quiet longer than
  ``SUMMARY_INTERVAL`` starts a new outage on its next failure (its recovery may have gone
  unseen).

The clock is injectable (``OutageLog(clock=...)``) so tests move time without sleeping.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

logger = logging.getLogger("django_redis_auth")

SUMMARY_INTERVAL = 60.0  # seconds between two "still unavailable" lines of one outage
SETTLE = 5.0  # seconds without a failure before a success ends an outage

# Anything shaped like one of our keys ("dra:{u42}:fam:…", "{e3f9…}") or a pipeline
# annotation ("Command # 2 (SET dra:{u42}:… !revoked XX) of pipeline caused error: …").
_KEYISH = re.compile(r"\S*\{[^}\s]*\}\S*")
_PIPELINE = re.compile(r"Command # \d+ \(.*\) of pipeline caused error: ", re.DOTALL)
_MAX_MESSAGE = 160


def describe(exc: BaseException) -> str:
    """A loggable one-line description of ``exc`` without keys, commands or values.

    Redis replies to a command with an error code first (``OOM command not allowed…``,
    ``READONLY …``, ``NOSCRIPT …``): for those only the code is kept, as the rest may quote
    the script or the arguments. Connection errors and timeouts name a host and port only.
    """
    from redis.exceptions import ResponseError

    name = type(exc).__name__
    text = _PIPELINE.sub("", str(exc)).strip()
    if type(exc) is not ResponseError and isinstance(exc, ResponseError):
        text = ""  # redis-py turned the error code into the class (OutOfMemoryError, ...)
    elif isinstance(exc, ResponseError):
        text = text.split(None, 1)[0] if text else ""
    text = _KEYISH.sub("<key>", text.splitlines()[0] if text else "")[:_MAX_MESSAGE]
    return f"{name}: {text}" if text else name


class OutageLog:
    """One dependency's outage state, for logging (see the module docstring)."""

    def __init__(
        self,
        name: str,
        *,
        state: str = "unavailable",
        clock: Callable[[], float] = time.monotonic,
        interval: float = SUMMARY_INTERVAL,
        settle: float = SETTLE,
        log: logging.Logger = logger,
    ) -> None:
        self.name = name
        self.state = state
        self.clock = clock
        self.interval = interval
        self.settle = settle
        self.log = log
        self._lock = threading.Lock()
        self.down_since: float | None = None
        self._last_failure = 0.0
        self._last_report = 0.0
        self._total = 0
        self._since_report: Counter[str] = Counter()

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, what: str, *, consequence: str = "") -> None:
        """Record one refused request (or email) and log if this starts an outage or a
        summary is due. ``what`` must already be sanitised (see :func:`describe`)."""
        line: tuple[Any, ...] | None = None
        with self._lock:
            now = self.clock()
            if self.down_since is None or now - self._last_failure > self.interval:
                self.down_since = self._last_report = now
                self._total = 1
                self._since_report.clear()
                line = (logging.ERROR, "%s %s (%s)%s", self.name, self.state, what, consequence)
            else:
                self._total += 1
                self._since_report[what] += 1
                if now - self._last_report >= self.interval:
                    counts = ", ".join(f"{n} x {w}" for w, n in self._since_report.most_common())
                    line = (
                        logging.WARNING,
                        "%s still %s after %.0f s: %d more failures (%s)",
                        self.name,
                        self.state,
                        now - self.down_since,
                        sum(self._since_report.values()),
                        counts,
                    )
                    self._since_report.clear()
                    self._last_report = now
            self._last_failure = now
        if line is not None:
            self.log.log(line[0], *line[1:])

    def recovered_quietly(self) -> None:
        with self._lock:
            self.down_since = None
            self._since_report.clear()

    def recovered(self) -> bool:
        """The dependency answered: log the end of the outage, if there was one and it has
        settled. Returns whether no outage is going on any more."""
        with self._lock:
            if self.down_since is None:
                return True
            now = self.clock()
            if now - self._last_failure < self.settle:
                return False
            took = now - self.down_since
            total = self._total
            self.down_since = None
            self._since_report.clear()
        self.log.info("%s back after %.1f s (%d failures)", self.name, took, total)
        return True


redis = OutageLog("Redis")
# A new connection is a strong sign the database is back: no settling time.
database = OutageLog("Database", settle=0)
mail = OutageLog("Mail delivery", state="failing", settle=0)
mail_queue = OutageLog("Background mail queue", state="full")
LOGS = (redis, database, mail, mail_queue)


def reset() -> None:
    """Forget every outage (tests)."""
    for log in LOGS:
        log.recovered_quietly()


def database_connected(sender: Any = None, connection: Any = None, **kwargs: Any) -> None:
    """``connection_created`` receiver: a new database connection ends a database outage."""
    if database.down_since is not None:
        database.recovered()


def connect() -> None:
    from django.db.backends.signals import connection_created

    connection_created.connect(database_connected, dispatch_uid="django_redis_auth.outages")
