"""django-ninja bearers: the package's errors, with and without ``install(api)``."""

import pytest

from django_redis_auth.tokens.issuing import issue_token_pair
from tests.helpers import redis_down

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/ninja/me", "/ninja/async-me"])
def test_refusal_carries_the_code_and_www_authenticate(path, bearer):
    response = bearer("not.a.jwt").get(path)
    assert response.status_code == 401
    assert response.json()["code"] == "token_not_valid"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_without_install_errors_are_ninjas_shape_never_a_500(user, bearer):
    client = bearer(issue_token_pair(user).access)
    assert client.get("/ninja-plain/me").json() == {"id": user.pk}
    assert bearer("not.a.jwt").get("/ninja-plain/me").status_code == 401
    with redis_down():
        response = client.get("/ninja-plain/me")
    assert response.status_code == 503
    assert set(response.json()) == {"detail"}


def test_a_missing_header_is_ninjas_own_401(api):
    response = api.get("/ninja/async-me")
    assert response.status_code == 401
