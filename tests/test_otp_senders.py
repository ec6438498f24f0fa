"""Email senders and templates: off the request path, after commit, bounded, overridable."""

from __future__ import annotations

import logging
import threading

import pytest
from django.core import mail
from django.test import override_settings

from django_redis_auth.codes import senders
from django_redis_auth.codes.senders import AuthEmail
from tests.helpers import set_email_backend, use_smtp

CODE_KINDS = ("email_verification", "login", "password_reset")
NOTICE_KINDS = ("signup_exists", "password_changed")


@pytest.fixture(autouse=True)
def _drain_pool():
    yield
    assert senders.wait(timeout=10)


@pytest.mark.parametrize("kind", CODE_KINDS)
def test_code_emails_render_text_and_html_with_the_code(kind):
    message = AuthEmail(
        to="alice@example.com", kind=kind, context={"code": "042917", "code_ttl_minutes": 10}
    )
    email = senders.render(message)
    assert email.to == ["alice@example.com"]
    assert email.from_email == "auth@example.com"
    assert "\n" not in email.subject and "code" in email.subject.lower()
    assert "042917" not in email.subject  # lock screens show subjects
    assert "042917" in email.body and "10 minutes" in email.body
    ((html, mimetype),) = email.alternatives
    assert mimetype == "text/html" and "042917" in html and html.lstrip().startswith("<!doctype")


@pytest.mark.parametrize("kind", NOTICE_KINDS)
def test_notices_render_without_a_code(kind):
    email = senders.render(AuthEmail(to="alice@example.com", kind=kind))
    assert "alice@example.com" in email.body
    assert email.subject and email.alternatives


def test_text_body_is_not_html_escaped():
    email = senders.render(AuthEmail(to="o'brien@example.com", kind="signup_exists"))
    assert "o'brien@example.com" in email.body
    ((html, _),) = email.alternatives
    assert "o&#x27;brien@example.com" in html


def test_project_templates_override_the_package_ones(tmp_path, settings):
    folder = tmp_path / "django_redis_auth" / "email"
    folder.mkdir(parents=True)
    (folder / "login_subject.txt").write_text("ACME sign-in")
    (folder / "login.txt").write_text("ACME code {{ code }}")
    templates = [{**settings.TEMPLATES[0], "DIRS": [str(tmp_path)]}]
    with override_settings(TEMPLATES=templates):
        email = senders.render(AuthEmail(to="a@example.com", kind="login", context={"code": "1"}))
    assert (email.subject, email.body) == ("ACME sign-in", "ACME code 1")
    assert "<!doctype html>" in email.alternatives[0][0]  # html falls back to the package's


def test_message_round_trips_through_a_dict_and_hides_the_code_in_repr():
    message = AuthEmail(to="a@example.com", kind="login", context={"code": "123456"})
    assert AuthEmail.from_dict(message.as_dict()) == message
    import json

    assert json.loads(json.dumps(message.as_dict()))["context"]["code"] == "123456"
    assert "123456" not in repr(message)


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError):
        AuthEmail(to="a@example.com", kind="newsletter")


def test_send_now_sends_synchronously():
    senders.send_now(AuthEmail(to="a@example.com", kind="password_changed"))
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_send_in_background_waits_for_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        senders.send_in_background(AuthEmail(to="a@example.com", kind="password_changed"))
        assert senders.wait(timeout=10)
        assert mail.outbox == []  # nothing queued before the commit
    assert len(callbacks) == 1
    assert senders.wait(timeout=10)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_send_in_background_never_sends_for_a_rolled_back_transaction():
    from django.db import transaction

    class Rollback(Exception):
        pass

    def send_then_fail():
        with transaction.atomic():
            senders.send_in_background(AuthEmail(to="a@example.com", kind="password_changed"))
            raise Rollback

    with pytest.raises(Rollback):
        send_then_fail()
    assert senders.wait(timeout=10)
    assert mail.outbox == []


@pytest.fixture
def slow_smtp(monkeypatch):
    """Delivery blocks until the test releases it (a hanging SMTP server), and records the
    thread it ran on."""
    release = threading.Event()
    threads: list[str] = []
    real_deliver = senders.deliver

    def deliver(message):
        threads.append(threading.current_thread().name)
        assert release.wait(timeout=10)
        real_deliver(message)

    monkeypatch.setattr(senders, "deliver", deliver)
    try:
        yield release, threads
    finally:
        release.set()


