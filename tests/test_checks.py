from datetime import timedelta

import pytest
from django.core.checks import run_checks
from django.test import override_settings

# Django's model checks ask the database whether it supports JSONField (social_django's
# models); on Django 6.1 that is a query whenever no earlier test asked first.
pytestmark = pytest.mark.django_db


def ids(tags=None):
    return {m.id for m in run_checks(tags=tags) if m.id and m.id.startswith("django_redis_auth")}


def test_default_test_settings_are_clean():
    assert ids() == set()


def test_non_redis_cache_alias():
    caches = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    with override_settings(CACHES=caches):
        assert "django_redis_auth.E002" in ids()


def test_ignore_exceptions_on_alias(settings):
    caches = {
        k: {**v, "OPTIONS": {**v["OPTIONS"], "IGNORE_EXCEPTIONS": True}}
        for k, v in settings.CACHES.items()
    }
    with override_settings(CACHES=caches):
        assert "django_redis_auth.E003" in ids()
    with override_settings(DJANGO_REDIS_IGNORE_EXCEPTIONS=True):
        assert "django_redis_auth.E003" in ids()


def test_fail_open_warns(settings):
    with override_settings(DJANGO_REDIS_AUTH={**settings.DJANGO_REDIS_AUTH, "FAIL_OPEN": True}):
        assert "django_redis_auth.W001" in ids()


def test_missing_auth_class_and_plain_simplejwt_class():
    with override_settings(
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": [
                "rest_framework_simplejwt.authentication.JWTAuthentication"
            ]
        }
    ):
        assert {"django_redis_auth.W002", "django_redis_auth.W003"} <= ids()


def test_async_class_as_a_default_authentication_class_warns():
    with override_settings(
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": [
                "django_redis_auth.async_auth.AsyncRedisJWTAuthentication"
            ]
        }
    ):
        assert "django_redis_auth.W006" in ids()


def test_conflicting_simplejwt_lifetimes():
    with override_settings(
        SIMPLE_JWT={
            "ACCESS_TOKEN_LIFETIME": timedelta(days=2),
            "REFRESH_TOKEN_LIFETIME": timedelta(days=1),
        }
    ):
        assert "django_redis_auth.E004" in ids()


def test_simplejwt_blacklist_app_warns(monkeypatch):
    # Patched on the settings object, not override_settings: that would re-populate the app
    # registry with token_blacklist, whose models cannot be loaded after startup.
    from django.conf import settings as django_settings

    from django_redis_auth import checks

    apps = [*django_settings.INSTALLED_APPS, "rest_framework_simplejwt.token_blacklist"]
    monkeypatch.setattr(django_settings, "INSTALLED_APPS", apps)
    assert "django_redis_auth.W004" in {m.id for m in checks.check_simplejwt(None)}


def test_invalid_settings_reported_as_check_error():
    with override_settings(DJANGO_REDIS_AUTH={"NOPE": 1}):
        found = ids()
    assert found == {"django_redis_auth.E001"}


def test_every_message_has_a_hint():
    from django_redis_auth.checks import Hints, Messages

    messages = {k for k in vars(Messages) if k.isupper()}
    hints = {k for k in vars(Hints) if k.isupper() and getattr(Hints, k)}
    assert messages and messages == hints


@pytest.mark.parametrize("check_id", ["django_redis_auth.E002", "django_redis_auth.W001"])
def test_a_raised_check_carries_its_hint(check_id, settings):
    overrides = {
        "django_redis_auth.E002": {
            "CACHES": {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
        },
        "django_redis_auth.W001": {"DJANGO_REDIS_AUTH": {"FAIL_OPEN": True}},
    }[check_id]
    with override_settings(**overrides):
        [message] = [m for m in run_checks() if m.id == check_id]
    assert message.hint


def test_simplejwt_check_revoke_token_warns(settings):
    from django_redis_auth import checks

    assert "django_redis_auth.W005" not in {m.id for m in checks.check_simplejwt(None)}
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "CHECK_REVOKE_TOKEN": True}
    assert "django_redis_auth.W005" in {m.id for m in checks.check_simplejwt(None)}


