"""The fault suite's stack: the example project on gunicorn, with a Redis, a Postgres database
and an SMTP peer of its own that tests can break.

* Redis: a throwaway ``redis-server`` (tests/redis_servers.py) — SHUTDOWN, restart, FLUSHALL,
  CLIENT PAUSE and ``maxmemory`` only ever touch it.
* Postgres: a database ``dra_rel_<random>`` on the test server (``DRA_TEST_DATABASE_URL``'s
  host), migrated by the example project; "down" is ``ALLOW_CONNECTIONS false`` plus
  ``pg_terminate_backend`` of its sessions. The shared server itself is never stopped.
* SMTP: ``SinkSMTP`` (works, keeps messages), ``SilentSMTP`` (accepts, never answers), or a
  closed port.
* The app: ``gunicorn demo.wsgi`` with ``tests/reliability/app_settings.py`` (the example
  settings plus a fast password hasher, high code caps and a log file).

Waiting for readiness is bounded polling; what is measured is statuses and counts, with
wall-clock figures reported (not asserted) except for the bounds a scenario is about.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg

from tests.redis_servers import HOST, RedisServer, free_ports, terminate, wait_until
from tests.smtp_peers import SilentSMTP, SinkSMTP

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "example_project"
PASSWORD = "reliability passphrase 2026"
WORKERS = 2


# --- HTTP ------------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    data: Any
    headers: dict[str, str]
    seconds: float
    started: float
    json_ok: bool

    @property
    def code(self) -> str | None:
        return self.data.get("code") if isinstance(self.data, dict) else None


def call(
    port: int,
    method: str,
    path: str,
    body: Any = None,
    *,
    token: str | None = None,
    raw: bytes | None = None,
    content_type: str = "application/json",
    timeout: float = 20,
) -> Answer:
    """One request on a fresh connection (gunicorn's sync workers close it anyway)."""
    headers = {"Accept": "application/json"}
    payload = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    if payload is not None:
        headers["Content-Type"] = content_type
    if token:
        headers["Authorization"] = f"Bearer {token}"
    started = time.monotonic()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=payload, headers=headers)
        response = conn.getresponse()
        content = response.read()
        status = response.status
        answer_headers = {k.lower(): v for k, v in response.getheaders()}
    except (OSError, http.client.HTTPException) as exc:
        return Answer(
            0, {"error": type(exc).__name__}, {}, time.monotonic() - started, started, False
        )
    finally:
        conn.close()
    seconds = time.monotonic() - started
    try:
        data = json.loads(content) if content else None
        ok = content == b"" or answer_headers.get("content-type", "").startswith("application/json")
    except ValueError:
        data, ok = content[:200], False
    return Answer(status, data, answer_headers, seconds, started, ok)


class Load:
    """``threads`` clients calling ``request()`` back to back until stopped: bounded load."""

    def __init__(self, request, threads: int = 4) -> None:
        self.request = request
        self.answers: list[Answer] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self) -> None:
        while not self._stop.is_set():
            self.answers.append(self.request())

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(30)

    def since(self, moment: float) -> list[Answer]:
        return [a for a in list(self.answers) if a.started >= moment]


def parallel(requests: list, *, threads: int = 50) -> list[Answer]:
    """Run the zero-argument ``requests`` at once (released together by a barrier)."""
    barrier = threading.Barrier(min(threads, len(requests)))
    answers: list[Answer | None] = [None] * len(requests)

    def run(i: int) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(10)
        answers[i] = requests[i]()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(len(requests))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert all(a is not None for a in answers), "a request did not finish"
    return answers  # type: ignore[return-value]


def statuses(answers: list[Answer]) -> dict[str, int]:
    """``{"200": n, "503 auth_unavailable": m, ...}`` — the figure every scenario reports."""
    counts = Counter(f"{a.status} {a.code}" if a.code else str(a.status) for a in answers)
    return dict(sorted(counts.items()))


def server_errors(answers: list[Answer]) -> list[Answer]:
    """Answers that break the contract: a 5xx other than our JSON 503s, a non-JSON error,
    no answer at all."""
    return [
        a
        for a in answers
        if a.status == 0
        or (a.status >= 500 and not (a.status == 503 and a.json_ok and a.code))
        or (a.status >= 400 and not (a.json_ok and a.code))
    ]


# --- Postgres --------------------------------------------------------------------------------


class Database:
    """A database of its own on the test Postgres server, which it can make refuse
    connections (and allow them again) without touching the server or other databases."""

    def __init__(self) -> None:
        base = os.environ.get("DRA_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/dra")
        parts = urlsplit(base)
        self.name = f"dra_rel_{secrets.token_hex(4)}"
        self.url = parts._replace(path=f"/{self.name}").geturl()
        self.admin = {
            "host": parts.hostname or HOST,
            "port": parts.port or 5432,
            "user": parts.username or "postgres",
            "password": parts.password or None,
            "dbname": "postgres",
            "autocommit": True,
            "connect_timeout": 5,
        }

    def _admin(self, sql: str, *params: Any) -> list[tuple]:
        with psycopg.connect(**self.admin) as conn:
            cursor = conn.execute(sql, params or None)
            return cursor.fetchall() if cursor.description else []

    def create(self) -> Database:
        self._admin(f'CREATE DATABASE "{self.name}"')
        return self

    def query(self, sql: str, *params: Any) -> list[tuple]:
        with psycopg.connect(**{**self.admin, "dbname": self.name}) as conn:
            cursor = conn.execute(sql, params or None)
            return cursor.fetchall() if cursor.description else []

    def refuse(self) -> None:
        """New connections are refused, open ones are cut: the database is unreachable."""
        self._admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false')
        self._terminate()

    def allow(self) -> None:
        self._admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')

    def _terminate(self) -> None:
        self._admin(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            self.name,
        )

    def drop(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self.refuse()
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}"')