@pytest.mark.django_db(transaction=True)
def test_signup_answers_before_a_hanging_mail_server_sends(api, slow_smtp, settings):
    release, threads = slow_smtp
    settings.DJANGO_REDIS_AUTH = {
        **settings.DJANGO_REDIS_AUTH,
        "EMAIL_SENDER": "django_redis_auth.codes.senders.send_in_background",
    }
    response = api.post(
        "/auth/signup/",
        {"email": "new@example.com", "password": "a brand new passphrase 42"},
        format="json",
    )
    assert response.status_code == 202  # answered while the mail is still stuck
    assert mail.outbox == []
    release.set()
    assert senders.wait(timeout=10)
    assert len(mail.outbox) == 1
    assert threads and threads[0].startswith("django_redis_auth-mail")


@pytest.mark.django_db(transaction=True)
def test_background_queue_is_bounded(slow_smtp, monkeypatch, caplog):
    release, _threads = slow_smtp
    monkeypatch.setattr(senders, "MAX_PENDING", 1)
    before = senders.stats()["dropped"]
    with caplog.at_level(logging.ERROR, logger="django_redis_auth"):
        for _ in range(3):
            senders.send_in_background(AuthEmail(to="a@example.com", kind="password_changed"))
    assert senders.stats()["dropped"] - before == 2
    # Logged once per outage (then summaries, see test_outage_logs.py), not once per drop.
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("Background mail queue full (1 pending: dropped a password_changed")
    assert "a@example.com" not in caplog.text
    release.set()
    assert senders.wait(timeout=10)
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_background_failure_is_logged_without_the_code(monkeypatch, caplog):
    def broken(message):
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr(senders, "deliver", broken)
    with caplog.at_level(logging.ERROR, logger="django_redis_auth"):
        senders.send_in_background(
            AuthEmail(to="a@example.com", kind="login", context={"code": "987654"})
        )
        assert senders.wait(timeout=10)
    assert any("Could not send login email" in r.getMessage() for r in caplog.records)
    assert "987654" not in caplog.text


def test_custom_sender_receives_the_message(settings):
    received: list[AuthEmail] = []
    settings.DJANGO_REDIS_AUTH = {
        **settings.DJANGO_REDIS_AUTH,
        "EMAIL_SENDER": lambda message: received.append(message),
    }
    senders.send(AuthEmail(to="a@example.com", kind="password_changed"))
    assert [m.kind for m in received] == ["password_changed"]


# --- bounded SMTP, and nothing lost silently at shutdown ------------------------------------


def deliver_in_thread(message: AuthEmail, limit: float = 10) -> BaseException | None:
    """``senders.deliver(message)`` in a thread that must end within ``limit`` seconds."""
    outcome: list[BaseException | None] = []

    def run():
        try:
            senders.deliver(message)
            outcome.append(None)
        except BaseException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(limit)
    assert outcome, f"delivery still blocked after {limit} s"
    return outcome[0]


def test_a_silent_smtp_peer_times_out_instead_of_hanging(settings):
    from tests.smtp_peers import SilentSMTP

    settings.DJANGO_REDIS_AUTH = {**settings.DJANGO_REDIS_AUTH, "EMAIL_SEND_TIMEOUT": 0.2}
    with SilentSMTP() as peer:
        use_smtp(settings, "127.0.0.1", peer.port)  # no timeout: Django's default, forever
        error = deliver_in_thread(AuthEmail(to="a@example.com", kind="password_changed"))
    assert isinstance(error, TimeoutError | OSError)


def test_django_email_timeout_wins_and_other_backends_are_left_alone(settings):
    use_smtp(settings, "127.0.0.1", 25, timeout=3)
    assert senders._connection().timeout == 3  # the project's own timeout
    use_smtp(settings, "127.0.0.1", 25)
    assert senders._connection().timeout == 10  # EMAIL_SEND_TIMEOUT's default
    set_email_backend(settings, "django.core.mail.backends.locmem.EmailBackend")
    assert not hasattr(senders._connection(), "timeout")


