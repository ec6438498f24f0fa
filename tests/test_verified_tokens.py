"""verified_tokens: a token's signature is checked once per process; nothing else is skipped."""

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.test import override_settings
from django.utils import timezone
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.tokens import AccessToken

from django_redis_auth.tokens import signing
from django_redis_auth.tokens import verified as verified_tokens
from django_redis_auth.tokens.issuing import issue_token_pair
from tests.helpers import authenticate

pytestmark = pytest.mark.django_db


def refusal(access: str) -> tuple[str, object]:
    """(the ``code`` of the 401's body, the whole detail)."""
    with pytest.raises(AuthenticationFailed) as exc:
        authenticate(access)
    codes = exc.value.get_codes()
    return (codes["code"] if isinstance(codes, dict) else codes), exc.value.detail


@contextlib.contextmanager
def remembered_token(user):
    """A token authenticated once (so remembered; 2 decodes so far), and ``at(offset)`` to
    move the clock to ``offset`` seconds from its ``exp``."""
    with time_machine.travel(timezone.now(), tick=False) as clock:
        access = issue_token_pair(user).access
        exp = AccessToken(access, verify=False)["exp"]
        authenticate(access)
        yield access, lambda offset: clock.move_to(datetime.fromtimestamp(exp + offset, tz=UTC))


def simplejwt_settings(**changes):
    return override_settings(SIMPLE_JWT={**settings.SIMPLE_JWT, **changes})


def test_a_tokens_later_requests_skip_the_signature_check(user, pyjwt_decodes):
    access = issue_token_pair(user).access
    first_user, first = authenticate(access)
    second_user, second = authenticate(access)
    assert len(pyjwt_decodes) == 1
    assert type(second) is signing.AccessToken and second.payload == first.payload
    assert second is not first and second.payload is not first.payload
    assert second.token == first.token and second_user.pk == first_user.pk == user.pk


def test_each_request_gets_its_own_payload(user):
    access = issue_token_pair(user).access
    for _ in range(3):  # validated, then recalled twice
        _, token = authenticate(access)
        assert token["user_id"] == str(user.pk) and "extra" not in token
        token["user_id"] = "999999"  # a view scribbling on its token
        token.payload["extra"] = "x"


def test_a_remembered_token_is_refused_once_revoked(user, login, bearer, me_path):
    pair = login()
    client = bearer(pair["access"])
    assert client.get(me_path).status_code == 200
    assert client.post("/auth/logout/").status_code in (200, 204)
    response = client.get(me_path)
    assert response.status_code == 401
    assert response.json()["code"] == "token_revoked"


def test_a_forged_signature_is_refused_although_the_payload_was_remembered(user):
    access = issue_token_pair(user).access
    authenticate(access)
    head, body, signature = access.split(".")
    forged = f"{head}.{body}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    code, _ = refusal(forged)
    assert code == "token_not_valid"


def test_a_remembered_token_expires_exactly_as_an_unseen_one(user, pyjwt_decodes):
    with remembered_token(user) as (access, at):
        at(-2)
        authenticate(access)
        assert len(pyjwt_decodes) == 2  # still remembered
        at(0)
        remembered = refusal(access)
        verified_tokens.clear()
        unseen = refusal(access)
    assert remembered == unseen
    assert remembered[0] == "token_not_valid"


def test_the_memo_honours_the_leeway_simplejwt_validates_with(user, pyjwt_decodes, monkeypatch):
    monkeypatch.setattr(TokenBackend, "get_leeway", lambda self: timedelta(seconds=30))
    with remembered_token(user) as (access, at):
        at(20)
        authenticate(access)  # simplejwt would accept it, and the memo replays that
        assert len(pyjwt_decodes) == 2
        at(30)
        assert refusal(access)[0] == "token_not_valid"


def test_changed_jwt_settings_forget_every_token(user, pyjwt_decodes):
    access = issue_token_pair(user).access
    authenticate(access)
    with simplejwt_settings(SIGNING_KEY=settings.SECRET_KEY):
        authenticate(access)
    assert len(pyjwt_decodes) == 2


def test_memo_size_zero_checks_every_signature(user, pyjwt_decodes):
    access = issue_token_pair(user).access
    with override_settings(
        DJANGO_REDIS_AUTH={**settings.DJANGO_REDIS_AUTH, "VERIFIED_TOKEN_MEMO": 0}
    ):
        authenticate(access)
        authenticate(access)
    assert len(pyjwt_decodes) == 2


def test_memo_is_bounded(user):
    with override_settings(
        DJANGO_REDIS_AUTH={**settings.DJANGO_REDIS_AUTH, "VERIFIED_TOKEN_MEMO": 2}
    ):
        tokens = [issue_token_pair(user).access for _ in range(3)]
        for access in tokens:
            authenticate(access)
        assert len(verified_tokens._memo) == 2
        assert verified_tokens.recall(tokens[0].encode()) is None  # the oldest made room
        assert verified_tokens.recall(tokens[2].encode()) is not None


def test_tokens_with_nested_claims_are_not_remembered(user):
    raw = issue_token_pair(user).access.encode()
    token = AccessToken(raw)
    token.payload["roles"] = {"admin": True}
    verified_tokens.remember(raw, token)
    assert verified_tokens.recall(raw) is None


