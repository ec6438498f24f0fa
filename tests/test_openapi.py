"""The OpenAPI schema: built from the views' declarations, valid with warnings as failures,
and listing every error code of the registry (``exceptions.ERROR_CODES``) — as does
docs/api.md. One registry, so a new code cannot go undocumented."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import get_resolver, include
from django.urls import path as route
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from django_redis_auth.api import BaseAPIView
from django_redis_auth.exceptions import (
    AUTHENTICATION_ERRORS,
    ERROR_CODES,
    VALIDATION_CODES,
    ErrorCode,
)
from django_redis_auth.schema import declared, methods_of

ROOT = Path(__file__).resolve().parent.parent
API_DOC = ROOT / "docs" / "api.md"
SCHEMA_REST_FRAMEWORK = {"DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema"}


@pytest.fixture(scope="module")
def schema():
    from django.conf import settings

    with override_settings(REST_FRAMEWORK={**settings.REST_FRAMEWORK, **SCHEMA_REST_FRAMEWORK}):
        api_settings.reload()
        GENERATOR_STATS.reset()
        try:
            # The package's URLconf as a project mounts it (tests.urls adds test-only views).
            patterns = [route("auth/", include("django_redis_auth.urls"))]
            result = SchemaGenerator(patterns=patterns).get_schema(request=None, public=True)
            problems = dict(GENERATOR_STATS._warn_cache) | dict(GENERATOR_STATS._error_cache)
        finally:
            GENERATOR_STATS.reset()
    api_settings.reload()
    assert problems == {}, problems  # warnings are failures
    return result


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method, operation


def codes_by_status(operation) -> dict[str, set[str]]:
    found = {}
    for status_code, response in operation["responses"].items():
        body = response.get("content", {}).get("application/json", {}).get("schema", {})
        enum = body.get("properties", {}).get("code", {}).get("enum")
        if enum:
            found[status_code] = set(enum)
    return found


def test_schema_is_valid_openapi(schema):
    validate_schema(schema)


def test_every_package_endpoint_is_in_the_schema(schema):
    ours = {
        "/auth/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(p.pattern))
        for p in get_resolver("django_redis_auth.urls").url_patterns
        if hasattr(p.callback, "view_class")  # not the slash-less and 404 fallbacks
    }
    assert ours == set(schema["paths"])


def test_bodies_and_success_statuses_come_from_the_declarations(schema):
    paths = schema["paths"]
    signup = paths["/auth/signup/"]["post"]
    assert signup["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Signup"
    )
    assert {"202", "400", "415", "429", "503"} <= set(signup["responses"])
    assert "200" not in signup["responses"] and "201" not in signup["responses"]
    login = paths["/auth/login/"]["post"]["responses"]
    assert login["200"]["content"]["application/json"]["schema"]["$ref"].endswith("/TokenPair")
    assert login["202"]["content"]["application/json"]["schema"]["$ref"].endswith("/LoginChallenge")
    logout = paths["/auth/logout/"]["post"]["responses"]
    assert "content" not in logout["204"]
    logout_all = paths["/auth/logout/all/"]["post"]
    assert "requestBody" not in logout_all
    me = paths["/auth/me/"]["get"]["responses"]["200"]
    ref = me["content"]["application/json"]["schema"]["$ref"]
    user = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    assert user["type"] == "object"  # an object, not an array
    assert {"id", "email", "email_verified", "is_staff"} <= set(user["properties"])
    sessions = paths["/auth/sessions/"]["get"]["responses"]["200"]
    assert sessions["content"]["application/json"]["schema"]["type"] == "array"  # a list
    assert "parameters" not in paths["/auth/sessions/"]["get"]  # its serializer is the answer
    delete = paths["/auth/account/delete/"]["post"]["responses"]
    assert "content" in delete["202"] and "content" not in delete["204"]


def test_status_codes_carry_their_codes(schema):
    paths = schema["paths"]
    login = codes_by_status(paths["/auth/login/"]["post"])
    assert login["401"] == {"invalid_credentials"}
    assert login["403"] == {"email_not_verified"}
    assert login["429"] == {"rate_limited", "login_throttled"}
    assert login["503"] == {"auth_unavailable", "database_unavailable"}
    assert {"required", "invalid_email", "malformed_request"} <= login["400"]
    assert "invalid_choice" not in login["400"]  # no choice field in the login body
    assert "invalid_choice" in codes_by_status(paths["/auth/otp/"]["post"])["400"]
    me = codes_by_status(paths["/auth/me/"]["get"])
    assert me["401"] == {
        "not_authenticated",
        "bad_authorization_header",
        "token_not_valid",
        "token_revoked",
        "user_not_found",
        "user_inactive",
    }
    refresh = codes_by_status(paths["/auth/token/refresh/"]["post"])
    assert refresh["401"] == {"token_not_valid", "token_revoked", "token_reused"}
    assert codes_by_status(paths["/auth/logout/"]["post"])["400"] >= {"token_not_valid"}
    retry_after = paths["/auth/otp/"]["post"]["responses"]["429"]["headers"]
    assert "Retry-After" in retry_after


def test_operations_are_grouped_by_concept(schema):
    tags = {path: op["tags"] for path, _method, op in operations(schema)}
    assert tags["/auth/signup/"] == ["sign-up, sign-in, codes and account"]
    assert tags["/auth/token/refresh/"] == ["tokens and sessions"]
    assert tags["/auth/google/start/"] == ["Google sign-in"]


def test_bearer_scheme_only_on_authenticated_endpoints(schema):
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schema["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    public = {  # everything else needs the bearer access token
        ("/auth/signup/", "post"),
        ("/auth/email/verify/", "post"),
        ("/auth/login/", "post"),
        ("/auth/login/verify/", "post"),
        ("/auth/login/code/", "post"),
        ("/auth/login/code/confirm/", "post"),
        ("/auth/otp/", "post"),
        ("/auth/password/reset/", "post"),
        ("/auth/password/reset/confirm/", "post"),
        ("/auth/token/refresh/", "post"),
        ("/auth/google/", "post"),  # signing in with Google; unlinking it (DELETE) is bearer
        ("/auth/google/start/", "get"),
        ("/auth/google/callback/", "get"),
        ("/auth/google/exchange/", "post"),
        ("/auth/.well-known/jwks.json", "get"),  # public keys, for anyone
        ("/auth/token/introspect/", "post"),  # HTTP Basic client credentials
        ("/auth/passkeys/login/options/", "post"),
        ("/auth/passkeys/login/", "post"),
    }
    for path, method, operation in operations(schema):
        secured = {"bearerAuth": []} in operation.get("security", [])
        assert secured == ((path, method) not in public), (path, method)


def test_every_registered_code_is_in_the_schema_and_nothing_else(schema):
    in_schema = {
        (code, int(status_code))
        for _path, _method, operation in operations(schema)
        for status_code, codes in codes_by_status(operation).items()
        for code in codes
    }
    registered = {(e.code, e.status) for entries in ERROR_CODES.values() for e in entries}
    # The permissions' refusals are answered by the project's own views, not the package's.
    from django_redis_auth import permissions

    for_project_views = {(c.default_code, c.status_code) for c in permissions.DESCRIPTIONS}
    assert registered - in_schema == for_project_views, "registered but no endpoint declares it"
    assert in_schema - registered == set(), "in the schema but not registered"


def test_every_exception_class_is_registered():
    import importlib

    from rest_framework.exceptions import APIException

    from django_redis_auth.exceptions.registry import MODULES

    classes = [
        obj
        for name in MODULES
        for obj in vars(importlib.import_module(name)).values()
        if isinstance(obj, type) and issubclass(obj, APIException) and obj.__module__ == name
    ]
    assert classes
    for exc in classes:
        statuses = {e.status for e in ERROR_CODES.get(str(exc.default_code), ())}
        assert exc.status_code in statuses, exc


def test_every_view_declares_only_registered_exceptions():
    views = {
        p.callback.view_class
        for p in get_resolver("django_redis_auth.urls").url_patterns
        if hasattr(p.callback, "view_class")
    }
    for view in views:
        assert issubclass(view, BaseAPIView)
        for method in methods_of(view):
            for error in declared(view, "errors", method):
                if isinstance(error, ErrorCode):
                    assert error in ERROR_CODES[error.code], (view, error)
                    continue
                entries = ERROR_CODES[str(error.default_code)]
                assert error.status_code in {e.status for e in entries}, (view, error)


def test_the_api_reference_code_table_is_the_registry():
    rows = set(re.findall(r"^\| `([a-z_]+)` \| (\d{3}) \|", API_DOC.read_text(), re.MULTILINE))
    registered = {(e.code, str(e.status)) for entries in ERROR_CODES.values() for e in entries}
    assert rows == registered


def test_the_api_reference_describes_every_operation_of_the_schema(schema):
    text = API_DOC.read_text()
    sections = dict(
        re.findall(r"^### `([A-Z]+ [^`]+)`\n(.*?)(?=^### |\Z)", text, re.MULTILINE | re.DOTALL)
    )
    auth_codes = {str(exc.default_code) for exc in AUTHENTICATION_ERRORS}
    # Said once at the top of docs/api.md, not per endpoint.
    shared = set(VALIDATION_CODES) | {"unsupported_media_type", "database_unavailable"}
    assert "`database_unavailable`" in text.split("### Every error code")[0]
    described = set()
    for path, method, operation in operations(schema):
        title = f"{method.upper()} {path.removeprefix('/auth/')}"
        described.add(title)
        assert title in sections, f"docs/api.md has no section for {title}"
        section = sections[title]
        for status_code in operation["responses"]:
            if status_code != "415":
                assert f"`{status_code}`" in section, (title, status_code)
        for status_code, codes in codes_by_status(operation).items():
            own = codes - shared - (auth_codes if status_code in {"401", "503"} else set())
            own |= codes & {"token_not_valid"} if status_code == "400" else set()
            for code in own:
                assert f"`{code}`" in section, (title, code)
            if codes & shared - {"token_not_valid", "password_invalid", "database_unavailable"}:
                assert "(#validation-errors)" in section, title
            if status_code == "401" and codes >= auth_codes - {"auth_unavailable"}:
                assert "(#authentication-errors)" in section, title
    assert set(sections) == described, "sections for operations the schema does not have"


@pytest.mark.django_db
def test_unregistered_validation_codes_are_reported_as_invalid_input(api):
    # "surrogate_characters_not_allowed" is a DRF CharField code that is not registered.
    response = api.post(
        "/auth/token/refresh/", '{"refresh": "\\ud800"}', content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
    assert response.json()["errors"]["refresh"]
    assert response.json()["code"] in VALIDATION_CODES


def test_validation_codes_are_what_the_handler_emits(api):
    from rest_framework import serializers

    from django_redis_auth.exceptions import exception_handler

    class Body(serializers.Serializer):
        email = serializers.EmailField()
        name = serializers.CharField(max_length=3)

    def code_for(data):
        serializer = Body(data=data)
        assert not serializer.is_valid()
        exc = serializers.ValidationError(serializer.errors)
        return exception_handler(exc, {}).data["code"]

    assert code_for({"name": "x"}) == "required"
    assert code_for({"email": "nope", "name": "x"}) == "invalid_email"
    assert code_for({"email": "a@b.co", "name": "long"}) == "max_length"
    assert code_for({"email": "a@b.co", "name": ""}) == "blank"
    assert code_for({"email": None, "name": "x"}) == "null"


def test_example_project_serves_schema_and_offline_swagger_ui():
    """/api/ (JSON index), /api/schema/ and /api/docs/ with Swagger UI's files served by the
    project itself (drf-spectacular-sidecar), and ``spectacular --validate --fail-on-warn``."""
    script = textwrap.dedent(
        """
        import json, os, re, django
        django.setup()
        from django.contrib.staticfiles import finders
        from django.test import Client
        from django.test.utils import setup_test_environment
        setup_test_environment()
        client = Client()
        index = client.get("/api/")
        assert index.status_code == 200, index.status_code
        assert index.json()["links"]["schema"] == "/api/schema/"
        assert index.json()["links"]["docs"] == "/api/docs/"
        schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
        assert schema.status_code == 200
        assert "/auth/login/" in json.loads(schema.content)["paths"]
        page = client.get("/api/docs/")
        assert page.status_code == 200
        html = page.content.decode()
        scripts = re.findall(r'(?:src|href)="([^"]+)"', html)
        assert scripts and not [u for u in scripts if u.startswith(("http:", "https:", "//"))]
        bundle = [u for u in scripts if u.endswith("swagger-ui-bundle.js")]
        assert bundle, scripts
        path = bundle[0].split("/static/", 1)[1]
        assert finders.find(path), path
        print("ok")
        """
    )
    from tests.example_server import environment

    env = environment(DEBUG="1")
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT / "example_project",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr
    validated = subprocess.run(
        [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn"],
        cwd=ROOT / "example_project",
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert validated.returncode == 0, validated.stderr
    assert "openapi: 3" in validated.stdout


def test_package_imports_without_drf_spectacular(tmp_path):
    """The [openapi] extra is optional: with drf_spectacular unimportable the app still
    starts and serves (the schema module is simply not loaded)."""
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {"drf_spectacular", "drf_spectacular_sidecar"}:
                    raise ModuleNotFoundError(name)
        sys.meta_path.insert(0, Block())
        import django
        django.setup()
        import django_redis_auth
        for info in pkgutil.walk_packages(django_redis_auth.__path__, "django_redis_auth."):
            if info.name != "django_redis_auth.schema" and ".migrations." not in info.name:
                importlib.import_module(info.name)
        assert "django_redis_auth.schema" not in sys.modules
        assert "drf_spectacular" not in sys.modules
        from django.test import Client
        from django.test.utils import setup_test_environment
        setup_test_environment()
        print(Client().post("/auth/login/", {}, content_type="application/json").status_code)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "tests.settings",
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "400"


def test_an_apiview_without_declarations_is_left_alone():
    from django_redis_auth.schema import DeclaredViewExtension

    assert DeclaredViewExtension._matches(BaseAPIView)
    assert not DeclaredViewExtension._matches(APIView)


def test_email_verify_says_it_signs_the_user_in(schema):
    operation = schema["paths"]["/auth/email/verify/"]["post"]
    assert "signs the user in" in operation["description"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/TokenPair"
    )