SMTP = "django.core.mail.backends.smtp.EmailBackend"


def email_ids():
    # The check alone: Django 6.1's own mail check trips over a deleted MAILERS setting.
    import warnings

    from django_redis_auth import adoption_checks

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        found = {m.id for m in adoption_checks.check_email_delivery()}
    # Reading the settings causes no (deprecation) warning of the package's own.
    assert [w for w in caught if w.filename == adoption_checks.__file__] == []
    return found


def test_unconfigured_smtp_warns(settings):
    if hasattr(settings, "MAILERS"):
        del settings.MAILERS  # the EMAIL_BACKEND settings of Django before 6.1
    # Django's defaults: the SMTP backend to localhost:25, which nobody configured.
    with override_settings(EMAIL_BACKEND=SMTP):
        assert not settings.is_overridden("EMAIL_HOST")
        assert "django_redis_auth.W021" in email_ids()
    with override_settings(EMAIL_BACKEND=SMTP, EMAIL_HOST="smtp.example.com"):
        assert "django_redis_auth.W021" not in email_ids()
    with override_settings(EMAIL_BACKEND=SMTP, EMAIL_HOST="localhost"):  # said on purpose
        assert "django_redis_auth.W021" not in email_ids()
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend"):
        assert "django_redis_auth.W021" not in email_ids()


def test_mailer_alias_must_exist(settings, monkeypatch):
    from django_redis_auth import adoption_checks

    monkeypatch.setattr(adoption_checks, "uses_mailers", lambda: True)
    with override_settings(MAILERS={"default": {"BACKEND": SMTP, "OPTIONS": {"host": "mx"}}}):
        assert "django_redis_auth.W020" not in ids()
        auth = {**settings.DJANGO_REDIS_AUTH, "MAILER": "auth"}
        with override_settings(DJANGO_REDIS_AUTH=auth):
            assert "django_redis_auth.W020" in ids()


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        ({}, {"W022", "W023", "W024"}),
        ({"REQUIRE_VERIFIED_EMAIL": False}, {"W023", "W024"}),
        ({"REQUIRE_VERIFIED_EMAIL": False, "SECOND_FACTOR": "off"}, {"W024"}),
        ({"REQUIRE_VERIFIED_EMAIL": False, "SECOND_FACTOR": "required"}, {"W024"}),
    ],
)
def test_user_model_without_the_fields_settings_rely_on(settings, auth, expected):
    from django_redis_auth import adoption_checks

    with override_settings(DJANGO_REDIS_AUTH={**settings.DJANGO_REDIS_AUTH, **auth}):
        warnings = {
            m.id.rsplit(".", 1)[1]: m
            for m in adoption_checks.check_user_model()
            if m.id.startswith("django_redis_auth")
        }
        assert set(warnings) == set()  # django_redis_auth.User has all three
        with override_settings(AUTH_USER_MODEL="auth.User"):
            warnings = {m.id.rsplit(".", 1)[1]: m for m in adoption_checks.check_user_model()}
    assert set(warnings) == expected
    assert all(w.hint for w in warnings.values())


def test_a_unique_constraint_on_the_email_counts_as_unique():
    from django.db import models
    from django.db.models.functions import Lower

    from django_redis_auth.adoption_checks import _unique

    class Plain(models.Model):  # noqa: DJ008
        email = models.EmailField()

        class Meta:
            app_label = "tests"

    class Constrained(models.Model):  # noqa: DJ008
        email = models.EmailField()

        class Meta:
            app_label = "tests"
            constraints = [models.UniqueConstraint(Lower("email"), name="uniq_lower_email")]

    class Partial(models.Model):  # noqa: DJ008
        email = models.EmailField()
        active = models.BooleanField()

        class Meta:
            app_label = "tests"
            constraints = [
                models.UniqueConstraint(
                    fields=["email"], condition=models.Q(active=True), name="uniq_active_email"
                )
            ]

    assert not _unique(Plain, "email")
    assert _unique(Constrained, "email")
    assert not _unique(Partial, "email")


