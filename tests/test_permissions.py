"""``MultiFactorRequired`` and ``RecentAuthentication``: a project's own views can ask how and
when the user signed in, at no round trip when the request passes."""

from __future__ import annotations

import json

import pytest
import time_machine
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from django_redis_auth.authentication import RedisJWTAuthentication
from django_redis_auth.exceptions.handler import exception_handler
from django_redis_auth.permissions import MultiFactorRequired, RecentAuthentication
from django_redis_auth.tokens.issuing import issue_token_pair
from tests.helpers import error
from tests.mfa_helpers import PASSWORD, bearer

pytestmark = pytest.mark.django_db

T0 = 1_900_000_000


class Base(APIView):
    """A project's view, with the package's error handler (REST_FRAMEWORK's
    EXCEPTION_HANDLER in a project) so refusals carry their ``code``."""

    authentication_classes = [RedisJWTAuthentication]

    def get_exception_handler(self):
        return exception_handler

    def get(self, request):
        return Response({"ok": True})


class Payout(Base):
    permission_classes = [IsAuthenticated, MultiFactorRequired]


class Recent(Base):
    permission_classes = [IsAuthenticated, RecentAuthentication]


class RecentTen(Base):
    permission_classes = [IsAuthenticated, RecentAuthentication(10)]


class Either(Base):
    permission_classes = [IsAuthenticated & (MultiFactorRequired | RecentAuthentication(10))]


def call(view, access=None):
    request = APIRequestFactory().get("/x/")
    if access:
        request.META["HTTP_AUTHORIZATION"] = f"Bearer {access}"
    response = view.as_view()(request).render()
    response.json = lambda: json.loads(response.content)
    return response


def test_multi_factor_required(user):
    with time_machine.travel(T0, tick=False):
        password_only = issue_token_pair(user, amr=["pwd"]).access
        two_factors = issue_token_pair(user, amr=["pwd", "otp", "mfa"]).access
        email_step_up = issue_token_pair(user, amr=["pwd", "otp"]).access
        assert call(Payout, two_factors).status_code == 200
        error(call(Payout, password_only), 403, "multi_factor_required")
        error(call(Payout, email_step_up), 403, "multi_factor_required")
        assert call(Payout).status_code == 401


def test_recent_authentication_default_window_and_max_age(user):
    with time_machine.travel(T0, tick=False):
        access = issue_token_pair(user).access
    with time_machine.travel(T0 + 9, tick=False):
        assert call(Recent, access).status_code == 200
        assert call(RecentTen, access).status_code == 200
    with time_machine.travel(T0 + 11, tick=False):
        assert call(Recent, access).status_code == 200  # REAUTH_WINDOW = 300
        body = error(call(RecentTen, access), 403, "reauthentication_required")
        assert body["methods"] == ["password"]


def test_a_reauth_counts_for_recent_authentication(user):
    with time_machine.travel(T0, tick=False):
        access = issue_token_pair(user).access
    with time_machine.travel(T0 + 60, tick=False):
        error(call(RecentTen, access), 403, "reauthentication_required")
        assert (
            bearer(access).post("/auth/reauth/", {"password": PASSWORD}, format="json").status_code
            == 200
        )
        assert call(RecentTen, access).status_code == 200


def test_permissions_compose(user):
    with time_machine.travel(T0, tick=False):
        mfa = issue_token_pair(user, amr=["pwd", "otp", "mfa"]).access
        pwd = issue_token_pair(user, amr=["pwd"]).access
    with time_machine.travel(T0 + 60, tick=False):
        assert call(Either, mfa).status_code == 200
        assert call(Either, pwd).status_code == 403


def test_a_passing_permission_costs_no_round_trip(user, round_trips, django_assert_num_queries):
    with time_machine.travel(T0, tick=False):
        access = issue_token_pair(user, amr=["pwd", "otp", "mfa"]).access
        call(Payout, access)  # warm the user cache
        for view in (Payout, RecentTen):
            with round_trips() as rt, django_assert_num_queries(0):
                assert call(view, access).status_code == 200
            assert rt.count == 1  # the authentication's own
