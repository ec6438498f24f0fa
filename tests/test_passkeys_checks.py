"""The system checks of passkeys (E030, E031): a relying party that browsers accept."""

import pytest
from django.core.checks import run_checks

from tests.helpers import override_package

pytestmark = pytest.mark.django_db


def ids():
    return {m.id for m in run_checks() if m.id and m.id.startswith("django_redis_auth")}


def test_the_defaults_are_clean():
    assert not ids() & {"django_redis_auth.E030", "django_redis_auth.E031"}


@pytest.mark.parametrize("rp_id", ["", "127.0.0.1", "[::1]", "https://example.com", "a/b"])
def test_an_unusable_rp_id(rp_id):
    with override_package(PASSKEY_RP_ID=rp_id):
        assert "django_redis_auth.E030" in ids()


@pytest.mark.parametrize(
    "origins", [(), ("example.com",), ("https://example.com/",), ("ftp://example.com",)]
)
def test_unusable_origins(origins):
    with override_package(PASSKEY_ORIGINS=origins):
        assert "django_redis_auth.E031" in ids()


def test_web_and_android_origins_pass():
    origins = ("https://app.example.com", "android:apk-key-hash:abc-_123")
    with override_package(PASSKEY_RP_ID="example.com", PASSKEY_ORIGINS=origins):
        assert not ids() & {"django_redis_auth.E030", "django_redis_auth.E031"}


def test_nothing_is_checked_with_passkeys_off():
    with override_package(PASSKEYS=False, PASSKEY_RP_ID="", PASSKEY_ORIGINS=()):
        assert not ids() & {"django_redis_auth.E030", "django_redis_auth.E031"}
