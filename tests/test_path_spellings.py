"""Every endpoint answers JSON whether or not the client wrote its trailing slash, with DEBUG
on and off, behind Django's CommonMiddleware (APPEND_SLASH): never Django's RuntimeError page
(a 500), never a 301 that turns a POST into a GET and drops its body."""

import sys
from pathlib import Path

import pytest
from django.urls import URLPattern, get_resolver

from django_redis_auth import store

pytestmark = pytest.mark.django_db

EXAMPLE = Path(__file__).resolve().parent.parent / "example_project"
if str(EXAMPLE) not in sys.path:
    sys.path.insert(0, str(EXAMPLE))  # demo.middleware

COMMON = "django.middleware.common.CommonMiddleware"
SAMPLE_ARGS = {"session_id": "abc", "passkey_id": "1"}
METHODS = ("get", "post", "patch", "delete")


def _endpoints() -> list[str]:
    paths = []
    for pattern in get_resolver("django_redis_auth.urls").url_patterns:
        if not isinstance(pattern, URLPattern) or pattern.name is None:
            continue
        route = str(pattern.pattern)
        for name, value in SAMPLE_ARGS.items():
            route = route.replace(f"<str:{name}>", value)
        if route.endswith("/"):  # not .well-known/jwks.json, a file name
            paths.append(f"/auth/{route}")
    return paths


ENDPOINTS = _endpoints()


@pytest.fixture(params=[True, False], ids=["debug", "no-debug"])
def site(request, settings):
    settings.DEBUG = request.param
    settings.APPEND_SLASH = True
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, COMMON]
    return settings


def _call(client, method, path):
    return getattr(client, method)(
        path, {"email": "a@example.com"}, content_type="application/json"
    )


def test_the_sample_covers_every_endpoint():
    assert len(ENDPOINTS) >= 25
    assert all(path.endswith("/") and "<" not in path for path in ENDPOINTS)


@pytest.mark.parametrize("path", ENDPOINTS)
def test_without_its_slash_an_endpoint_answers_as_with_it(site, client, path):
    for method in METHODS:
        slashed = _call(client, method, path)
        store.get_client().flushdb()  # the second call must not meet the first's cooldown
        bare = _call(client, method, path.rstrip("/"))
        assert bare.status_code == slashed.status_code, (method, path)
        assert bare.status_code not in (301, 302, 500), (method, path)
        assert bare["Content-Type"].startswith("application/json"), (method, path)
        if slashed.status_code >= 400:
            assert bare.json()["code"] == slashed.json()["code"]


def test_a_post_without_slash_reaches_the_view_with_its_body(site, client, user):
    from tests.conftest import PASSWORD

    response = client.post(
        "/auth/login",
        {"email": user.email, "password": PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}


@pytest.mark.parametrize("path", ["/auth/nothing-here", "/auth/nothing/here/", "/auth/login/x"])
def test_an_unknown_path_under_the_mount_is_a_json_404(site, client, path):
    for method in METHODS:
        response = _call(client, method, path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found.", "code": "not_found"}


@pytest.mark.parametrize("debug", [True, False])
def test_the_example_project_redirects_other_posts_with_a_308(settings, client, debug):
    """Outside the package (a project view here) APPEND_SLASH still redirects; the demo's
    CommonMiddleware makes that a 308 for a POST, a 301 for a GET."""
    settings.DEBUG = debug
    settings.MIDDLEWARE = [
        m if m != COMMON else "demo.middleware.CommonMiddleware"
        for m in [*settings.MIDDLEWARE, COMMON]
    ]
    posted = client.post("/async/me", {"x": "y"})
    assert posted.status_code == 308
    assert posted["Location"] == "/async/me/"
    got = client.get("/async/me")
    assert got.status_code == 301
