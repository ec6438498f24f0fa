"""Services that are not Django trust our tokens: plain PyJWT (``PyJWKClient``) against the
example project's published JWK Set across a key rotation, RFC 7662 introspection over HTTP,
and the real nginx with ``auth_request`` in front of a non-Django upstream refusing a token
right after its logout.

The example project runs under runserver (tests/example_server.py) with its in-process
Redis stand-in; nginx is Debian's (``make test`` installs it; with ``CI`` set a missing
nginx fails the test instead of skipping it).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest

from tests.example_server import run, runserver, wait_for_port
from tests.fleet_keys import key_pair
from tests.redis_servers import free_ports, terminate

pytestmark = pytest.mark.fake_only

DEMO = {"email": "demo@example.com", "password": "demo-password-1234"}
SETUP = """
import django
from django.core.management import call_command

django.setup()
call_command("migrate", interactive=False, verbosity=0)
call_command("demo_user")
"""


def request(url: str, *, data: dict | None = None, headers: dict | None = None, form=False):
    """(status, headers, body) of one HTTP request (errors included)."""
    body = None
    headers = dict(headers or {})
    if data is not None:
        if form:
            from urllib.parse import urlencode

            body = urlencode(data).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        else:
            body = json.dumps(data).encode()
            headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=body, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def sign_in(base: str) -> dict:
    status, _, body = request(f"{base}/auth/login/", data=DEMO)
    assert status == 200, body
    return json.loads(body)


@pytest.fixture(scope="module")
def keys_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fleet-keys")
    for name, (algorithm, n) in {"old": ("RS256", 20), "new": ("ES256", 21)}.items():
        private, public = key_pair(algorithm, n)
        (folder / f"{name}.pem").write_text(private)
        (folder / f"{name}.pub.pem").write_text(public)
    return folder


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("fleet-live")
    env = {
        "DATABASE_URL": f"sqlite:///{tmp / 'demo.sqlite3'}",
        "EMAIL_FILE_PATH": str(tmp / "mailbox"),
        "INTROSPECTION_CLIENTS": "orders:s3cret,billing:other",
    }
    result = run("-c", SETUP, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    return env


def test_pyjwkclient_verifies_our_tokens_across_a_key_rotation(tmp_path, keys_dir, database):
    old_keys = {
        "JWT_ALGORITHM": "RS256",
        "JWT_SIGNING_KEY_FILE": str(keys_dir / "old.pem"),
        "JWT_VERIFYING_KEY_FILES": str(keys_dir / "old.pub.pem"),
    }
    (tmp_path / "before").mkdir()
    with runserver(tmp_path / "before", **database, **old_keys) as base:
        before = sign_in(base)
        client = jwt.PyJWKClient(f"{base}/.well-known/jwks.json")  # the site root's copy
        key = client.get_signing_key_from_jwt(before["access"])
        claims = jwt.decode(before["access"], key.key, algorithms=["RS256"])
        assert claims["token_type"] == "access"
        old_kid = jwt.get_unverified_header(before["access"])["kid"]
        status, headers, _ = request(f"{base}/auth/.well-known/jwks.json")
        assert status == 200 and "max-age=300" in headers["Cache-Control"]

    rotated = {
        "JWT_ALGORITHM": "ES256",
        "JWT_SIGNING_KEY_FILE": str(keys_dir / "new.pem"),
        # The new public key first; the old one still verifies until its tokens expire.
        "JWT_VERIFYING_KEY_FILES": f"{keys_dir / 'new.pub.pem'},{keys_dir / 'old.pub.pem'}",
    }
    (tmp_path / "after").mkdir()
    with runserver(tmp_path / "after", **database, **rotated) as base:
        after = sign_in(base)
        new_kid = jwt.get_unverified_header(after["access"])["kid"]
        assert new_kid != old_kid
        client = jwt.PyJWKClient(f"{base}/.well-known/jwks.json")
        for token, algorithm in ((before["access"], "RS256"), (after["access"], "ES256")):
            key = client.get_signing_key_from_jwt(token)
            assert jwt.decode(token, key.key, algorithms=[algorithm])["user_id"]
        published = json.loads(request(f"{base}/.well-known/jwks.json")[2])["keys"]
        assert {k["kid"]: k["alg"] for k in published} == {new_kid: "ES256", old_kid: "RS256"}

        # Introspection over HTTP: the live token is active, a logged-out one is not.
        auth = {"Authorization": "Basic " + base64.b64encode(b"orders:s3cret").decode()}
        url = f"{base}/auth/token/introspect/"
        status, _, body = request(url, data={"token": after["access"]}, headers=auth, form=True)
        assert status == 200 and json.loads(body)["active"] is True
        bearer = {"Authorization": f"Bearer {after['access']}"}
        assert request(f"{base}/auth/logout/", data={}, headers=bearer)[0] == 204
        status, _, body = request(url, data={"token": after["access"]}, headers=auth, form=True)
        assert json.loads(body) == {"active": False}
        wrong = {"Authorization": "Basic " + base64.b64encode(b"orders:nope").decode()}
        status, headers, body = request(url, data={"token": "x"}, headers=wrong, form=True)
        assert status == 401 and json.loads(body)["code"] == "invalid_client"
        assert headers["WWW-Authenticate"].startswith("Basic")


# --- nginx auth_request ---------------------------------------------------------------------

UPSTREAM = textwrap.dedent(
    """
    import json, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Echo(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps({"path": self.path, "user": self.headers.get("X-User-Id")})
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args):
            pass

    HTTPServer(("127.0.0.1", int(sys.argv[1])), Echo).serve_forever()
    """
)

NGINX_CONF = """
worker_processes 1;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;

    server {{
        listen 127.0.0.1:{port};

        # Every request asks django-redis-auth first (docs/other-services.md).
        location = /_auth {{
            internal;
            proxy_pass {django}/auth/token/verify/;
            proxy_method GET;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_set_header X-Original-URI $request_uri;
        }}

        location / {{
            auth_request /_auth;
            auth_request_set $user_id $upstream_http_x_user_id;
            proxy_set_header X-User-Id $user_id;
            proxy_pass http://127.0.0.1:{upstream};
        }}
    }}
}}
"""


def nginx_binary() -> str:
    found = os.environ.get("DRA_NGINX") or shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).exists():
        reason = "nginx is not installed (`make test` installs Debian's nginx as root)"
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI is set: the gateway test must run")
        pytest.skip(reason)
    return found


@contextlib.contextmanager
def process(args: list[str], port: int, log: Path) -> Iterator[subprocess.Popen]:
    with log.open("w") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for_port(port, proc, log)
        yield proc
    finally:
        terminate(proc, timeout=10)


def test_nginx_refuses_a_token_at_the_gateway_right_after_logout(tmp_path, database):
    nginx = nginx_binary()
    gateway_port, upstream_port = free_ports(2)
    with runserver(tmp_path, **database) as base:
        conf = tmp_path / "nginx.conf"
        conf.write_text(
            NGINX_CONF.format(
                tmp=tmp_path,
                port=gateway_port,
                upstream=upstream_port,
                django=base,
                user="user root;" if os.geteuid() == 0 else "",
            )
        )
        upstream = [sys.executable, "-c", UPSTREAM, str(upstream_port)]
        gateway = [nginx, "-c", str(conf), "-p", str(tmp_path), "-g", "daemon off;"]
        with (
            process(upstream, upstream_port, tmp_path / "upstream.log"),
            process(gateway, gateway_port, tmp_path / "nginx.log"),
        ):
            url = f"http://127.0.0.1:{gateway_port}/orders/7"
            assert request(url)[0] == 401  # no token: the gateway refuses
            pair = sign_in(base)
            bearer = {"Authorization": f"Bearer {pair['access']}"}
            status, _, body = request(url, headers=bearer)
            assert status == 200, (body, (tmp_path / "error.log").read_text())
            user_id = str(
                jwt.decode(pair["access"], options={"verify_signature": False})["user_id"]
            )
            assert json.loads(body) == {"path": "/orders/7", "user": user_id}

            assert request(f"{base}/auth/logout/", data={}, headers=bearer)[0] == 204
            logged_out = time.monotonic()
            status, _, _ = request(url, headers=bearer)
            assert status == 401  # refused at the gateway, upstream never asked
            assert time.monotonic() - logged_out < 1.0
            forged = {"Authorization": "Bearer " + pair["access"][:-4] + "AAAA"}
            assert request(url, headers=forged)[0] == 401
