"""The task-queue shape of docs/email.md, end to end: EMAIL_SENDER hands the message over on
commit, it crosses a broker as JSON, and a worker delivers it with ``senders.deliver``."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.db import transaction

from django_redis_auth.codes.senders import AuthEmail, deliver

pytestmark = pytest.mark.django_db(transaction=True)

BROKER: list[str] = []  # what a broker holds: serialised task arguments


def send_auth_email_delay(data: dict) -> None:
    """``send_auth_email.delay(data)`` / ``.enqueue(data)``: the broker keeps JSON only."""
    BROKER.append(json.dumps(data))


def queue_auth_email(message: AuthEmail) -> None:
    """The EMAIL_SENDER of the docs."""
    transaction.on_commit(lambda: send_auth_email_delay(message.as_dict()))


def run_worker() -> None:
    while BROKER:
        deliver(AuthEmail.from_dict(json.loads(BROKER.pop(0))))


@pytest.fixture
def queued(settings):
    BROKER.clear()
    settings.DJANGO_REDIS_AUTH = {
        **settings.DJANGO_REDIS_AUTH,
        "EMAIL_SENDER": "tests.test_mail_queue.queue_auth_email",
    }


def test_signup_mail_goes_through_the_queue(api, queued):
    response = api.post(
        "/auth/signup/",
        {"email": "new@example.com", "password": "a brand new passphrase 42"},
        format="json",
    )
    assert response.status_code == 202
    assert len(BROKER) == 1 and mail.outbox == []  # queued, not sent on the request
    run_worker()
    (email,) = mail.outbox
    assert email.to == ["new@example.com"]


def test_a_rolled_back_transaction_queues_nothing(queued):
    class Rollback(Exception):
        pass

    def queue_then_fail():
        with transaction.atomic():
            queue_auth_email(AuthEmail(to="a@example.com", kind="password_changed"))
            raise Rollback

    with pytest.raises(Rollback):
        queue_then_fail()
    assert BROKER == []
