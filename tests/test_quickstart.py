"""docs/quickstart.md works as written: a fresh ``startproject`` gets the documented settings
and URLs, migrates, passes ``check`` with no issue, and the documented curl calls (sign up,
verify with the emailed code, log in, me) succeed against it on real Redis. The README's
adoption snippet is the quickstart's, so the two cannot drift apart."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.conf import settings

from django_redis_auth.accounts.serializers import UserSerializer

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "docs" / "quickstart.md"
DOCUMENTED_REDIS = "redis://127.0.0.1:6379/0"


def blocks(text: str) -> list[tuple[str, str]]:
    """(info string, body) of every fenced code block."""
    return re.findall(r"^```([^\n]*)\n(.*?)^```$", text, re.MULTILINE | re.DOTALL)


def titled(name: str) -> str:
    (body,) = [b for info, b in blocks(QUICKSTART.read_text()) if f'title="{name}"' in info]
    return body


def shell_lines() -> list[str]:
    lines = []
    for info, body in blocks(QUICKSTART.read_text()):
        if info.strip() == "sh":
            lines += body.replace("\\\n", " ").splitlines()
    return [line.split("  #", 1)[0].strip() for line in lines if line.strip()]


def curl_calls() -> list[dict]:
    """The documented curl commands as method, path, body and headers."""
    calls = []
    for line in shell_lines():
        if not line.startswith("curl "):
            continue
        args = shlex.split(line)
        call = {"method": "GET", "body": None, "headers": {}}
        for i, arg in enumerate(args):
            if arg == "-X":
                call["method"] = args[i + 1]
            elif arg == "-d":
                call["body"] = json.loads(args[i + 1])
            elif arg == "-H":
                name, value = args[i + 1].split(": ", 1)
                call["headers"][name] = value
            elif arg.startswith("http://127.0.0.1:8000/"):
                call["path"] = arg.removeprefix("http://127.0.0.1:8000")
        calls.append(call)
    return calls


def test_quickstart_has_at_most_ten_steps():
    steps = re.findall(r"^\*\*(\d+)\. ", QUICKSTART.read_text(), re.MULTILINE)
    assert steps == [str(n) for n in range(1, len(steps) + 1)]
    assert len(steps) <= 10


def test_readme_adoption_snippet_is_the_quickstart_one():
    readme = (ROOT / "README.md").read_text()
    assert titled("settings.py") in readme
    assert titled("urls.py") in readme
    assert "EMAIL_BACKEND" in titled("settings.py")


# What the flow does with the documented calls: the code from the console replaces the
# example code, the access token replaces <access>.
FLOW = textwrap.dedent(
    """
    import io, json, re, sys
    import django
    django.setup()
    from django.test import Client
    from django_redis_auth.codes import senders

    calls = json.loads(sys.argv[1])
    console, real_stdout = io.StringIO(), sys.stdout
    sys.stdout = console  # the console email backend prints the codes here
    client, access, results = Client(HTTP_HOST="127.0.0.1:8000"), None, []
    for call in calls:
        body = call["body"]
        if body and "code" in body:
            assert senders.wait(10)
            body["code"] = re.findall(r"\\b(\\d{6})\\b", console.getvalue())[-1]
        headers = {}
        for name, value in call["headers"].items():
            if name == "Authorization":
                headers["HTTP_AUTHORIZATION"] = value.replace("<access>", access)
        response = client.generic(
            call["method"], call["path"], json.dumps(body) if body else "",
            content_type="application/json", **headers,
        )
        data = response.json()
        access = data.get("access", access)
        results.append([call["path"], response.status_code, sorted(data)])
    real_stdout.write(json.dumps(results))
    """
)


@pytest.mark.real
def test_a_fresh_project_built_from_the_quickstart_runs_every_step(tmp_path):
    env = {
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),  # step 1's install: the package of this checkout
        "DJANGO_SETTINGS_MODULE": "mysite.settings",
    }

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done

    commands = [
        line for line in shell_lines() if line.startswith(("django-admin ", "python manage.py "))
    ]
    assert commands[0] == "django-admin startproject mysite ."
    run(sys.executable, "-m", "django", *shlex.split(commands[0])[1:])
    assert DOCUMENTED_REDIS in titled("settings.py")
    with (tmp_path / "mysite" / "settings.py").open("a") as f:
        f.write("\n" + titled("settings.py").replace(DOCUMENTED_REDIS, settings.REDIS_URL))
    (tmp_path / "mysite" / "urls.py").write_text(titled("urls.py"))

    ran = []
    for command in commands[1:]:
        if command.startswith("python manage.py ") and "runserver" not in command:
            done = run(sys.executable, *shlex.split(command)[1:])
            ran.append(command)
            if command.endswith(" check"):
                assert "System check identified no issues" in done.stdout + done.stderr
    assert ran == ["python manage.py migrate", "python manage.py check"]

    calls = curl_calls()
    assert [c["path"] for c in calls] == [
        "/auth/signup/",
        "/auth/email/verify/",
        "/auth/login/",
        "/auth/me/",
    ]
    results = json.loads(run(sys.executable, "-c", FLOW, json.dumps(calls)).stdout)
    assert results == [
        ["/auth/signup/", 202, ["detail"]],
        ["/auth/email/verify/", 200, ["access", "refresh"]],
        ["/auth/login/", 200, ["access", "refresh"]],
        ["/auth/me/", 200, sorted(UserSerializer().fields)],
    ]