def test_smtp_delivery_works_through_the_bounded_connection(settings):
    from tests.smtp_peers import SinkSMTP

    with SinkSMTP() as sink:
        use_smtp(settings, "127.0.0.1", sink.port)
        assert deliver_in_thread(AuthEmail(to="a@example.com", kind="password_changed")) is None
    assert [m["To"] for m in sink.messages] == ["a@example.com"]


unsent_handed_back: list[AuthEmail] = []


def keep_unsent(messages):
    unsent_handed_back.extend(messages)


@pytest.mark.django_db(transaction=True)
def test_shutdown_flushes_then_hands_back_what_is_unsent(slow_smtp, settings, caplog):
    release, _threads = slow_smtp
    settings.DJANGO_REDIS_AUTH = {
        **settings.DJANGO_REDIS_AUTH,
        "EMAIL_UNSENT_HANDLER": "tests.test_otp_senders.keep_unsent",
    }
    unsent_handed_back.clear()
    before = senders.stats()["unsent"]
    messages = [AuthEmail(to=f"u{i}@example.com", kind="password_changed") for i in range(5)]
    for message in messages:
        senders.send_in_background(message)
    with caplog.at_level(logging.WARNING, logger="django_redis_auth"):
        unsent = senders.shutdown(timeout=0.05)
    # Stuck on the mail server or still queued: all five come back, none is lost quietly.
    assert sorted(m.to for m in unsent) == sorted(m.to for m in messages)
    assert unsent_handed_back == unsent
    assert senders.stats()["unsent"] - before == 5
    assert "5 emails unsent at shutdown (5 password_changed)" in caplog.text
    assert "@example.com" not in caplog.text
    release.set()
    assert senders.wait(timeout=10)


def test_shutdown_with_nothing_queued_is_quiet(caplog):
    with caplog.at_level(logging.DEBUG, logger="django_redis_auth"):
        assert senders.shutdown(timeout=1) == []
    assert caplog.text == ""


EXIT_SCRIPT = """
import sys, django
from django.conf import settings
settings.configure(
    EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
    EMAIL_HOST="127.0.0.1", EMAIL_PORT=int(sys.argv[1]), DEFAULT_FROM_EMAIL="a@example.com",
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django_redis_auth"],
    DATABASES={}, AUTH_USER_MODEL="django_redis_auth.User", SECRET_KEY="s" * 50,
    TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}],
    DJANGO_REDIS_AUTH={"EMAIL_SHUTDOWN_TIMEOUT": 0.5, "EMAIL_SEND_TIMEOUT": 60,
                       "EMAIL_UNSENT_HANDLER": "unsent_to_stdout.handler"},
)
django.setup()
from django_redis_auth.codes import senders
for i in range(3):
    senders._submit(senders.AuthEmail(to=f"u{i}@example.com", kind="password_changed"))
print("queued", flush=True)
"""

HANDLER = """
def handler(messages):
    print("handed back", sorted(m.to for m in messages), flush=True)
"""


def test_a_process_exiting_with_mail_stuck_on_a_silent_server_ends_and_hands_it_back(tmp_path):
    """What a gunicorn worker does on a graceful stop or reload: the interpreter exits. With
    a hung SMTP peer the exit takes EMAIL_SHUTDOWN_TIMEOUT, not forever, and the queued
    messages reach EMAIL_UNSENT_HANDLER."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from tests.smtp_peers import SilentSMTP

    (tmp_path / "unsent_to_stdout.py").write_text(HANDLER)
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(tmp_path)])}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    with SilentSMTP() as peer:
        result = subprocess.run(
            [sys.executable, "-c", EXIT_SCRIPT, str(peer.port)],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,  # the old thread pool blocked here until the peer hung up
            check=False,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "queued",
        "handed back ['u0@example.com', 'u1@example.com', 'u2@example.com']",
    ]
    # And the totals, so every email not delivered is counted somewhere (logging's last
    # resort handler prints warnings to stderr in this unconfigured process).
    assert "Background mail at exit: 0 sent, 0 failed, 0 dropped (queue full), 3 unsent" in (
        result.stderr
    )
