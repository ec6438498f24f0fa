"""Bad input over HTTP: a hypothesis fuzzer sends every endpoint of the example project
arbitrary bodies (JSON of any shape, the real field names with values of any type and size,
broken JSON, bytes that are not UTF-8, other content types), with and without a bearer token
(valid, revoked, garbage, of the wrong type, malformed headers), and with other methods.

Every answer must be a non-5xx, and every error JSON ``{"detail", "code"}``."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.reliability.harness import Stack, call

pytestmark = [pytest.mark.reliability, pytest.mark.real]

EMAIL = "fuzz@example.com"
# The account the bearer tokens belong to: never in the fuzzed bodies, so the password guard
# (which the fuzzer's wrong passwords for EMAIL trip) cannot throttle its sign-in.
TOKEN_EMAIL = "fuzz-tokens@example.com"


def endpoints() -> list[tuple[str, str]]:
    """(method, path) of every route of the package's URLconf, so a new endpoint is fuzzed
    without editing this file; path converters get a sample value."""
    import re as _re

    from django_redis_auth import urls

    found = []
    for pattern in urls.urlpatterns:
        view = getattr(pattern.callback, "view_class", None)
        path = "/auth/" + _re.sub(r"<[^>]+>", "fuzz", str(pattern.pattern))
        methods = [m.upper() for m in ("get", "post", "put", "patch", "delete") if hasattr(view, m)]
        found.extend((method, path) for method in methods)
    return found


ENDPOINTS = endpoints()
FIELDS = [
    *("email", "password", "code", "challenge", "purpose", "refresh", "new_password"),
    *("current_password", "new_email", "id_token", "access_token", "code_verifier", "next"),
]
EXAMPLES = 45  # per endpoint: ~500 requests in all, about 15 s

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=40)
    | st.text(max_size=5000).map(lambda t: t * 2)
    | st.sampled_from(
        [
            *(EMAIL, "FUZZ@Example.COM", "a@b", "@", "x" * 300 + "@e.com", "123456", "login"),
            *("email_verification", "password_reset", "\x00", "é" * 50, "' OR 1=1 --"),
        ]
    )
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
bodies = st.one_of(
    st.fixed_dictionaries({}, optional={name: json_values for name in FIELDS}).map(
        lambda d: ("json", json.dumps(d).encode())
    ),
    json_values.map(lambda v: ("json", json.dumps(v).encode())),
    st.binary(max_size=300).map(lambda b: ("json", b)),
    st.text(max_size=200).map(lambda t: ("json", ("{" + t).encode())),
    st.text(max_size=200).map(lambda t: ("form", t.encode())),
    st.just(("none", b"")),
)
AUTH_KINDS = ["none", "valid", "revoked", "garbage", "refresh_as_access", "malformed"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with Stack(tmp_path_factory.mktemp("fuzz")) as stack:
        stack.app.create_users(EMAIL, TOKEN_EMAIL)
        yield stack


def header(app, kind: str) -> dict[str, str]:
    if kind == "none":
        return {}
    if kind == "malformed":
        return {"raw": "Bearer"}
    if kind == "garbage":
        return {"token": "eyJhbGciOiJIUzI1NiJ9.e30.not-a-signature"}
    pair = app.login(TOKEN_EMAIL)
    if kind == "refresh_as_access":
        return {"token": pair["refresh"]}
    if kind == "revoked":
        app.post("/auth/logout/", {}, token=pair["access"])
    return {"token": pair["access"]}


SEEN: Counter[str] = Counter()
BAD: list[str] = []


@pytest.mark.parametrize(("method", "path"), ENDPOINTS, ids=[f"{m} {p}" for m, p in ENDPOINTS])
def test_no_input_makes_a_server_error(stack, method, path):
    app = stack.app

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        body=bodies,
        auth=st.sampled_from(AUTH_KINDS),
        verb=st.sampled_from([method] * 8 + ["PUT", "PATCH", "DELETE", "GET"]),
    )
    def check(body, auth, verb):
        kind, payload = body
        content_type = {
            "json": "application/json",
            "form": "application/x-www-form-urlencoded",
            "none": "application/json",
        }[kind]
        options = header(app, auth)
        token = options.get("token")
        if "raw" in options:
            token = None
        answer = call(
            app.port,
            verb,
            path,
            raw=payload if kind != "none" else None,
            token=token,
            content_type=content_type,
        )
        SEEN[f"{answer.status} {answer.code}" if answer.code else str(answer.status)] += 1
        problem = None
        if answer.status == 0 or answer.status >= 500:
            problem = f"{verb} {path} -> {answer.status}"
        elif answer.status >= 400 and not (
            answer.json_ok
            and isinstance(answer.code, str)
            and answer.code
            and "detail" in answer.data
        ):
            problem = f"{verb} {path} -> {answer.status} without a JSON error code"
        if problem:
            BAD.append(problem)
        assert problem is None, (problem, payload[:200], auth, answer.data)

    check()


def test_fuzz_summary(report):
    assert SEEN, "the fuzzer did not run"
    report.add(
        "Bad input (hypothesis fuzzer)",
        f"{sum(SEEN.values())} requests: {EXAMPLES} generated cases per endpoint, "
        f"{len(ENDPOINTS)} endpoints; any JSON, broken JSON, non-UTF-8 bytes, form bodies, "
        "other methods; no / valid / revoked / garbage / wrong-type / malformed bearer",
        "0 server errors; every error JSON with a code",
        server_errors=len(BAD),
        answers=dict(SEEN.most_common(12)),
    )
    assert not BAD
