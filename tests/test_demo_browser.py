"""The demo page in a real headless Chromium, against the example project under runserver.

Playwright drives Debian's ``/usr/bin/chromium`` (never a browser Playwright downloads);
``make test`` installs it when it is missing and it can (root + apt-get). Without a browser the
tests skip, except with ``CI`` set, where a missing browser is a failure. Every test leaves a
screenshot in ``artifacts/browser/`` (git-ignored), the first one the page after a sign-in.

They run once, in the fakeredis pass: the page and the server do the same on either backend,
and the in-process tests (test_demo_pages.py) cover the Redis side in both passes.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.example_server import ROOT, run, runserver

CHROMIUM = os.environ.get("DRA_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "artifacts" / "browser"
TIMEOUT_MS = 15_000
DEMO_2FA_EMAIL = "demo-2fa@example.com"
DEMO_PASSWORD = "demo-password-1234"

pytestmark = pytest.mark.fake_only

# What `make demo` runs before runserver, in one process.
SETUP = """
import django
from django.core.management import call_command

django.setup()
call_command("migrate", interactive=False, verbosity=0)
call_command("demo_user")
"""


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the browser test must run)")
    pytest.skip(f"{reason}; `make test` installs it as root (apt-get install chromium)")


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[str]:
    """The example project as `make demo` runs it (migrate, demo users, runserver), on a
    database and mailbox of its own."""
    tmp = tmp_path_factory.mktemp("demo-browser")
    env = {
        "DATABASE_URL": f"sqlite:///{tmp / 'demo.sqlite3'}",
        "EMAIL_FILE_PATH": str(tmp / "mailbox"),
    }
    result = run("-c", SETUP, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    with runserver(tmp, **env) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (the test extra has it)")
    if not Path(CHROMIUM).exists():
        _unavailable(f"no Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.base = server
    yield tab
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert errors == [], errors  # no uncaught JavaScript error on the page


def open_demo(page) -> None:
    page.goto(page.base + "/")
    page.wait_for_selector("body[data-ready=true]")  # optional panels probed


def last_call(page, path: str):
    """The newest log entry for ``path`` (the log is newest first)."""
    entry = page.locator(f"#log li[data-path='/auth/{path}']").first
    entry.wait_for()
    return entry


def wait_status(page, path: str, status: int):
    entry = page.locator(f"#log li[data-path='/auth/{path}'][data-status='{status}']").first
    entry.wait_for()
    return entry


def fill_code(page, panel: str) -> str:
    """Click the panel's "from mailbox" button; returns the code it filled in."""
    field = page.locator(f"{panel} .mailbox-fill").first.get_attribute("data-code")
    page.click(f"{panel} .mailbox-fill")
    page.wait_for_function(
        "selector => /^\\d{6}$/.test(document.querySelector(selector).value)", arg=field
    )
    return page.input_value(field)


def signed_up(page) -> str:
    """Open the page, sign up a new address and verify it through the mailbox (the device
    is signed in then); returns the address."""
    open_demo(page)
    email = new_email()
    page.fill("#signup-email", email)
    page.click("#signup-btn")
    wait_status(page, "signup/", 202)
    fill_code(page, "#panel-verify")
    page.click("#verify-btn")
    wait_status(page, "email/verify/", 200)
    return email


def new_email() -> str:
    return f"browser-{secrets.token_hex(4)}@example.com"