# --- W007: an evicting maxmemory-policy (a deploy check: it asks the configured Redis) -------


def deploy_ids():
    return {
        m.id
        for m in run_checks(include_deployment_checks=True)
        if m.id and m.id.startswith("django_redis_auth")
    }


class PolicyClient:
    """A client reporting ``policy`` through CONFIG GET, or only through INFO (CONFIG
    disabled, as on managed Redis), or through neither."""

    policy = "noeviction"
    config = True
    info_allowed = True

    def config_get(self, name):
        import redis

        if not PolicyClient.config:
            raise redis.ResponseError("unknown command 'CONFIG'")
        return {name: PolicyClient.policy}

    def info(self, section):
        import redis

        if not PolicyClient.info_allowed:
            raise redis.ResponseError("NOPERM this user has no permissions to run 'info'")
        return {"maxmemory_policy": PolicyClient.policy}


def policy_client():
    return PolicyClient()


@pytest.fixture
def policy(settings):
    PolicyClient.policy, PolicyClient.config, PolicyClient.info_allowed = "noeviction", True, True
    with override_settings(
        DJANGO_REDIS_AUTH={
            **settings.DJANGO_REDIS_AUTH,
            "REDIS_CLIENT_FACTORY": "tests.test_checks.policy_client",
        }
    ):
        yield PolicyClient


@pytest.mark.parametrize(
    ("value", "warns"),
    [
        ("noeviction", False),
        ("allkeys-lru", True),
        ("allkeys-lfu", True),
        ("allkeys-random", True),
        ("volatile-lru", True),
        ("volatile-ttl", True),
        ("volatile-random", True),
    ],
)
def test_evicting_policies_warn_with_the_consequence(policy, value, warns):
    policy.policy = value
    messages = [
        m for m in run_checks(include_deployment_checks=True) if m.id == "django_redis_auth.W007"
    ]
    assert bool(messages) is warns
    if warns:
        (message,) = messages
        assert value in message.msg and "Rate limits" in message.msg
        assert "noeviction" in message.hint
    assert "django_redis_auth.W007" not in ids()  # not an ordinary check: it needs the network


def test_falls_back_to_info_memory_and_skips_silently_when_neither_is_allowed(policy):
    policy.policy, policy.config = "allkeys-lru", False
    assert "django_redis_auth.W007" in deploy_ids()
    policy.info_allowed = False
    assert "django_redis_auth.W007" not in deploy_ids()


def test_skips_silently_when_redis_is_down(settings):
    with override_settings(
        DJANGO_REDIS_AUTH={
            **settings.DJANGO_REDIS_AUTH,
            "REDIS_CLIENT_FACTORY": "tests.helpers.dead_redis",
        }
    ):
        assert "django_redis_auth.W007" not in deploy_ids()


@pytest.mark.real
@pytest.mark.parametrize(
    ("args", "warns"),
    [
        (("--maxmemory-policy", "allkeys-lru"), True),
        (("--maxmemory-policy", "volatile-lfu"), True),
        (("--maxmemory-policy", "noeviction"), False),
        (("--maxmemory-policy", "allkeys-lru", "--rename-command", "CONFIG", ""), True),
    ],
    ids=["allkeys-lru", "volatile-lfu", "noeviction", "config-disabled"],
)
def test_reads_a_real_servers_policy(settings, args, warns):
    from tests.redis_servers import RedisServer

    with RedisServer(args=args) as server:
        caches = {"default": {**settings.CACHES["default"], "LOCATION": server.url(0)}}
        with override_settings(CACHES=caches):
            assert ("django_redis_auth.W007" in deploy_ids()) is warns
