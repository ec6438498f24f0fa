"""Mail goes out through whatever the project configures: Django 6.1's ``MAILERS`` (the
``MAILER`` alias) or ``EMAIL_BACKEND``, and the package itself causes no deprecation warning
on the Django under test (CI runs this on Django 5.2 and 6.1)."""

from __future__ import annotations

import warnings

import django
import pytest
from django.core.mail.backends.base import BaseEmailBackend
from django.test import override_settings

from django_redis_auth.codes import senders
from django_redis_auth.codes.senders import AuthEmail

SENT: list[tuple[str | None, list[str]]] = []
BACKEND = "tests.test_mailers.RecordingBackend"
MAILERS_SUPPORTED = django.VERSION >= (6, 1)


class RecordingBackend(BaseEmailBackend):
    """Records which mailer alias (None: the EMAIL_BACKEND era) sent each message."""

    def send_messages(self, email_messages):
        for message in email_messages:
            SENT.append((getattr(self, "alias", None), message.to))
        return len(email_messages)


@pytest.fixture(autouse=True)
def _sent():
    SENT.clear()
    yield
    SENT.clear()


def deliver_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        warnings.simplefilter("error", PendingDeprecationWarning)
        senders.deliver(AuthEmail(to="alice@example.com", kind="login", context={"code": "1"}))


def test_mail_goes_through_the_configured_mailer_alias(settings):
    mailers = {"default": {"BACKEND": BACKEND}, "auth": {"BACKEND": BACKEND}}
    auth = {**settings.DJANGO_REDIS_AUTH, "MAILER": "auth"}
    with override_settings(MAILERS=mailers, DJANGO_REDIS_AUTH=auth, EMAIL_BACKEND=BACKEND):
        assert senders.uses_mailers() is MAILERS_SUPPORTED
        deliver_without_warnings()
    # Django before 6.1 has no MAILERS: the same project settings send through EMAIL_BACKEND.
    assert [("auth" if MAILERS_SUPPORTED else None, ["alice@example.com"])] == SENT


def test_mail_goes_through_email_backend_without_mailers(settings):
    with override_settings(EMAIL_BACKEND=BACKEND):
        if hasattr(settings, "MAILERS"):
            del settings.MAILERS
        assert not senders.uses_mailers()
        deliver_without_warnings()
    assert SENT == [(None, ["alice@example.com"])]
