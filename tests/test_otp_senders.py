"""Email senders and templates: off the request path, after commit, bounded, overridable."""

from __future__ import annotations

import logging
import threading

import pytest
from django.core import mail
from django.test import override_settings

from django_redis_auth import senders
from django_redis_auth.senders import AuthEmail

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
        "EMAIL_SENDER": "django_redis_auth.senders.send_in_background",
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
    with caplog.at_level(logging.ERROR, logger="django_redis_auth"):
        for _ in range(3):
            senders.send_in_background(AuthEmail(to="a@example.com", kind="password_changed"))
    assert sum("Mail queue full" in r.getMessage() for r in caplog.records) == 2
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
