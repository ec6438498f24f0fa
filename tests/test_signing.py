"""The key set: every asymmetric token carries a kid, verification picks the key by kid,
rotation keeps old tokens valid, HS256 is unchanged."""

from __future__ import annotations

import jwt
import pytest
from django.core.exceptions import ImproperlyConfigured

from django_redis_auth.tokens import issuing, signing
from tests.fleet_keys import ALGORITHMS, key_pair, signing_with


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_tokens_carry_the_thumbprint_of_the_signing_key_as_kid(user, algorithm, bearer):
    with signing_with(algorithm) as (_, public):
        pair = issuing.issue_token_pair(user)
        kid = signing.public_jwk(signing.key_set().signing_key, algorithm)["kid"]
        for raw in (pair.access, pair.refresh):
            header = jwt.get_unverified_header(raw)
            assert header["kid"] == kid and header["alg"] == algorithm
            # Plain PyJWT with the public PEM accepts it: nothing of ours is needed.
            jwt.decode(raw, public, algorithms=[algorithm])
        assert bearer(pair.access).get("/auth/me/").status_code == 200
        assert issuing.rotate_refresh_token(pair.refresh).access


def test_hs256_tokens_are_as_before(user):
    pair = issuing.issue_token_pair(user)
    assert "kid" not in jwt.get_unverified_header(pair.access)
    from rest_framework_simplejwt import state

    assert signing.backend() is state.token_backend


@pytest.mark.parametrize("old_algorithm", ["RS256", "EdDSA"])
def test_after_rotation_old_tokens_verify_and_new_ones_carry_the_new_kid(
    user, bearer, old_algorithm
):
    with signing_with(old_algorithm, 1) as (_, old_public):
        old = issuing.issue_token_pair(user)
        old_kid = jwt.get_unverified_header(old.access)["kid"]
    with signing_with("ES256", 2, previous=(old_public,)):
        new = issuing.issue_token_pair(user)
        new_kid = jwt.get_unverified_header(new.access)["kid"]
        assert new_kid != old_kid
        assert bearer(old.access).get("/auth/me/").status_code == 200
        assert bearer(new.access).get("/auth/me/").status_code == 200
        # A refresh token of the old key rotates into a pair of the new key.
        rotated = issuing.rotate_refresh_token(old.refresh)
        assert jwt.get_unverified_header(rotated.access)["kid"] == new_kid
    with signing_with("ES256", 2):  # the old key retired: its tokens are refused
        response = bearer(old.access).get("/auth/me/")
        assert response.status_code == 401
        assert response.json()["code"] == "token_not_valid"


def test_a_kid_the_key_set_does_not_hold_is_refused(user, bearer):
    with signing_with("RS256", 3):
        pair = issuing.issue_token_pair(user)
        payload = jwt.decode(pair.access, options={"verify_signature": False})
        private, _ = key_pair("RS256", 3)
        forged = jwt.encode(payload, private, algorithm="RS256", headers={"kid": "other"})
        assert bearer(forged).get("/auth/me/").status_code == 401


