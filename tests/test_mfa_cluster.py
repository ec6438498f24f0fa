"""Authenticator enrolment and both second-step methods on a real 3-master Redis Cluster:
every script and command of mfa/ stays in one slot (guarantee 10). Reuses the cluster of
tests/test_cluster.py (its fixtures point the package at it)."""

from __future__ import annotations

import pytest

from tests.mfa_helpers import challenge, code_at, enrol, error, verify
from tests.test_cluster import cluster, on_cluster  # noqa: F401 - the fixtures

pytestmark = [pytest.mark.real, pytest.mark.django_db]


def test_enrol_and_sign_in_with_totp_and_a_recovery_code_on_cluster(user):
    enrolled = enrol()
    code = code_at(enrolled["secret"])
    assert verify(challenge()["challenge"], code, "totp").status_code == 200
    error(verify(challenge()["challenge"], code, "totp"), 400, "invalid_code")
    recovery_code = enrolled["recovery_codes"][0]
    assert verify(challenge()["challenge"], recovery_code, "recovery_code").status_code == 200
    error(verify(challenge()["challenge"], recovery_code, "recovery_code"), 400, "invalid_code")