# --- the app ---------------------------------------------------------------------------------


@dataclass
class App:
    """gunicorn serving the example project on ``port``; its log lines go to ``log``."""

    port: int
    env: dict[str, str]
    log: Path
    workers: int = WORKERS
    process: subprocess.Popen | None = None
    stderr: Path = field(default_factory=Path)

    def manage(self, *args: str, stdin: str | None = None) -> str:
        result = self._manage(*args, stdin=stdin)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    def manage_output(self, *args: str) -> str:
        """stdout + stderr of a management command (system checks print to stderr)."""
        result = self._manage(*args)
        return result.stdout + result.stderr

    def _manage(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, str(EXAMPLE / "manage.py"), *args],
            cwd=EXAMPLE,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def start(self) -> App:
        self.stderr = self.log.with_suffix(".stderr")
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "gunicorn", "demo.wsgi:application",
                "--workers", str(self.workers),
                "--bind", f"{HOST}:{self.port}",
                "--timeout", "30",
                "--graceful-timeout", "20",
                "--log-level", "warning",
            ],
            cwd=EXAMPLE,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self.stderr.open("ab"),
        )  # fmt: skip
        wait_until(self._ready, f"gunicorn on port {self.port}", timeout=30)
        return self

    def _ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{self.stderr.read_text()[-3000:]}")
        return call(self.port, "GET", "/auth/me/", timeout=2).status == 401

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.process.pid)],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        return [int(p) for p in out.split()]

    def threads_per_worker(self) -> list[int]:
        return [len(os.listdir(f"/proc/{pid}/task")) for pid in self.worker_pids()]

    def stop(self, timeout: float = 30) -> float:
        """Graceful stop (SIGTERM, as a deploy or reload does); returns the seconds it took."""
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return 0.0
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            terminate(process)
        return time.monotonic() - started

    def log_lines(self) -> list[str]:
        return self.log.read_text().splitlines() if self.log.exists() else []

    # -- helpers on top of the HTTP API --

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Answer:
        return call(self.port, method, path, body, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Answer:
        return self.call("POST", path, body, **kwargs)

    def login(self, email: str, password: str = PASSWORD) -> dict[str, str]:
        answer = self.post("/auth/login/", {"email": email, "password": password})
        assert answer.status == 200, (answer.status, answer.data)
        return answer.data

    def create_users(self, *emails: str, otp: bool = False, verified: bool = True) -> None:
        """Users straight through the ORM (one ``manage.py shell``), verified by default."""
        script = (
            "from django.contrib.auth import get_user_model\n"
            "U = get_user_model()\n"
            f"for e in {list(emails)!r}:\n"
            f"    U.objects.create_user(email=e, password={PASSWORD!r},"
            f" email_verified={verified!r}, otp_required={otp!r})\n"
        )
        self.manage("shell", "-c", script)


class Stack:
    """Redis + Postgres database + SMTP peer + gunicorn, started together, torn down
    together. ``smtp`` is ``"sink"``, ``"silent"`` or ``"closed"``."""

    def __init__(
        self,
        tmp: Path,
        *,
        redis_args: tuple[str, ...] = (),
        auth: dict[str, Any] | None = None,
        smtp: str = "sink",
        env: dict[str, str] | None = None,
        workers: int = WORKERS,
    ) -> None:
        self.tmp = tmp
        self.redis = RedisServer(args=redis_args)
        self.db = Database()
        self.smtp_kind = smtp
        self.smtp: SinkSMTP | SilentSMTP | None = None
        self.auth = auth or {}
        self.extra_env = env or {}
        self.workers = workers
        self.app: App | None = None

    def __enter__(self) -> Stack:
        try:
            self.redis.start()
            self.db.create()
            if self.smtp_kind == "sink":
                self.smtp = SinkSMTP().__enter__()
            elif self.smtp_kind == "silent":
                self.smtp = SilentSMTP().__enter__()
            smtp_port = self.smtp.port if self.smtp else free_ports(1)[0]
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith(("DJANGO_", "EMAIL_", "DATABASE_URL", "REDIS_URL"))
            }
            env.update(
                DJANGO_SETTINGS_MODULE="tests.reliability.app_settings",
                PYTHONPATH=os.pathsep.join([str(ROOT), str(EXAMPLE)]),
                DEBUG="1",
                DATABASE_URL=self.db.url,
                REDIS_URL=self.redis.url(0),
                EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                EMAIL_HOST=HOST,
                EMAIL_PORT=str(smtp_port),
                DRA_REL_AUTH=json.dumps(self.auth),
                DRA_REL_LOG=str(self.tmp / "app.log"),
                **self.extra_env,
            )
            self.app = App(free_ports(1)[0], env, self.tmp / "app.log", workers=self.workers)
            self.app.manage("migrate", "--noinput", "-v", "0")
            self.app.start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        if self.app is not None:
            self.app.stop()
        if self.smtp is not None:
            self.smtp.close()
        self.db.drop()
        self.redis.cleanup()

    def codes_for(self, email: str) -> list[str]:
        """Codes the sink received for ``email``, oldest first."""
        assert isinstance(self.smtp, SinkSMTP)
        found = []
        for message in list(self.smtp.messages):
            if message["To"] != email:
                continue
            text = next(
                part.get_payload(decode=True).decode()
                for part in message.walk()
                if part.get_content_type() == "text/plain"
            )
            match = re.search(r"\b(\d{6})\b", text)
            if match:
                found.append(match.group(1))
        return found
