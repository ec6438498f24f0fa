"""Endpoints on the async path for the tests: an adrf async view and django-ninja
operations (sync and async bearer), each answering with the authenticated user."""

from adrf.views import APIView
from ninja import NinjaAPI
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from django_redis_auth.accounts.serializers import UserSerializer
from django_redis_auth.async_auth import AsyncRedisJWTAuthentication
from django_redis_auth.exceptions import exception_handler
from django_redis_auth.ninja_auth import AsyncRedisJWTBearer, RedisJWTBearer, install


class AsyncMeView(APIView):
    authentication_classes = [AsyncRedisJWTAuthentication]
    permission_classes = [IsAuthenticated]

    def get_exception_handler(self):
        return exception_handler  # errors as {"detail", "code"}, like the package's views

    async def get(self, request):
        return Response(UserSerializer(request.user).data)


api = NinjaAPI(urls_namespace="tests-ninja")
install(api)


@api.get("/me", auth=RedisJWTBearer())
def ninja_me(request):
    return {"id": request.auth.pk, "email": request.auth.email}


@api.get("/async-me", auth=AsyncRedisJWTBearer())
async def ninja_async_me(request):
    return {"id": request.auth.pk, "email": request.auth.email}


# Without install(): errors in django-ninja's own shape, still never a 500.
plain_api = NinjaAPI(urls_namespace="tests-ninja-plain")


@plain_api.get("/me", auth=AsyncRedisJWTBearer())
async def plain_ninja_me(request):
    return {"id": request.auth.pk}