def test_sign_up_read_the_mailbox_verify_log_in_and_out(page):
    open_demo(page)
    email = new_email()
    page.fill("#signup-email", email)
    page.click("#signup-btn")
    signup = wait_status(page, "signup/", 202)
    assert "POST" in signup.inner_text()

    code = fill_code(page, "#panel-verify")

    # The mailbox page shows the same message, newest first, with its code.
    mailbox = page.context.new_page()
    mailbox.goto(page.base + "/dev/mailbox/")
    newest = mailbox.locator("article.mail-message").first
    assert newest.locator(".mail-to").inner_text() == email
    assert newest.locator(".code").inner_text() == code
    mailbox.close()

    page.click("#verify-btn")
    wait_status(page, "email/verify/", 200)
    page.wait_for_selector("#device-A.signed-in")
    assert email in page.inner_text("#device-A")

    # The Redis panel shows the new session's keys with their TTLs, never their values.
    page.wait_for_selector("#keys-table tr[data-key$=':epoch']")
    keys = page.locator("#keys-table tr[data-key]").all_inner_texts()
    assert any(":fam:" in row and re.search(r"\d+ h", row) for row in keys), keys

    page.click("#me-btn")
    me = wait_status(page, "me/", 200)
    assert email in me.locator("pre.response").inner_text()

    page.click("#logout-btn")
    wait_status(page, "logout/", 204)
    page.click("#me-btn")
    assert "token_revoked" in wait_status(page, "me/", 401).inner_text()

    page.click("#login-fill-signup")
    page.click("#login-btn")
    login = wait_status(page, "login/", 200)
    assert '"access"' in login.locator("pre.response").inner_text()
    page.wait_for_selector("#keys-table tr[data-key$=':epoch']")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "demo-page-signed-in.png"), full_page=True)

    page.click("#logout-btn")
    page.locator("#log li[data-path='/auth/logout/'][data-status='204']").nth(1).wait_for()


def test_second_factor_refresh_reuse_and_two_devices(page):
    open_demo(page)
    page.click(f"[data-fill-login='{DEMO_2FA_EMAIL}']")
    page.click("#login-btn")
    wait_status(page, "login/", 202)
    assert page.is_visible("#login-otp")
    fill_code(page, "#login-otp")
    page.click("#login-verify-btn")
    wait_status(page, "login/verify/", 200)
    page.wait_for_selector("#device-A.signed-in")

    # Rotation, then the rotated token again: reuse detection revokes the whole session.
    page.click("#refresh-btn")
    wait_status(page, "token/refresh/", 200)
    page.click("#refresh-replay")
    assert "token_reused" in wait_status(page, "token/refresh/", 401).inner_text()
    page.click("#me-btn")
    wait_status(page, "me/", 401)

    # Two devices of the staff demo user, then "log out everywhere" from device A.
    page.click("[data-fill-login='demo@example.com']")
    page.click("#login-btn")
    wait_status(page, "login/", 200)
    page.click("#other-device-login")
    page.wait_for_selector("#device-B.signed-in")
    page.click("#check-both")
    page.wait_for_function(
        "document.querySelector('#panel-devices output').textContent.includes('B: 200')"
    )
    assert "A: 200" in page.inner_text("#panel-devices output")
    page.click("#logout-all-btn")
    wait_status(page, "logout/all/", 204)
    page.click("#check-both")
    page.wait_for_function(
        "document.querySelector('#panel-devices output').textContent.includes('B: 401')"
    )
    assert "A: 401" in page.inner_text("#panel-devices output")


def test_authenticator_app_enrol_and_sign_in_with_it(page):
    """The authenticator panel: QR code shown, the app's code (computed here with pyotp, as
    a phone would) turns it on, recovery codes are shown; then sign-in asks for the app's
    code — no email — and a recovery code works too."""
    import time

    import pyotp

    signed_up(page)

    page.click("#totp-setup")
    wait_status(page, "2fa/totp/setup/", 200)
    page.wait_for_selector("#totp-qr svg")
    secret = page.inner_text("#totp-secret").strip()
    otp = pyotp.TOTP(secret)
    # Confirm with the previous step's code (within the drift window), so the current
    # step's code is still unused for the sign-in below.
    page.fill("#totp-code", otp.generate_otp(otp.timecode(time.time()) - 1))
    page.click("#totp-confirm")
    wait_status(page, "2fa/totp/confirm/", 200)
    page.wait_for_selector("#recovery-codes li")
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10

    page.click("#logout-btn")
    wait_status(page, "logout/", 204)
    page.click("#login-fill-signup")
    page.click("#login-btn")
    login = wait_status(page, "login/", 202)
    assert '"totp"' in login.locator("pre.response").inner_text()
    assert page.input_value("#login-method") == "totp"
    assert "no email was sent" in page.inner_text("#login-otp-note")
    page.fill("#login-code", otp.now())
    page.click("#login-verify-btn")
    wait_status(page, "login/verify/", 200)
    page.wait_for_selector("#device-A.signed-in")

    page.click("#factors-btn")
    factors = wait_status(page, "2fa/", 200)
    assert '"recovery_codes_left": 10' in factors.locator("pre.response").inner_text()

    # Lost the phone: a recovery code instead.
    page.click("#logout-btn")
    page.locator("#log li[data-path='/auth/logout/'][data-status='204']").nth(1).wait_for()
    page.click("#login-btn")
    page.locator("#log li[data-path='/auth/login/'][data-status='202']").nth(1).wait_for()
    page.select_option("#login-method", "recovery_code")
    page.fill("#login-code", codes[0])
    page.click("#login-verify-btn")
    page.locator("#log li[data-path='/auth/login/verify/'][data-status='200']").nth(1).wait_for()


