"""Bench-only twins of ``me/``: authenticated by simplejwt's stateless JWTAuthentication,
and by our async path in an adrf async view (served under uvicorn).

Same serializer, renderer and error handling as ours; only the authentication (and, for the
async twin, the view's dispatch) differs, so the end-to-end comparison isolates the
authentication design.
"""

from adrf.views import APIView as AsyncAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework_simplejwt.authentication import JWTAuthentication

from django_redis_auth.accounts.serializers import UserSerializer
from django_redis_auth.accounts.views import MeView
from django_redis_auth.async_auth import AsyncRedisJWTAuthentication
from django_redis_auth.exceptions import exception_handler


class SimpleJWTMeView(MeView):
    authentication_classes = (JWTAuthentication,)


class AsyncMeView(AsyncAPIView):
    authentication_classes = (AsyncRedisJWTAuthentication,)
    permission_classes = (IsAuthenticated,)

    def get_exception_handler(self):
        return exception_handler

    async def get(self, request):
        return Response(UserSerializer(request.user).data)
