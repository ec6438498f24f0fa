"""Bad input always gets JSON {"detail", "code"} with a 4xx — never a 500 or an HTML page."""

import json

import pytest
from django.test import override_settings

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    "/auth/login/",
    "/auth/token/refresh/",
    "/auth/signup/",
    "/auth/email/verify/",
    "/auth/login/verify/",
    "/auth/otp/",
    "/auth/password/reset/",
    "/auth/password/reset/confirm/",
]

BAD_BODIES = [
    ("{not json", "malformed_request"),
    ("[]", "invalid_input"),
    ('"a string"', "invalid_input"),
    ("{}", "required"),
    ("[" * 100_000 + "]" * 100_000, "malformed_request"),  # deeper than json can recurse
    ('{"a":' * 50_000 + "1" + "}" * 50_000, "malformed_request"),
    ('{"email": 12, "password": ["x"], "refresh": {}, "code": null, "challenge": 5}', None),
    (
        json.dumps(
            {
                "email": "a" * 300 + "@x.com",
                "password": "p" * 5000,
                "refresh": "r" * 5000,
                "code": "1" * 100,
                "challenge": "c" * 5000,
                "purpose": "x" * 100,
                "new_password": "n" * 5000,
            }
        ),
        None,
    ),
]


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize(("body", "code"), BAD_BODIES)
def test_bad_bodies_are_400_json(api, url, body, code):
    response = api.post(url, body, content_type="application/json")
    assert response.status_code == 400, response.content
    data = response.json()
    assert {"detail", "code"} <= set(data)
    assert isinstance(data["code"], str) and data["code"]
    if code:
        assert data["code"] == code


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("{not json", "malformed_request"),
        ("[" * 100_000 + "]" * 100_000, "malformed_request"),
        ("[]", "invalid_input"),
        ('{"refresh": 5}', None),
        ('{"refresh": "' + "r" * 5000 + '"}', None),
    ],
)
def test_bad_logout_bodies_are_4xx_json(user, bearer, body, code):
    from django_redis_auth.tokens.issuing import issue_token_pair

    response = bearer(issue_token_pair(user).access).post(
        "/auth/logout/", body, content_type="application/json"
    )
    assert 400 <= response.status_code < 500, response.content
    data = response.json()
    assert {"detail", "code"} <= set(data)
    if code:
        assert data["code"] == code


def test_field_errors_are_listed(api):
    response = api.post("/auth/login/", {"email": "not-an-email"}, format="json")
    data = response.json()
    assert data["code"] == "invalid_email"
    assert set(data["errors"]) == {"email", "password"}


def test_wrong_content_type_is_415_json(api):
    response = api.post(
        "/auth/login/", "email=a@b.c", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"


def test_wrong_method_is_405_json(api):
    response = api.get("/auth/login/")
    assert response.status_code == 405
    assert response.json()["code"] == "method_not_allowed"


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1024)
def test_oversized_body_is_400_json(api):
    body = json.dumps({"email": "a@b.com", "password": "x" * 5000})
    response = api.post("/auth/login/", body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["code"] == "request_too_large"


@pytest.mark.parametrize("exp", [1e308, 1e12, 2**70])
def test_a_validly_signed_token_with_an_absurd_exp_is_401_not_500(api, user, bearer, exp):
    """simplejwt turns ``exp`` into a datetime, which overflows (1e308) or leaves datetime's
    range (year > 9999): only someone with the signing key can mint such a token, but it must
    still be refused as invalid rather than crash the request."""
    import jwt
    from django.conf import settings

    claims = {"user_id": str(user.pk), "jti": "j", "epoch": "e", "fam": "f", "exp": exp}
    access = jwt.encode({**claims, "token_type": "access"}, settings.SECRET_KEY, "HS256")
    refresh = jwt.encode({**claims, "token_type": "refresh"}, settings.SECRET_KEY, "HS256")
    response = bearer(access).get("/auth/me/")
    assert (response.status_code, response.json()["code"]) == (401, "token_not_valid")
    response = api.post("/auth/token/refresh/", {"refresh": refresh}, format="json")
    assert (response.status_code, response.json()["code"]) == (401, "token_not_valid")
