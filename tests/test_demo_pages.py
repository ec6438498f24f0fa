"""The example project's pages, in this process: the demo page, the JSON index, the
development mailbox (its backend and pages) and the Redis keys panel.

The example's views and URLconf are used as they are (``example_project`` on ``sys.path``,
``ROOT_URLCONF = "demo.urls"``) on this suite's Redis and database, so they run in both
passes; test_demo_browser.py drives the same pages in Chromium.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from django.core import mail
from django.urls import URLPattern

from django_redis_auth import keys
from tests.example_server import EXAMPLE, MANAGE, ROOT
from tests.helpers import set_email_backend

if str(EXAMPLE) not in sys.path:
    sys.path.insert(0, str(EXAMPLE))

from demo import mailbox  # example_project/ is put on the path just above

PASSWORD = "correct horse battery staple"


@pytest.fixture
def demo_site(settings, tmp_path):
    """This suite's settings plus what the example project's pages need, DEBUG on."""
    settings.DEBUG = True
    settings.ROOT_URLCONF = "demo.urls"
    settings.STATIC_URL = "/static/"
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [EXAMPLE / "demo" / "templates"]},
    ]
    settings.LOCALE_PATHS = [EXAMPLE / "demo" / "locale"]  # the demo app's own labels
    set_email_backend(settings, "demo.mailbox.MailboxBackend")
    settings.MAILBOX_DIR = tmp_path / "mailbox"
    settings.MAILBOX_SIZE = 100
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = ""
    settings.SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = ""
    return settings


def send(to: str, subject: str, body: str) -> None:
    mail.send_mail(subject, body, "auth@example.com", [to])


# --- the mailbox backend ---------------------------------------------------------------------


def test_mailbox_backend_keeps_messages_newest_first_with_their_codes(demo_site, api, db):
    response = api.post(
        "/auth/signup/", {"email": "New@Example.com", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 202
    send("other@example.com", "Hello", "no code in here, only 12345 and 1234567")

    hello, verification = mailbox.messages()
    assert (hello["to"], hello["subject"], hello["code"]) == (
        ["other@example.com"],
        "Hello",
        None,
    )
    assert verification["to"] == ["new@example.com"]  # the canonical address
    assert verification["subject"] == "Your verification code"
    assert verification["code"] and verification["code"] in verification["text"]
    assert verification["code"] in verification["html"]
    assert hello["id"] > verification["id"]


def test_mailbox_keeps_only_its_size(demo_site):
    demo_site.MAILBOX_SIZE = 3
    for n in range(5):
        send("a@example.com", f"message {n}", f"code {n}{n}{n}{n}{n}{n}")
    assert [m["subject"] for m in mailbox.messages()] == ["message 4", "message 3", "message 2"]
    assert len(list(demo_site.MAILBOX_DIR.iterdir())) == 3  # no temporary files left


WRITER = """
import sys
import django
from django.conf import settings

settings.configure(MAILBOX_DIR=sys.argv[1], MAILBOX_SIZE=7)
django.setup()
from django.core.mail import EmailMessage
from demo import mailbox

for n in range(40):
    message = EmailMessage(f"{sys.argv[2]} {n}", "code 123456", "a@example.com", ["b@a.org"])
    mailbox.store(message)
