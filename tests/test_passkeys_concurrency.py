"""One assertion, many workers (guarantee 12): the same passkey answer posted from several
*processes* at once, against real Redis and Postgres, signs in once; the others find its
challenge taken (GETDEL). And two answers to two challenges carrying the same sign count:
the database's conditional UPDATE lets one through.

Forked workers as in tests/test_mfa_concurrency.py (fakeredis lives in one process)."""

from __future__ import annotations

import pytest

from django_redis_auth.mfa import passkeys
from tests.forked import race
from tests.mfa_helpers import login_pair
from tests.test_passkeys import add_passkey
from tests.webauthn_soft import SoftAuthenticator

pytestmark = [pytest.mark.real, pytest.mark.django_db(transaction=True)]

WORKERS = 6


def _sign_in(credential: dict) -> None:
    from django_redis_auth.accounts import users
    from django_redis_auth.clients import Client
    from django_redis_auth.tokens import issuing

    with users.atomic():
        asserted = passkeys.authenticate(credential)
        issuing.issue_token_pair(asserted.user, Client(ip="198.51.100.9"), amr=asserted.amr)


def _race(credentials: list[dict]) -> list[str]:
    return race([lambda c=c: _sign_in(c) for c in credentials])


def test_parallel_replays_of_one_assertion_one_success(user):
    authenticator = SoftAuthenticator()
    add_passkey(login_pair()["access"], authenticator)
    credential = authenticator.get(passkeys.request_options())
    outcomes = _race([credential] * WORKERS)
    assert outcomes == ["challenge_expired"] * (WORKERS - 1) + ["ok"], outcomes


def test_parallel_answers_with_one_sign_count_one_success(user):
    authenticator = SoftAuthenticator()
    add_passkey(login_pair()["access"], authenticator)
    answers = [authenticator.get(passkeys.request_options(), sign_count=7) for _ in range(WORKERS)]
    outcomes = _race(answers)
    assert outcomes == ["invalid_credential"] * (WORKERS - 1) + ["ok"], outcomes
