"""Shipped translations are complete, compiled, and used: ``detail`` and emails follow
``Accept-Language`` while ``code`` never changes."""

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.core import mail
from django.urls import reverse

from django_redis_auth.codes import senders
from django_redis_auth.codes.purposes import EmailKind

PACKAGE = Path(__file__).resolve().parent.parent / "django_redis_auth"
LOCALE = PACKAGE / "locale"
SHIPPED = ("de", "fr", "es")


def _catalog(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE / language / "LC_MESSAGES" / "django.po"))


def _msgids(po: polib.POFile) -> set[tuple[str | None, str]]:
    return {(e.msgctxt, e.msgid) for e in po if not e.obsolete}


@pytest.mark.parametrize("language", SHIPPED)
def test_every_entry_of_a_shipped_language_is_translated(language):
    po = _catalog(language)
    assert len(po) > 100
    untranslated = [e.msgid for e in po if not e.obsolete and not e.translated()]
    fuzzy = [e.msgid for e in po if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []
    # Placeholders survive translation (a lost %(name)s breaks the message at run time).
    for entry in po:
        for name in ("%(", "{{"):
            assert entry.msgid.count(name) == entry.msgstr.count(name), entry.msgid


@pytest.mark.parametrize("language", SHIPPED)
def test_the_compiled_catalog_matches_its_source(language):
    """The .mo shipped in the wheel says what the .po says (compilemessages was run)."""
    directory = LOCALE / language / "LC_MESSAGES"
    with open(directory / "django.mo", "rb") as fp:
        compiled = gettext.GNUTranslations(fp)
    for entry in _catalog(language):
        if entry.obsolete or entry.msgid_plural:
            continue
        if entry.msgctxt:
            assert compiled.pgettext(entry.msgctxt, entry.msgid) == entry.msgstr, entry.msgid
        else:
            assert compiled.gettext(entry.msgid) == entry.msgstr, entry.msgid


def fresh_catalogs(source: Path, tmp_path: Path, ignore: tuple[str, ...] = ()) -> dict:
    """What makemessages finds in a copy of ``source`` today, by language."""
    if shutil.which("xgettext") is None:
        if os.environ.get("CI"):
            pytest.fail("xgettext (Debian's gettext package) is needed; .ci/run installs it")
        pytest.skip("xgettext is not installed (apt-get install gettext)")
    copy = tmp_path / source.name
    patterns = shutil.ignore_patterns("__pycache__", "*.mo", *ignore)
    shutil.copytree(source, copy, ignore=patterns)
    django_admin = Path(sys.executable).with_name("django-admin")
    args = [str(django_admin), "makemessages", "--no-obsolete", "--no-wrap"]
    args += [f"--locale={language}" for language in SHIPPED]
    # The command loads this suite's settings (tests.settings): the repository must be on the
    # path even where the package is installed from a wheel (tox).
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(PACKAGE.parent), *sys.path])}
    subprocess.run(args, cwd=copy, check=True, capture_output=True, env=env)
    return {
        language: polib.pofile(str(copy / "locale" / language / "LC_MESSAGES" / "django.po"))
        for language in SHIPPED
    }


def test_every_message_in_the_code_is_in_every_shipped_language(tmp_path):
    """makemessages over the package finds no message the catalogs lack: adding a string
    through gettext without translating it fails here."""
    for language, fresh in fresh_catalogs(PACKAGE, tmp_path).items():
        missing = _msgids(fresh) - _msgids(_catalog(language))
        assert missing == set(), language


def _wrong_login(client, language):
    return client.post(
        reverse("django_redis_auth:login"),
        {"email": "nobody@example.com", "password": "not-the-password-1"},
        content_type="application/json",
        headers={"accept-language": language},
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "word"), [("de", "Konto"), ("fr", "compte"), ("es", "cuenta")]
)
def test_detail_follows_accept_language_and_code_does_not(client, language, word):
    english = _wrong_login(client, "en").json()
    translated = _wrong_login(client, language).json()
    assert translated["code"] == english["code"] == "invalid_credentials"
    assert translated["detail"] != english["detail"]
    assert word in translated["detail"]


@pytest.mark.django_db
def test_validation_errors_are_translated_with_the_same_code(client):
    response = client.post(
        reverse("django_redis_auth:login"),
        {"email": "not an address", "password": "x"},
        content_type="application/json",
        headers={"accept-language": "de"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_email"
    assert response.json()["detail"] != "Invalid input."


def test_an_email_is_rendered_in_the_language_it_was_made_in(settings):
    from django.utils import translation

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with translation.override("de"):
        message = senders.AuthEmail(
            to="a@example.com", kind=EmailKind.LOGIN, context={"code": "123456"}
        )
    # Rendered later, elsewhere (a background thread, a task worker after as_dict()).
    senders.deliver(senders.AuthEmail.from_dict(message.as_dict()))
    sent = mail.outbox[-1]
    with translation.override("en"):
        english = senders.render(senders.AuthEmail(to="a@example.com", kind=EmailKind.LOGIN))
    assert message.language == "de"
    assert sent.subject != english.subject
    assert "123456" in sent.body
    assert sent.alternatives[0][0].count("123456") == 1
    assert sent.body != english.body


# --- the example project's demo page -------------------------------------------------------

DEMO = PACKAGE.parent / "example_project" / "demo"


def _demo_catalog(language: str) -> polib.POFile:
    return polib.pofile(str(DEMO / "locale" / language / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("language", SHIPPED)
def test_the_demo_labels_are_translated_and_compiled(language):
    po = _demo_catalog(language)
    assert len(po) > 50
    assert [e.msgid for e in po if not e.translated() or "fuzzy" in e.flags] == []
    with open(DEMO / "locale" / language / "LC_MESSAGES" / "django.mo", "rb") as fp:
        compiled = gettext.GNUTranslations(fp)
    for entry in po:
        assert compiled.gettext(entry.msgid) == entry.msgstr, entry.msgid
        for name in ("%(", "<code", "<b>", "<a "):
            assert entry.msgid.count(name) == entry.msgstr.count(name), entry.msgid


def test_every_demo_label_is_in_every_shipped_language(tmp_path):
    for language, fresh in fresh_catalogs(DEMO, tmp_path, ignore=("static",)).items():
        assert _msgids(fresh) - _msgids(_demo_catalog(language)) == set(), language