def test_sign_in_with_a_code_no_password(page):
    """A user who forgot the password manager: the code panel, the mailbox, a pair."""
    email = signed_up(page)
    page.click("#logout-btn")
    wait_status(page, "logout/", 204)

    assert page.input_value("#code-login-email") == email
    page.click("#code-login-btn")
    wait_status(page, "login/code/", 202)
    fill_code(page, "#panel-code-login")
    page.click("#code-login-confirm")
    wait_status(page, "login/code/confirm/", 200)
    page.wait_for_selector("#device-A.signed-in")
    page.click("#me-btn")
    assert email in wait_status(page, "me/", 200).inner_text()
    # The activity panel lists how the account was used.
    page.click("#activity-btn")
    page.wait_for_selector("#activity-table:not([hidden]) tbody tr")
    rows = page.locator("#activity-table tbody").inner_text()
    assert "email_code" in rows and "session_ended" in rows and "email_verification" in rows


@pytest.fixture(scope="module")
def short_window_server(tmp_path_factory) -> Iterator[str]:
    """The demo with REAUTH_WINDOW=1: a sign-in is old a second later, so the page meets
    the reauthentication prompt without the test waiting minutes."""
    tmp = tmp_path_factory.mktemp("demo-reauth")
    env = {
        "DATABASE_URL": f"sqlite:///{tmp / 'demo.sqlite3'}",
        "EMAIL_FILE_PATH": str(tmp / "mailbox"),
        "REAUTH_WINDOW": "1",
    }
    result = run("-c", SETUP, **env)
    assert result.returncode == 0, result.stdout + result.stderr
    with runserver(tmp, **env) as base:
        yield base


def test_a_sensitive_change_asks_to_confirm_it_is_you(browser, short_window_server):
    """Past the window, turning the authenticator on answers 403 reauthentication_required;
    the page asks for the password, POSTs reauth/ and the change goes through."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    tab.base = short_window_server
    try:
        open_demo(tab)
        tab.click("[data-fill-login='demo@example.com']")
        tab.click("#login-btn")
        wait_status(tab, "login/", 200)
        tab.wait_for_timeout(1100)  # the sign-in is no longer recent (REAUTH_WINDOW=1)
        tab.click("#totp-setup")
        refused = wait_status(tab, "2fa/totp/setup/", 403)
        assert "reauthentication_required" in refused.inner_text()
        tab.wait_for_selector("#reauth:not([hidden])")
        assert tab.locator("#reauth-method option").all_inner_texts() == ["password"]
        tab.fill("#reauth-secret", "wrong password")
        tab.click("#reauth-submit")
        wait_status(tab, "reauth/", 400)
        assert tab.is_visible("#reauth")
        tab.fill("#reauth-secret", "demo-password-1234")
        tab.click("#reauth-submit")
        wait_status(tab, "reauth/", 200)
        wait_status(tab, "2fa/totp/setup/", 200)  # retried once, through
        tab.wait_for_selector("#totp-qr svg")
        assert tab.is_hidden("#reauth")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / "reauth_prompt.png"), full_page=True)
    finally:
        context.close()
    assert errors == []


def test_password_reset_through_the_page(page):
    signed_up(page)

    page.click("#reset-request")
    wait_status(page, "password/reset/", 202)
    fill_code(page, "#panel-password")
    page.fill("#reset-new", "a fresh passphrase for the browser")
    page.click("#reset-confirm")
    wait_status(page, "password/reset/confirm/", 200)
    page.click("#me-btn")  # the reset signed every device out
    assert "token_revoked" in wait_status(page, "me/", 401).inner_text()
    page.click("#login-btn")  # the page filled in the new password
    wait_status(page, "login/", 200)


@pytest.mark.parametrize(("width", "height"), [(390, 844), (320, 640)])
def test_navigation_fits_a_phone_screen(browser, server, width, height):
    """Every link of the top navigation is on screen at a phone's width (it wraps)."""
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        tab = context.new_page()
        tab.goto(server + "/")
        tab.wait_for_selector("body[data-ready=true]")
        links = tab.locator("header nav a")
        assert links.count() >= 3
        for index in range(links.count()):
            box = links.nth(index).bounding_box()
            assert box is not None and box["width"] > 0, index
            assert box["x"] >= 0 and box["x"] + box["width"] <= width, (index, box)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(ARTIFACTS / f"phone-{width}.png"), full_page=False)
    finally:
        context.close()


