"""One mailbox is one account: every spelling of an address meets one canonical form.

The attack these tests replay: a victim ``alice@example.com``; an attacker types a
spelling that the database folds onto Alice's row (``UPPER()`` maps a dotless i to I) but
Python does not, asks for a reset and gets the code mailed to *their* spelling. Now every
endpoint that takes an address works on the canonical form, looks it up exactly, and mails
only the address stored on the account. The suite runs on SQLite and on Postgres.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from django_redis_auth.emails import EmailNotAllowed, canonical_email, normalize_email
from tests.helpers import code_in, package_settings, post

pytestmark = pytest.mark.django_db

User = get_user_model()
NEW_PASSWORD = "attacker chose this 1234"

# (typed spelling, the account it must reach)
SAME_MAILBOX = [
    ("ALIce@EXAMPLE.com", "alice@example.com"),  # mixed case
    ("\uff41\uff4c\uff49\uff43\uff45@example.com", "alice@example.com"),  # full-width
    ("alice@\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45.com", "alice@example.com"),
    ("\u017fid@example.com", "sid@example.com"),  # long s
    ("\u212aim@example.com", "kim@example.com"),  # Kelvin sign
    ("alice@example.com.", "alice@example.com"),  # trailing dot of the domain
]
# Spellings Postgres' UPPER() folds onto an ASCII address but that are not that address.
NOT_ACCEPTED = [
    "al\u0131ce@example.com",  # dotless i
    "a\u0301lice@example.com",  # combining acute accent
    "\u0430lice@example.com",  # Cyrillic a
    "alice@[127.0.0.1]",  # IP literal
]


@pytest.fixture
def victims(make_user):
    return {
        e: make_user(email=e) for e in ("alice@example.com", "sid@example.com", "kim@example.com")
    }


# --- the function ------------------------------------------------------------------------


@pytest.mark.parametrize(("typed", "canonical"), SAME_MAILBOX)
def test_spellings_of_one_mailbox_have_one_canonical_form(typed, canonical):
    assert canonical_email(typed) == canonical
    assert canonical_email(canonical_email(typed)) == canonical


@pytest.mark.parametrize("typed", NOT_ACCEPTED)
def test_confusable_and_ip_literal_addresses_are_refused(typed):
    with pytest.raises(EmailNotAllowed) as refused:
        canonical_email(typed)
    assert refused.value.code == "email_not_allowed"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "no-at-sign",
        "@example.com",
        "alice@",
        '"a b"@example.com',
        "a..b@x.com",
        ".a@x.com",
        "Alice <alice@example.com>",  # a display name
        "alice@localhost",  # no dot
        "alice@example",
        "alice@1.2.3.4",  # a numeric "domain"
        "alice@mail.test",  # special-use names cannot receive mail
        "alice@printer.local",
        "a@-x.com",
        "a" * 65 + "@example.com",
        "a@" + "x" * 64 + ".com",
    ],
)
def test_malformed_addresses_are_invalid(typed):
    with pytest.raises(EmailNotAllowed) as refused:
        canonical_email(typed)
    assert refused.value.code == "invalid_email"


def test_unicode_local_parts_when_allowed_are_nfkc_and_stay_distinct_from_ascii():
    with override_settings(DJANGO_REDIS_AUTH=package_settings(ALLOW_UNICODE_LOCAL_PART=True)):
        assert canonical_email("a\u0308lice@example.com") == "\u00e4lice@example.com"
        assert canonical_email("STRA\u00dfE@example.com") == "strasse@example.com"
        assert canonical_email("al\u0131ce@example.com") != "alice@example.com"
        with pytest.raises(EmailNotAllowed):
            canonical_email("alice@[127.0.0.1]")


def test_international_domains_are_stored_in_their_ascii_form():
    assert canonical_email("b@Ex\u00e4mple.com") == "b@xn--exmple-cua.com"
    assert normalize_email("b@xn--exmple-cua.com") == "b@xn--exmple-cua.com"


# --- the endpoints -----------------------------------------------------------------------


@pytest.mark.parametrize("typed", NOT_ACCEPTED)
@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("signup/", {"password": NEW_PASSWORD}),
        ("login/", {"password": "correct horse battery staple"}),
        ("otp/", {"purpose": "password_reset"}),
        ("password/reset/", {}),
        ("password/reset/confirm/", {"code": "123456", "new_password": NEW_PASSWORD}),
        ("email/verify/", {"code": "123456"}),
    ],
)
def test_every_endpoint_refuses_confusable_spellings_with_400(api, victims, typed, path, extra):
    response = post(api, path, {"email": typed, **extra})
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["code"] == "email_not_allowed" or "[" not in typed
    assert set(body) == {"detail", "code", "errors"}
    assert mail.outbox == []
    assert User.objects.count() == 3


@pytest.mark.parametrize(("typed", "owner"), SAME_MAILBOX)
def test_reset_under_any_spelling_mails_only_the_stored_address(api, victims, typed, owner):
    assert post(api, "password/reset/", {"email": typed}).status_code == 202
    (message,) = mail.outbox
    assert message.to == [owner]
    # the same account, so the same limits: the canonical spelling is inside the cooldown
    assert post(api, "password/reset/", {"email": owner}).status_code == 429
    confirm = post(
        api,
        "password/reset/confirm/",
        {"email": typed, "code": code_in(message), "new_password": NEW_PASSWORD},
    )
    assert confirm.status_code == 200
    assert User.objects.get(email=owner).check_password(NEW_PASSWORD)
    assert [m.to for m in mail.outbox] == [[owner], [owner]]  # the notice too


@pytest.mark.parametrize(("typed", "owner"), SAME_MAILBOX)
def test_signup_under_another_spelling_creates_no_second_account(api, victims, typed, owner):
    assert post(api, "signup/", {"email": typed, "password": NEW_PASSWORD}).status_code == 202
    assert User.objects.count() == 3
    assert not User.objects.get(email=owner).check_password(NEW_PASSWORD)
    assert [m.to for m in mail.outbox] == [[owner]]  # the "someone tried" notice


def test_pre_registration_under_a_variant_reaches_the_real_mailbox(api):
    """The attacker signs up with a long-s spelling of ``sam@`` first: the row is
    ``sam@``'s, its code goes to the real mailbox, and the victim's reset takes it back."""
    assert (
        post(
            api, "signup/", {"email": "\u017fam@example.com", "password": NEW_PASSWORD}
        ).status_code
        == 202
    )
    (created,) = User.objects.all()
    assert created.email == "sam@example.com"
    assert mail.outbox[0].to == ["sam@example.com"]
    assert post(api, "password/reset/", {"email": "sam@example.com"}).status_code == 202
    code = code_in(mail.outbox[-1])
    assert mail.outbox[-1].to == ["sam@example.com"]
    post(
        api,
        "password/reset/confirm/",
        {"email": "sam@example.com", "code": code, "new_password": "the victim's own 9876"},
    )
    login = post(api, "login/", {"email": "\u017fam@example.com", "password": NEW_PASSWORD})
    assert login.status_code == 401


@pytest.mark.parametrize(("typed", "owner"), SAME_MAILBOX)
def test_login_and_its_code_under_any_spelling_are_the_owners(
    api, make_user, password, typed, owner
):
    make_user(email=owner, otp_required=True)
    started = post(api, "login/", {"email": typed, "password": password})
    assert started.status_code == 202
    assert mail.outbox[-1].to == [owner]
    resend = post(
        api, "otp/", {"email": typed, "purpose": "login", "challenge": started.json()["challenge"]}
    )
    assert resend.status_code == 429  # one cooldown for every spelling


def test_verification_code_under_a_variant_verifies_the_stored_account(api):
    post(api, "signup/", {"email": "kim@example.com", "password": NEW_PASSWORD})
    code = code_in(mail.outbox[0])
    verified = post(api, "email/verify/", {"email": "\u212aim@EXAMPLE.com", "code": code})
    assert verified.status_code == 200
    assert User.objects.get().email_verified


def test_with_unicode_local_parts_allowed_a_dotless_i_is_another_mailbox(api, victims):
    with override_settings(DJANGO_REDIS_AUTH=package_settings(ALLOW_UNICODE_LOCAL_PART=True)):
        assert post(api, "password/reset/", {"email": "al\u0131ce@example.com"}).status_code == 202
        assert mail.outbox == []  # no such account: nothing is sent, to anyone
        assert post(api, "password/reset/", {"email": "alice@example.com"}).status_code == 202
        assert mail.outbox[0].to == ["alice@example.com"]


# --- existing rows -----------------------------------------------------------------------


def test_email_collisions_reports_rows_sharing_a_mailbox(make_user, capsys):
    make_user(email="alice@example.com")
    other = make_user(email="bob@example.com")
    # Written behind the model's back, as old data or raw SQL could have it.
    User.objects.filter(pk=other.pk).update(email="\uff41lice@example.com")
    make_user(email="carol@example.com")
    with pytest.raises(CommandError):
        call_command("email_collisions")
    out = capsys.readouterr().out
    assert "collision 'alice@example.com'" in out
    assert "carol" not in out
    assert "1 collision(s)" in out


def test_email_collisions_is_quiet_on_clean_data(make_user, capsys):
    make_user(email="alice@example.com")
    call_command("email_collisions")
    assert "0 collision(s)" in capsys.readouterr().out
