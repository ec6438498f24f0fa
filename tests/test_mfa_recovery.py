"""Recovery codes and the keys of factor secrets (issue #22)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from django_redis_auth.mfa import crypto, recovery, totp
from django_redis_auth.mfa.models import RecoveryCode, TOTPFactor
from tests.helpers import package_settings
from tests.mfa_helpers import bearer, challenge, code_at, enrol, error, login_pair, post, verify


def test_codes_are_120_bit_base32_in_groups():
    code = recovery.generate_code()
    groups = code.split("-")
    assert len(groups) == 6 and all(len(g) == 4 for g in groups)
    assert set(code.replace("-", "")) <= set(recovery.ALPHABET)
    assert len(recovery.ALPHABET) == 32 and recovery.LENGTH * 5 >= 112


def test_typing_is_forgiven():
    code = recovery.generate_code()
    raw = code.replace("-", "")
    assert recovery.normalize(code.upper()) == raw
    assert recovery.normalize(" ".join(code.split("-"))) == raw
    assert recovery.normalize(raw.replace("1", "l").replace("0", "O")) == raw
    assert recovery.normalize("short") is None
    assert recovery.normalize(raw[:-1] + "u") is None


def test_sign_in_with_a_recovery_code_once(user):
    enrolled = enrol()
    code = enrolled["recovery_codes"][3]
    response = verify(challenge()["challenge"], code.upper(), "recovery_code")
    assert response.status_code == 200, response.content
    error(verify(challenge()["challenge"], code, "recovery_code"), 400, "invalid_code")
    left = bearer(response.json()["access"]).get("/auth/2fa/").json()
    assert left == {"methods": ["totp", "recovery_code"], "recovery_codes_left": 9}


def test_wrong_recovery_codes_kill_the_challenge(user):
    enrolled = enrol()
    started = challenge()["challenge"]
    for _ in range(4):
        error(verify(started, recovery.generate_code(), "recovery_code"), 400, "invalid_code")
    error(verify(started, recovery.generate_code(), "recovery_code"), 400, "too_many_attempts")
    error(verify(started, enrolled["recovery_codes"][0], "recovery_code"), 400, "too_many_attempts")
    # The code was not spent by the refused try.
    assert (
        verify(challenge()["challenge"], enrolled["recovery_codes"][0], "recovery_code").status_code
        == 200
    )


def test_wrong_recovery_codes_count_per_client_ip(user):
    enrolled = enrol()
    with override_settings(
        DJANGO_REDIS_AUTH=package_settings(CODE_GUESSES_PER_IP=2, MFA_ATTEMPTS_PER_CHALLENGE=10)
    ):
        started = challenge()["challenge"]
        for _ in range(2):
            error(verify(started, recovery.generate_code(), "recovery_code"), 400, "invalid_code")
        error(verify(started, enrolled["recovery_codes"][0], "recovery_code"), 429, "rate_limited")


def test_a_recovery_code_spent_only_if_the_sign_in_happens(user):
    from tests.helpers import redis_down

    enrolled = enrol()
    started = challenge()["challenge"]
    with redis_down():
        error(
            verify(started, enrolled["recovery_codes"][0], "recovery_code"), 503, "auth_unavailable"
        )
    assert RecoveryCode.objects.count() == 10


def test_regenerating_replaces_the_set(user):
    enrolled = enrol()
    response = post(bearer(enrolled["access"]), "2fa/recovery-codes/")
    assert response.status_code == 200, response.content
    fresh = response.json()
    assert set(fresh) == {"recovery_codes", "access", "refresh"}
    assert len(fresh["recovery_codes"]) == 10
    assert not set(fresh["recovery_codes"]) & set(enrolled["recovery_codes"])
    error(
        verify(challenge()["challenge"], enrolled["recovery_codes"][0], "recovery_code"),
        400,
        "invalid_code",
    )
    assert (
        verify(challenge()["challenge"], fresh["recovery_codes"][0], "recovery_code").status_code
        == 200
    )


def test_recovery_codes_need_a_factor(user):
    error(post(bearer(login_pair()["access"]), "2fa/recovery-codes/"), 409, "factor_required")


def test_factors_of_a_plain_user(user, django_assert_num_queries):
    client = bearer(login_pair()["access"])
    client.get("/auth/me/")  # warms the user cache
    with django_assert_num_queries(1):
        assert client.get("/auth/2fa/").json() == {"methods": [], "recovery_codes_left": 0}


def test_factors_list_the_emailed_second_factor(twofa_user):
    from django_redis_auth.mfa import factors

    assert factors.of(twofa_user).methods == ["email"]
    assert factors.second_step_methods(twofa_user) == ["email"]


def test_one_recovery_code_row_per_digest_and_user(user):
    enrol()
    assert RecoveryCode.objects.filter(user_id=user.pk).values("digest").distinct().count() == 10


# --- keys ---------------------------------------------------------------------------------


def test_default_keys_come_from_secret_key_and_its_fallbacks(settings):
    first = crypto.current_key()
    settings.SECRET_KEY_FALLBACKS = ["old-secret-key-0123456789"]
    assert crypto.keys()[0] == first and len(crypto.keys()) == 2
    assert crypto.keys()[1].id != first.id


def test_ciphertexts_decrypt_after_rotation_and_rekey(user, settings):
    secret = enrol()["secret"]
    before = TOTPFactor.objects.get().secret
    settings.DJANGO_REDIS_AUTH = package_settings(
        MFA_ENCRYPTION_KEYS=["a-brand-new-key-32-bytes-long-xx", settings.SECRET_KEY]
    )
    factor = TOTPFactor.objects.get()
    assert totp.secret_of(factor, user) == secret  # the old key still decrypts
    out = io.StringIO()
    call_command("mfa_rekey", stdout=out)
    after = TOTPFactor.objects.get().secret
    assert after != before and crypto.key_id_of(after) == crypto.current_key().id
    assert "1 authenticator secret re-encrypted" in out.getvalue()
    assert "10 recovery codes" in out.getvalue()
    settings.DJANGO_REDIS_AUTH = package_settings(
        MFA_ENCRYPTION_KEYS=["a-brand-new-key-32-bytes-long-xx"]
    )
    assert totp.secret_of(TOTPFactor.objects.get(), user) == secret
    assert verify(challenge()["challenge"], code_at(secret), "totp").status_code == 200


def test_rekey_dry_run_changes_nothing(user):
    enrol()
    before = TOTPFactor.objects.get().secret
    out = io.StringIO()
    call_command("mfa_rekey", "--dry-run", stdout=out)
    assert TOTPFactor.objects.get().secret == before
    assert "0 authenticator secrets" in out.getvalue()


def test_a_tampered_ciphertext_does_not_decrypt():
    sealed = crypto.encrypt("JBSWY3DPEHPK3PXP", "totp:1")
    assert crypto.decrypt(sealed, "totp:1") == "JBSWY3DPEHPK3PXP"
    body = sealed.split("$")[2]
    tampered = sealed[: -len(body)] + ("A" if body[0] != "A" else "B") + body[1:]
    for bad in (tampered, "v1$00000000$AAAA", "plain"):
        with pytest.raises(crypto.DecryptionFailed):
            crypto.decrypt(bad, "totp:1")


def test_a_string_as_key_list_is_refused(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.DJANGO_REDIS_AUTH = package_settings(MFA_ENCRYPTION_KEYS="one-key")
    with pytest.raises(ImproperlyConfigured):
        crypto.keys()