def test_the_header_alg_cannot_choose_another_algorithm(user, bearer):
    """The algorithm is the key's, never the header's: an HS256 token "signed" with the
    public key (the classic confusion attack) is refused."""
    with signing_with("RS256", 3) as (_, public):
        pair = issuing.issue_token_pair(user)
        payload = jwt.decode(pair.access, options={"verify_signature": False})
        kid = jwt.get_unverified_header(pair.access)["kid"]
        import hashlib
        import hmac
        import json
        from base64 import urlsafe_b64encode

        def b64(data: bytes) -> str:
            return urlsafe_b64encode(data).rstrip(b"=").decode()

        head = b64(json.dumps({"alg": "HS256", "kid": kid, "typ": "JWT"}).encode())
        body = b64(json.dumps(payload).encode())
        mac = hmac.new(public.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
        assert bearer(f"{head}.{body}.{b64(mac)}").get("/auth/me/").status_code == 401


def test_a_verifying_key_that_is_private_yields_only_its_public_half():
    private, _ = key_pair("RS256", 4)
    with signing_with("RS256", 4, verifying=private):
        key = signing.key_set().default
        assert not hasattr(key.key, "private_bytes")
        assert set(key.jwk) == {"kty", "n", "e", "kid", "alg", "use"}


def test_extra_keys_need_an_asymmetric_algorithm():
    from django.conf import settings
    from django.test import override_settings

    _, public = key_pair("RS256")
    with override_settings(
        DJANGO_REDIS_AUTH={**settings.DJANGO_REDIS_AUTH, "JWT_VERIFYING_KEYS": (public,)}
    ):
        with pytest.raises(ImproperlyConfigured):
            signing.build_key_set()


def test_a_dict_entry_names_its_algorithm_and_kid():
    _, old_public = key_pair("RS256", 5)
    entry = {"key": old_public, "algorithm": "RS512", "kid": "2025-01"}
    with signing_with("EdDSA", previous=(entry,)):
        key = signing.key_set().by_kid["2025-01"]
        assert (key.algorithm, key.jwk["kid"]) == ("RS512", "2025-01")


def test_thumbprint_is_rfc_7638():
    """RFC 7638 §3.1's example key and thumbprint."""
    jwk = {
        "kty": "RSA",
        "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6"
        "tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65"
        "YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdk"
        "t-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDK"
        "gw",
        "e": "AQAB",
        "alg": "RS256",
        "kid": "2011-04-29",
    }
    assert signing.thumbprint(jwk) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_jwt_keys_prints_a_pair_that_works(tmp_path, user, bearer):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("jwt_keys", "--algorithm", "EdDSA", "--out", str(tmp_path), stdout=out)
    (private_path,) = [p for p in tmp_path.iterdir() if not p.name.endswith(".pub.pem")]
    assert private_path.stat().st_mode & 0o077 == 0
    public = (tmp_path / private_path.name.replace(".pem", ".pub.pem")).read_text()
    assert '"ALGORITHM": "EdDSA"' in out.getvalue()
    from django.conf import settings
    from django.test import override_settings

    jwt_settings = {
        **settings.SIMPLE_JWT,
        "ALGORITHM": "EdDSA",
        "SIGNING_KEY": private_path.read_text(),
        "VERIFYING_KEY": public,
    }
    with override_settings(SIMPLE_JWT=jwt_settings):
        pair = issuing.issue_token_pair(user)
        assert jwt.get_unverified_header(pair.access)["kid"] == private_path.stem
        assert bearer(pair.access).get("/auth/me/").status_code == 200
    printed = io.StringIO()
    call_command("jwt_keys", stdout=printed)
    assert "BEGIN PRIVATE KEY" in printed.getvalue() and '"ES256"' in printed.getvalue()


def test_check_flags_a_verifying_key_that_does_not_match():
    from django_redis_auth.fleet.checks import check_key_set

    assert check_key_set() == []
    _, other_public = key_pair("ES256", 11)
    with signing_with("ES256", 12, verifying=other_public):
        assert [e.id for e in check_key_set()] == ["django_redis_auth.E050"]
    with signing_with("ES256", 12, verifying=""):
        assert [e.id for e in check_key_set()] == ["django_redis_auth.E051"]
    with signing_with("ES256", 12, previous=("not a key",)):
        (error,) = check_key_set()
        assert error.id == "django_redis_auth.E052" and error.hint
    with signing_with("ES256", 12):
        assert check_key_set() == []


def test_every_way_of_authenticating_verifies_by_kid(user, bearer, me_path):
    """DRF, adrf's async view and django-ninja's bearers accept a token of a previous key."""
    with signing_with("RS256", 13) as (_, old_public):
        old = issuing.issue_token_pair(user)
    with signing_with("EdDSA", 13, previous=(old_public,)):
        new = issuing.issue_token_pair(user)
        for pair in (old, new):
            assert bearer(pair.access).get(me_path).status_code == 200, me_path
    with signing_with("EdDSA", 13):
        assert bearer(old.access).get(me_path).status_code == 401, me_path


def test_the_memo_forgets_a_retired_key(user, bearer):
    """A token remembered under the old key set is checked again after the key retires."""
    with signing_with("RS256", 14) as (_, old_public):
        old = issuing.issue_token_pair(user)
    with signing_with("ES256", 14, previous=(old_public,)):
        client = bearer(old.access)
        assert client.get("/auth/me/").status_code == 200
        assert client.get("/auth/me/").status_code == 200  # remembered now
    with signing_with("ES256", 14):
        assert bearer(old.access).get("/auth/me/").status_code == 401
