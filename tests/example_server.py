"""Running the example project from tests: its environment, management commands in a
subprocess, and ``runserver`` on a free port.

The example project's settings are a separate Django configuration from this suite's
``tests.settings``, so everything here runs it in child processes with a controlled
environment.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.redis_servers import terminate

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "example_project"
MANAGE = str(EXAMPLE / "manage.py")

# Variables the example settings read: removed from the inherited environment so each case
# sees exactly what it sets.
SETTINGS_ENV = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "DEBUG",
    "ALLOWED_HOSTS",
    "EMAIL_BACKEND",
    "EMAIL_FILE_PATH",
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
    "EMAIL_TIMEOUT",
    "GOOGLE_OAUTH2_KEY",
    "GOOGLE_OAUTH2_SECRET",
    "GOOGLE_OAUTH2_EXTRA_AUDIENCES",
    "GOOGLE_REDIRECT_ALLOWED",
    "TRUSTED_PROXIES",
    "FORWARDED_HEADER",
    "SECURE_SSL_REDIRECT",
    "INTROSPECTION_CLIENTS",
    "REAUTH_WINDOW",
    "JWT_ALGORITHM",
    "JWT_SIGNING_KEY_FILE",
    "JWT_VERIFYING_KEY_FILES",
    "DJANGO_SETTINGS_MODULE",
)


def environment(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS_ENV}
    env["DJANGO_SETTINGS_MODULE"] = "demo.settings"
    # The package from this checkout, as in the test process (pytest's pythonpath).
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(overrides)
    return env


def run(*args: str, timeout: float = 120, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=EXAMPLE,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, server: subprocess.Popen, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"runserver exited with {server.returncode}:\n{log.read_text()}")
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    pytest.fail(f"runserver did not listen on {port} within {timeout}s:\n{log.read_text()}")


@contextlib.contextmanager
def runserver(tmp_path: Path, port: int | None = None, **env: str) -> Iterator[str]:
    """``manage.py runserver`` on ``port`` (default: a free one); yields its base URL, stops
    it afterwards."""
    port = port or free_port()
    log = tmp_path / "runserver.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [sys.executable, MANAGE, "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=EXAMPLE,
            env=environment(**env),
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, server, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        terminate(server, timeout=10)
