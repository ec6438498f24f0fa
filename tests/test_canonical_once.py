"""The address is made canonical once per request, at the edge (the serializers'
``EmailField``), and carried down: services take it as given (issue #21, item 9)."""

from __future__ import annotations

import re
import sys
from collections import Counter

import pytest
from django.core import mail

from django_redis_auth import emails

pytestmark = pytest.mark.django_db

TYPED = "ALICE@Example.COM"


@pytest.fixture
def calls(monkeypatch):
    """Counts of ``canonical_email`` calls wherever it is imported, and of
    ``normalize_email`` calls outside ``emails`` (``canonical_email`` folds with it) and the
    model (which folds whatever it saves, and Django's ``authenticate`` lookups: the ORM's
    and the admin's own edge)."""
    counted: Counter[str] = Counter()
    for name in ("canonical_email", "normalize_email"):
        original = getattr(emails, name)
        skipped = {"django_redis_auth.models"} | (
            {"django_redis_auth.emails"} if name == "normalize_email" else set()
        )

        def counting(*args, _name=name, _original=original, **kwargs):
            counted[_name] += 1
            return _original(*args, **kwargs)

        for module in list(sys.modules.values()):
            module_name = getattr(module, "__name__", "")
            if (
                module_name.startswith("django_redis_auth")
                and module_name not in skipped
                and getattr(module, name, None) is original
            ):
                monkeypatch.setattr(module, name, counting)
    return counted


def _code(to: str | None = None) -> str:
    message = next(m for m in reversed(mail.outbox) if to is None or m.to == [to])
    return re.search(r"\b(\d{6})\b", message.body).group(1)


def test_every_email_endpoint_canonicalises_once(api, user, password, calls, settings):
    settings.DJANGO_REDIS_AUTH = {**settings.DJANGO_REDIS_AUTH, "RESEND_COOLDOWN": 0}

    def post(path, body):
        calls.clear()
        response = api.post(f"/auth/{path}", body, format="json")
        assert response.status_code < 300, response.content
        return dict(calls)

    once = {"canonical_email": 1}
    assert post("password/reset/", {"email": TYPED}) == once
    body = {"email": TYPED, "code": _code(), "new_password": "a whole new passphrase 42"}
    assert post("password/reset/confirm/", body) == once
    assert post("otp/", {"email": TYPED, "purpose": "password_reset"}) == once
    assert post("signup/", {"email": "NEW@example.com", "password": password + "x"}) == once
    assert post("email/verify/", {"email": "NEW@example.com", "code": _code()}) == once
    assert post("login/", {"email": TYPED, "password": "a whole new passphrase 42"}) == once


def test_email_change_canonicalises_the_new_address_once(user, login, bearer, password, calls):
    client = bearer(login()["access"])
    once = {"canonical_email": 1}
    calls.clear()
    body = {"new_email": "Alice.New@Example.COM", "password": password}
    assert client.post("/auth/email/change/", body, format="json").status_code == 202
    assert dict(calls) == once
    calls.clear()
    body = {"new_email": "Alice.New@Example.COM", "code": _code("alice.new@example.com")}
    assert client.post("/auth/email/change/confirm/", body, format="json").status_code == 200
    assert dict(calls) == once
    user.refresh_from_db()
    assert user.email == "alice.new@example.com"
