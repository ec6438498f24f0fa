"""Passkeys in a real Chromium: the demo page on http://localhost (browsers refuse an IP
address as RP id), a CTAP2 virtual authenticator through the DevTools protocol (internal
transport, resident keys, user verification), register, sign out, sign in with it, ``me/``.

Like tests/test_demo_browser.py: Debian's Chromium through Playwright, skipped without a
browser unless ``CI`` is set."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.example_server import free_port, run, runserver
from tests.test_demo_browser import (  # noqa: F401 (the browser fixture)
    ARTIFACTS,
    SETUP,
    TIMEOUT_MS,
    browser,
    wait_status,
)

pytestmark = pytest.mark.fake_only


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("passkey-browser")
    port = free_port()
    env = {
        "DATABASE_URL": f"sqlite:///{tmp / 'demo.sqlite3'}",
        "EMAIL_FILE_PATH": str(tmp / "mailbox"),
        "PASSKEY_RP_ID": "localhost",
        "PASSKEY_ORIGINS": f"http://localhost:{port}",
    }
    result = run("-c", SETUP, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    with runserver(tmp, port=port, **env):
        yield f"http://localhost:{port}"


@pytest.fixture
def page(browser, server, request):  # noqa: F811
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    cdp = context.new_cdp_session(tab)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    tab.cdp, tab.authenticator_id, tab.base = cdp, added["authenticatorId"], server
    yield tab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert errors == [], errors


def test_add_a_passkey_sign_out_and_sign_in_with_it(page):
    page.goto(page.base + "/")
    page.wait_for_selector("body[data-ready=true]")
    assert page.is_visible("#panel-passkeys")
    assert page.is_hidden("#passkey-note")  # on localhost: no "use localhost" notice

    page.click("[data-fill-login='demo@example.com']")
    page.click("#login-btn")
    wait_status(page, "login/", 200)
    page.wait_for_selector("#device-A.signed-in")

    page.fill("#passkey-name", "Chromium")
    page.click("#passkey-add")
    created = wait_status(page, "passkeys/", 201)
    assert '"Chromium"' in created.locator("pre.response").inner_text()
    stored = page.cdp.send("WebAuthn.getCredentials", {"authenticatorId": page.authenticator_id})
    assert len(stored["credentials"]) == 1 and stored["credentials"][0]["isResidentCredential"]

    page.click("#logout-btn")
    wait_status(page, "logout/", 204)
    page.click("#me-btn")
    wait_status(page, "me/", 401)

    # Nothing typed: a discoverable credential.
    page.fill("#passkey-email", "")
    page.click("#passkey-login")
    signed_in = wait_status(page, "passkeys/login/", 200)
    assert '"access"' in signed_in.locator("pre.response").inner_text()
    page.click("#me-btn")
    me = page.locator("#log li[data-path='/auth/me/'][data-status='200']").first
    me.wait_for()
    assert "demo@example.com" in me.locator("pre.response").inner_text()
    stored = page.cdp.send("WebAuthn.getCredentials", {"authenticatorId": page.authenticator_id})
    assert stored["credentials"][0]["signCount"] >= 1


def test_on_127_0_0_1_the_panel_says_to_use_localhost(page):
    page.goto(page.base.replace("localhost", "127.0.0.1") + "/")
    page.wait_for_selector("body[data-ready=true]")
    note = page.locator("#passkey-note")
    note.wait_for()
    assert "http://localhost:" in note.inner_text()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.locator("#panel-passkeys").screenshot(path=str(ARTIFACTS / "passkey-panel-127.png"))
