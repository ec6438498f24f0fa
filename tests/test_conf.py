import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_redis_auth import keys
from django_redis_auth.conf import DEFAULTS, auth_settings


def test_defaults_apply():
    assert auth_settings.CODE_TTL == 600
    assert auth_settings.CODE_MAX_ATTEMPTS == 3
    assert auth_settings.RESEND_COOLDOWN == 60
    assert auth_settings.FAIL_OPEN is False


def test_override_settings_takes_effect_without_restart():
    assert keys.epoch(1).startswith("dra:")
    with override_settings(DJANGO_REDIS_AUTH={"KEY_PREFIX": "myapp", "CODE_TTL": 120}):
        assert auth_settings.KEY_PREFIX == "myapp"
        assert auth_settings.CODE_TTL == 120
        assert keys.epoch(1) == "myapp:{u1}:epoch"
    assert auth_settings.KEY_PREFIX == "dra"


def test_unknown_key_is_a_clear_error():
    with override_settings(DJANGO_REDIS_AUTH={"CODE_TTL_SECONDS": 5}):
        with pytest.raises(ImproperlyConfigured, match="Unknown DJANGO_REDIS_AUTH setting"):
            _ = auth_settings.CODE_TTL


@pytest.mark.parametrize(
    ("name", "value"),
    [("KEY_PREFIX", "a{b"), ("SECOND_FACTOR", "sometimes"), ("CODE_LENGTH", 2)],
)
def test_invalid_values_are_refused(name, value):
    with override_settings(DJANGO_REDIS_AUTH={name: value}):
        with pytest.raises(ImproperlyConfigured):
            getattr(auth_settings, name)


def test_import_strings_are_resolved_lazily():
    with override_settings(DJANGO_REDIS_AUTH={"CLIENT_IP_RESOLVER": "os.path.join"}):
        import os.path

        assert auth_settings.CLIENT_IP_RESOLVER is os.path.join
    with override_settings(DJANGO_REDIS_AUTH={"EMAIL_SENDER": "no.such.module.f"}):
        with pytest.raises(ImproperlyConfigured, match="could not be imported"):
            _ = auth_settings.EMAIL_SENDER


def test_unknown_attribute():
    with pytest.raises(AttributeError):
        _ = auth_settings.NOT_A_SETTING


@pytest.mark.parametrize("name", sorted(DEFAULTS))
def test_every_default_is_a_valid_value(name):
    """Each default passes the same validation (and import) a user's value would."""
    auth_settings.reload()
    assert getattr(auth_settings, name) is not None or DEFAULTS[name] is None