def test_list_claims_come_back_as_fresh_lists(user):
    """``amr`` is a list: it is remembered, and a view that changes its copy changes
    nothing for the next request."""
    raw = issue_token_pair(user).access.encode()
    verified_tokens.remember(raw, AccessToken(raw))
    first = verified_tokens.recall(raw)
    assert first is not None and first["amr"] == ["pwd"]
    first["amr"].append("mfa")
    assert verified_tokens.recall(raw)["amr"] == ["pwd"]


class CheckedAccessToken(AccessToken):
    checks: list[str] = []

    def verify(self):
        super().verify()
        CheckedAccessToken.checks.append(self["jti"])


def test_token_classes_with_checks_of_their_own_run_them_on_every_request(user, monkeypatch):
    from rest_framework_simplejwt import authentication

    # simplejwt's modules keep the settings object they imported (override_settings
    # replaces it in simplejwt.settings only), so set the class where the check reads it.
    monkeypatch.setattr(
        authentication.api_settings, "AUTH_TOKEN_CLASSES", [CheckedAccessToken], raising=False
    )
    CheckedAccessToken.checks = []
    access = issue_token_pair(user).access
    authenticate(access)
    authenticate(access)
    assert len(CheckedAccessToken.checks) == 2
    assert len(verified_tokens._memo) == 0


def test_keys_from_a_jwk_url_are_never_remembered(user, monkeypatch):
    from jwt import PyJWKClient

    raw = issue_token_pair(user).access.encode()
    token = AccessToken(raw)
    backend = token.get_token_backend()
    monkeypatch.setattr(backend, "jwks_client", PyJWKClient("https://issuer.invalid/jwks.json"))
    verified_tokens.remember(raw, token)
    assert verified_tokens.recall(raw) is None
    monkeypatch.setattr(backend, "jwks_client", None)
    verified_tokens.remember(raw, token)
    assert verified_tokens.recall(raw) is not None


def _overriding(name: str) -> type[AccessToken]:
    base = getattr(AccessToken, name)
    if isinstance(base, property):
        attrs = {name: property(lambda self: base.fget(self))}
    else:
        attrs = {name: lambda self, *args, **kwargs: base(self, *args, **kwargs)}
    return type(f"Overriding_{name.strip('_')}", (AccessToken,), attrs)


@pytest.mark.parametrize(
    "name", ["__init__", "check_exp", "verify_token_type", "get_token_backend", "token_backend"]
)
def test_token_classes_overriding_any_replayed_check_are_never_remembered(user, name):
    token_class = _overriding(name)
    raw = issue_token_pair(user).access.encode()
    token = token_class(raw)
    verified_tokens.remember(raw, token)
    assert verified_tokens.recall(raw) is None


def test_a_backend_other_than_simplejwts_own_is_never_remembered(user, monkeypatch):
    """Same class, other instance (a per-tenant or rotated key, say): its keys are not the
    ones the memo's entries were checked with."""
    raw = issue_token_pair(user).access.encode()
    token = AccessToken(raw)
    own = token.get_token_backend()
    other = TokenBackend(own.algorithm, own.signing_key)
    monkeypatch.setattr(token, "_token_backend", other, raising=False)
    verified_tokens.remember(raw, token)
    assert verified_tokens.recall(raw) is None


def test_a_backend_subclass_installed_as_simplejwts_own_is_never_remembered(user, monkeypatch):
    """A project may install its own backend (key rotation by key id, say) where simplejwt
    looks for its backend; it can withdraw keys, so its tokens are checked every time."""
    from rest_framework_simplejwt import state

    class RotatingBackend(TokenBackend):
        pass

    own = state.token_backend
    rotating = RotatingBackend(own.algorithm, own.signing_key)
    monkeypatch.setattr(state, "token_backend", rotating)
    raw = issue_token_pair(user).access.encode()
    token = AccessToken(raw)
    monkeypatch.setattr(token, "_token_backend", rotating, raising=False)
    assert token.get_token_backend() is state.token_backend
    verified_tokens.remember(raw, token)
    assert verified_tokens.recall(raw) is None


def test_a_token_about_to_expire_is_validated_in_full(user, pyjwt_decodes):
    with remembered_token(user) as (access, at):
        at(-0.5)
        authenticate(access)  # still valid, but inside the last second: checked again
    assert len(pyjwt_decodes) == 3


def test_a_recalled_token_carries_the_time_of_its_request(user):
    with time_machine.travel(timezone.now(), tick=False) as clock:
        access = issue_token_pair(user).access
        authenticate(access)
        clock.shift(timedelta(seconds=90))
        _, token = authenticate(access)
        assert token.current_time == timezone.now()


def test_oversized_or_unhashable_raw_tokens_are_not_remembered(user):
    raw = issue_token_pair(user).access.encode()
    token = AccessToken(raw)
    verified_tokens.remember(raw + b" " * 2100, token)  # as if a 2 KB+ header had carried it
    assert len(verified_tokens._memo) == 0
    assert verified_tokens.recall(bytearray(raw)) is None
    verified_tokens.remember(bytearray(raw), token)
    assert len(verified_tokens._memo) == 0


def test_a_memo_shrunk_to_zero_by_another_thread_does_not_hang_a_writer():
    import threading
    from collections import OrderedDict

    from django_redis_auth.tokens.memo import BoundedMemo

    memo = BoundedMemo(1)

    class ShrinksWhenMeasured(OrderedDict):
        def __len__(self):
            memo.max_entries = 0
            return OrderedDict.__len__(self)

    memo._entries = ShrinksWhenMeasured({1: 1})
    writer = threading.Thread(target=memo.put, args=(2, 2), daemon=True)
    writer.start()
    writer.join(2)
    assert not writer.is_alive()
