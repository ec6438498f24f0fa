"""The signed-in devices (session families) of the caller: list, sign one out, sign out
the others. Thin HTTP over :mod:`django_redis_auth.devices`."""

from __future__ import annotations

from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

from .. import claims, devices, users
from ..serializers import DeviceSerializer
from .base import AuthenticatedAPIView


class DeviceListView(AuthenticatedAPIView):
    """GET → one entry per live session; ``current`` marks the caller's."""

    serializer_class = DeviceSerializer

    def get(self, request: Request) -> Response:
        found = devices.list_devices(users.user_id_of(request.user), claims.of(request.auth).family)
        return Response(self.get_serializer(found, many=True).data)


class DeviceView(AuthenticatedAPIView):
    """DELETE → 204; that session's tokens are refused from the next request on."""

    serializer_class = None

    def delete(self, request: Request, session_id: str) -> Response:
        devices.revoke_device(users.user_id_of(request.user), session_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class RevokeOtherDevicesView(AuthenticatedAPIView):
    """POST → 204; every session of the caller but the one making this request ends."""

    serializer_class = None

    def post(self, request: Request) -> Response:
        devices.revoke_other_devices(users.user_id_of(request.user), claims.of(request.auth).family)
        return Response(status=status.HTTP_204_NO_CONTENT)