def test_panel_hides_when_its_endpoint_answers_404(page):
    # Whatever this version of the package has: one optional endpoint answers 404, another one
    # answers (an OPTIONS 401, as an authenticated endpoint does).
    page.route(
        "**/auth/2fa/email/enable/",
        lambda route: route.fulfill(
            status=404, content_type="text/html", body="<h1>Not Found</h1>"
        ),
    )
    page.route(
        "**/auth/sessions/",
        lambda route: route.fulfill(
            status=401, content_type="application/json", body='{"code": "not_authenticated"}'
        ),
    )

    def revoke_others(route):  # probed as present, then a 404 page when called
        if route.request.method == "OPTIONS":
            route.fulfill(status=401, content_type="application/json", body="{}")
        else:
            route.fulfill(status=404, content_type="text/html", body="<h1>Not Found</h1>")

    page.route("**/auth/sessions/revoke-others/", revoke_others)
    open_demo(page)
    assert page.is_hidden("#panel-2fa")
    assert page.is_visible("#sessions-btn")
    assert page.is_visible("#panel-me")
    assert "2fa/email/enable/" in page.inner_text("#missing")

    page.click("[data-fill-login='demo@example.com']")
    page.click("#login-btn")
    wait_status(page, "login/", 200)
    page.click("#revoke-others-btn")
    wait_status(page, "sessions/revoke-others/", 404)
    page.wait_for_selector("#revoke-others-btn", state="hidden")
    assert "sessions/revoke-others/" in page.inner_text("#missing")


def test_google_return_trades_the_fragment_code_for_a_pair(page):
    """google/callback/ sends the browser to ``/#code=<one-time code>``: the page posts it to
    google/exchange/, keeps the pair and drops the code from the address bar. The exchange
    and me/ are answered here, so this holds whether or not Google sign-in is configured."""
    posted: list[str | None] = []

    def exchange(route):
        if route.request.method == "POST":
            posted.append(route.request.post_data)
        route.fulfill(
            status=200,
            content_type="application/json",
            body='{"access": "a.e30.c", "refresh": "r"}',
        )

    page.route("**/auth/google/exchange/", exchange)
    page.route(
        "**/auth/me/",
        lambda route: route.fulfill(
            status=200,
            content_type="application/json",
            body='{"id": "7", "email": "g@example.com"}',
        ),
    )
    page.goto(page.base + "/#code=one-time-exchange-code")
    page.wait_for_selector("#device-A.signed-in")
    # The card shows the address once me/ has answered (a moment after signed-in).
    page.wait_for_function(
        "document.querySelector('#device-A').innerText.includes('g@example.com')"
    )
    assert [json.loads(body) for body in posted] == [{"code": "one-time-exchange-code"}]
    assert "#" not in page.url
    wait_status(page, "google/exchange/", 200)
