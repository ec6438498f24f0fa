"""Google sign-in through the API: ID tokens, access tokens and an SPA's code + PKCE."""

from __future__ import annotations

import time

import pytest
from django.contrib.auth import get_user_model

from tests.google_fake import (
    CLIENT_ID,
    IOS_CLIENT_ID,
    OTHER_APP_CLIENT_ID,
    SPA_REDIRECT,
    google,  # noqa: F401 (fixture)
    rsa_key,
)

pytestmark = pytest.mark.django_db
URL = "/auth/google/"


def post(api, **body):
    return api.post(URL, body, format="json")


def test_id_token_creates_a_verified_user_without_password(api, google):
    response = post(api, id_token=google.id_token())
    assert response.status_code == 200, response.content
    assert set(response.json()) == {"access", "refresh"}
    user = get_user_model().objects.get(email="alice@example.com")
    assert user.email_verified is True
    assert not user.has_usable_password()
    assert (user.first_name, user.last_name) == ("Alice", "Liddell")
    assert user.social_auth.get().uid == "1001"