"""


def test_mailbox_is_safe_with_several_writing_processes(demo_site, tmp_path):
    """gunicorn workers and runserver's reloader are separate processes: messages written at
    the same time are whole, the bound holds, and the newest survive."""
    folder = tmp_path / "shared-mailbox"
    env = {"PYTHONPATH": f"{EXAMPLE}:{ROOT}", "PATH": "/usr/bin:/bin"}
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(folder), f"writer{w}"], env=env)
        for w in range(4)
    ]
    assert [writer.wait(timeout=60) for writer in writers] == [0, 0, 0, 0]
    demo_site.MAILBOX_DIR = folder
    demo_site.MAILBOX_SIZE = 7
    mailbox.prune()  # the last two writers may have pruned at the same moment
    found = mailbox.messages()
    assert len(found) == 7
    assert all(m["code"] == "123456" for m in found)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{m['id']}.json" for m in found)
    # Each writer's last message is newer than its earlier ones, so it outlives them.
    assert {m["subject"].split()[1] for m in found} <= {str(n) for n in range(33, 40)}


# --- /dev/ pages -----------------------------------------------------------------------------


def test_mailbox_page_and_json(demo_site, client):
    for n in range(3):
        send(f"user{n}@example.com", f"Your code {n}", f"Your code is 00000{n}")

    page = client.get("/dev/mailbox/")
    assert page.status_code == 200
    html = page.content.decode()
    positions = [html.index(f"user{n}@example.com") for n in (2, 1, 0)]
    assert positions == sorted(positions)  # newest first
    assert '<b class="code">000002</b>' in html
    assert 'id="other-backend"' not in html

    everything = client.get("/dev/mailbox.json").json()["messages"]
    assert [m["code"] for m in everything] == ["000002", "000001", "000000"]
    newest = client.get("/dev/mailbox.json?limit=1").json()["messages"]
    assert [m["code"] for m in newest] == ["000002"]
    after = client.get(f"/dev/mailbox.json?after={everything[2]['id']}").json()["messages"]
    assert [m["code"] for m in after] == ["000002", "000001"]
    assert client.get("/dev/mailbox.json?after=" + everything[0]["id"]).json() == {"messages": []}


def test_mailbox_page_says_when_mail_goes_elsewhere(demo_site, client):
    set_email_backend(demo_site, "django.core.mail.backends.locmem.EmailBackend")
    html = client.get("/dev/mailbox/").content.decode()
    assert 'id="other-backend"' in html and "locmem" in html


def test_development_pages_are_404_without_debug(demo_site, client, user, login):
    access = login()["access"]
    demo_site.DEBUG = False
    assert client.get("/dev/mailbox/").status_code == 404
    assert client.get("/dev/mailbox.json").status_code == 404
    for header in ({"HTTP_AUTHORIZATION": f"Bearer {access}"}, {"HTTP_AUTHORIZATION": "Bearer x"}):
        response = client.get("/dev/redis-keys/", **header)
        assert response.status_code == 404  # before authentication: nothing to learn
        assert response.json()["code"] == "not_found"


# --- the Redis keys panel --------------------------------------------------------------------


def test_redis_keys_need_a_bearer_token(demo_site, client):
    response = client.get("/dev/redis-keys/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_redis_keys_show_the_users_keys_and_ttls_never_values(
    demo_site, api, bearer, user, login, redis_client
):
    first, second = login(), login()
    assert bearer(second["access"]).post("/auth/logout/", {}, format="json").status_code == 204
    assert api.post("/auth/password/reset/", {"email": user.email}, format="json").status_code == (
        202
    )

    response = bearer(first["access"]).get("/dev/redis-keys/")
    assert response.status_code == 200
    body = response.json()
    user_tag, email_tag = keys.user_tag(user.pk), keys.email_tag(user.email)
    assert body["tags"] == [user_tag, email_tag]

    in_redis = {
        key.decode()
        for tag in (user_tag, email_tag)
        for key in redis_client.scan_iter(match=f"{tag}:*")
    }
    listed = {entry["key"]: entry for entry in body["keys"]}
    assert set(listed) == in_redis
    assert [entry["key"] for entry in body["keys"]] == sorted(listed)
    assert {keys.epoch(user.pk), keys.cached_user(user.pk), keys.limits(user.email)} <= set(listed)
    assert keys.code(user.email, "password_reset") in listed
    suffixes = {key.removeprefix(user_tag + ":").split(":")[0] for key in listed}
    assert {"epoch", "fam", "jti", "user"} <= suffixes  # logout left a revoked-token record

    for entry in body["keys"]:
        assert set(entry) == {"key", "type", "ttl_ms", "label"}
        assert entry["ttl_ms"] > 0, entry  # everything expires by itself
        assert entry["label"], entry
    assert listed[keys.code(user.email, "password_reset")]["type"] == "hash"
    # Names only: neither the cached user's JSON nor anything else stored leaks out.
    assert user.email not in response.content.decode()


# --- the demo page and the JSON index --------------------------------------------------------


def page_config(response) -> dict:
    html = response.content.decode()
    start = html.index('<script id="demo-config" type="application/json">') + len(
        '<script id="demo-config" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def test_demo_page_wires_the_api_and_development_helpers(demo_site, client):
    response = client.get("/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    config = page_config(response)
    assert config["api"] == "/auth/"
    assert (config["mailbox"], config["redis_keys"]) == ("/dev/mailbox.json", "/dev/redis-keys/")
    assert {a["email"] for a in config["accounts"]} == {"demo@example.com", "demo-2fa@example.com"}
    assert config["google"] is False
    html = response.content.decode()
    assert 'id="google-off"' in html and 'id="google-btn"' not in html
    assert "/static/demo/demo.js" in html


def test_demo_page_shows_google_button_when_keys_are_set(demo_site, client):
    demo_site.SOCIAL_AUTH_GOOGLE_OAUTH2_KEY = "key"
    demo_site.SOCIAL_AUTH_GOOGLE_OAUTH2_SECRET = "secret"
    response = client.get("/")
    assert page_config(response)["google"] is True
    assert 'id="google-btn" class="button" href="/auth/google/start/?next=/"' in (
        response.content.decode()
    )


def test_demo_page_without_debug_offers_no_development_helpers(demo_site, client):
    demo_site.DEBUG = False
    config = page_config(client.get("/"))
    assert (config["mailbox"], config["redis_keys"], config["accounts"]) == (None, None, [])
    assert config["demo_password"] == ""


def test_api_index_lists_every_route_of_the_package(demo_site, client):
    from django_redis_auth import urls

    body = client.get("/api/").json()
    names = [p.name for p in urls.urlpatterns if isinstance(p, URLPattern)]
    assert [e["name"] for e in body["endpoints"]] == names
    by_name = {e["name"]: e for e in body["endpoints"]}
    assert by_name["login"] == {
        "path": "/auth/login/",
        "name": "login",
        "method": "POST",
        "methods": ["POST"],
        "description": by_name["login"]["description"],
    }
    assert by_name["login"]["description"]
    assert "GET" in by_name["me"]["methods"]
    assert all(e["path"].startswith("/auth/") and e["methods"] for e in body["endpoints"])
    assert body["links"]["mailbox"] == "/dev/mailbox/"


# --- manage.py outside the demo's virtualenv --------------------------------------------------


def test_manage_py_without_django_explains_what_to_run():
    # -S: no site-packages, as with a system Python that has no Django.
    result = subprocess.run(
        [sys.executable, "-S", MANAGE, "createsuperuser"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 1
    assert "no module named 'django'" in result.stderr
    assert "make demo" in result.stderr
    assert "example_project/manage.py createsuperuser" in textwrap.dedent(result.stderr)
    assert "Traceback" not in result.stderr


def test_api_index_and_page_link_the_openapi_pages_when_the_project_has_them(demo_site, client):
    links = client.get("/api/").json()["links"]
    assert (links["schema"], links["docs"]) == ("/api/schema/", "/api/docs/")
    assert '<a href="/api/docs/" id="link-docs">' in client.get("/").content.decode()

    demo_site.ROOT_URLCONF = "tests.demo_urls_without_docs"
    assert "docs" not in client.get("/api/").json()["links"]
    assert 'id="link-docs"' not in client.get("/").content.decode()


def test_unknown_paths_answer_json_not_an_html_page(demo_site, client):
    demo_site.DEBUG = False
    for path in ("/auth/nope/", "/nope", "/api/nope/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_the_demo_page_speaks_german(demo_site, client):
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert '<html lang="de">' in page
    for label in ("Registrieren", "Mit einem Code anmelden", "Sicherheitsaktivität", "Abbrechen"):
        assert label in page, label
    assert "POST signup/" in page  # endpoints stay as they are
    english = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Sign up" in english and "Registrieren" not in english
