"""Introspection and forward-auth against simplejwt's ``TokenVerifyView``.

``python benchmarks/bench_fleet.py [--seconds 1] [--rounds 7]``: the example project (ES256
keys made for the run, Redis at ``BENCH_REDIS_URL``, a throwaway SQLite file for the one user) under
gunicorn with 2 sync workers; a load of 8 threads of keep-alive-less HTTP requests from this
process, the endpoints in interleaved slices (the median of each is reported):

* ``POST token/introspect/`` (RFC 7662: signature by kid + revocation, 1 round trip),
* ``GET token/verify/`` (forward-auth: the API's own check, 1 round trip, user from cache),
* ``POST bench/simplejwt-verify/`` (simplejwt's ``TokenVerifyView``: signature only, no
  revocation — what a gateway gets without this package).

It prints requests per second, their ratio to simplejwt's, and the Redis round trips and
database queries of one request of each (counted in-process with the same settings). The
load generator shares the machine's cores with gunicorn: compare the ratios, not the
absolute figures, across machines. docs/benchmarks.md has a run.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
THREADS = 8
WORKERS = 2
CLIENT = ("bench", "bench-secret")

SETUP = """
import django, json, sys
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from django.contrib.auth import get_user_model
User = get_user_model()
User.objects.filter(email="bench@example.com").delete()
user = User.objects.create_user(email="bench@example.com", password="bench-password-123",
                                email_verified=True)
from django_redis_auth.tokens import issuing
pair = issuing.issue_token_pair(user)
print(json.dumps(pair.as_dict()))
"""

COUNT = """
import django, json, sys
django.setup()
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django_redis_auth.testing import ROUND_TRIPS
access, basic = sys.argv[1], sys.argv[2]
FORM = "application/x-www-form-urlencoded"
client = Client()
calls = {
    "introspection": lambda: client.post("/auth/token/introspect/", "token=" + access,
                                         content_type=FORM, HTTP_AUTHORIZATION=basic),
    "forward-auth": lambda: client.get("/auth/token/verify/",
                                       HTTP_AUTHORIZATION="Bearer " + access),
    "simplejwt TokenVerifyView": lambda: client.post("/bench/simplejwt-verify/",
                                                     "token=" + access, content_type=FORM),
}
found = {}
for name, call in calls.items():
    call()  # warm: scripts loaded, the user cached
    ROUND_TRIPS.reset()
    with CaptureQueriesContext(connection) as queries:
        status = call().status_code
    found[name] = {"status": status, "round_trips": ROUND_TRIPS.count,
                   "queries": len(queries)}
print(json.dumps(found))
"""


def make_keys(folder: Path) -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    private = folder / "signing.pem"
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    public = folder / "signing.pub.pem"
    public.write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return {
        "JWT_ALGORITHM": "ES256",
        "JWT_SIGNING_KEY_FILE": str(private),
        "JWT_VERIFYING_KEY_FILES": str(public),
    }


def environment(folder: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "DATABASE_URL": f"sqlite:///{folder / 'bench.sqlite3'}",
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/9"),
            "DEBUG": "0",
            "SECRET_KEY": "benchmark-fleet-secret-key-not-for-production-0123456789",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "INTROSPECTION_CLIENTS": ":".join(CLIENT),
            "DJANGO_SETTINGS_MODULE": "benchmarks.fleet_settings",
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "example_project")]),
            **make_keys(folder),
        }
    )
    return env


def python(code: str, env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.returncode:
        raise SystemExit(result.stderr)
    return result.stdout.strip().splitlines()[-1]


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(env: dict[str, str], port: int) -> Iterator[None]:
    command = [
        sys.executable, "-m", "gunicorn", "--workers", str(WORKERS),
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "demo.wsgi:application",
    ]  # fmt: skip
    proc = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(OSError):
                if one(port, "GET", "/auth/.well-known/jwks.json", {}, None) == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("gunicorn did not start")
            time.sleep(0.2)
        yield
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)


def one(port: int, method: str, path: str, headers: dict, body: bytes | None) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def load(port: int, method: str, path: str, headers: dict, body, seconds: float) -> float:
    """Requests per second answered 200 by ``THREADS`` threads for ``seconds``."""
    done, failed = [0] * THREADS, [0] * THREADS
    stop = time.monotonic() + seconds

    def worker(i: int) -> None:
        while time.monotonic() < stop:
            if one(port, method, path, headers, body) == 200:
                done[i] += 1
            else:
                failed[i] += 1

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if sum(failed):
        raise SystemExit(f"{path}: {sum(failed)} requests did not answer 200")
    return sum(done) / (time.monotonic() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=1.0, help="per slice")
    parser.add_argument("--rounds", type=int, default=7, help="slices per endpoint")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        env = environment(Path(tmp))
        pair = json.loads(python(SETUP, env))
        access = pair["access"]
        basic = "Basic " + base64.b64encode(":".join(CLIENT).encode()).decode()
        count_env = {**env, "BENCH_COUNT_REDIS": "1", "ALLOWED_HOSTS": "testserver"}
        counts = json.loads(python(COUNT, count_env, access, basic))
        for name, found in counts.items():
            if found["status"] != 200:
                raise SystemExit(f"{name} answered {found['status']} in the counting run")
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        token_body = f"token={access}".encode()
        cases = {
            "introspection": ("POST", "/auth/token/introspect/",
                              {**form, "Authorization": basic}, token_body),
            "forward-auth": ("GET", "/auth/token/verify/",
                             {"Authorization": f"Bearer {access}"}, None),
            "simplejwt TokenVerifyView": ("POST", "/bench/simplejwt-verify/", form, token_body),
        }  # fmt: skip
        port = free_port()
        samples: dict[str, list[float]] = {name: [] for name in cases}
        with gunicorn(env, port):
            for method, path, headers, body in cases.values():
                load(port, method, path, headers, body, 0.5)  # warm every worker
            # Interleaved slices, median of each: a shared machine's load drifts over a run.
            for _ in range(args.rounds):
                for name, (method, path, headers, body) in cases.items():
                    samples[name].append(load(port, method, path, headers, body, args.seconds))
        rates = {name: statistics.median(found) for name, found in samples.items()}
    baseline = rates["simplejwt TokenVerifyView"]
    print(
        f"gunicorn, {WORKERS} sync workers, {THREADS} client threads; median of {args.rounds} "
        f"interleaved {args.seconds:g} s slices"
    )
    print("| endpoint | requests/s | vs simplejwt | Redis round trips | queries |")
    print("|---|---|---|---|---|")
    for name, rate in rates.items():
        c = counts[name]
        print(
            f"| {name} | {rate:,.0f} | {rate / baseline:.2f}x | {c['round_trips']} "
            f"| {c['queries']} |"
        )


if __name__ == "__main__":
    main()
