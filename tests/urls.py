from django.contrib import admin
from django.urls import include, path

from tests.async_views import AsyncMeView, api, plain_api

urlpatterns = [
    path("auth/", include("django_redis_auth.urls")),
    path("admin/", admin.site.urls),
    path("async/me/", AsyncMeView.as_view()),
    path("ninja/", api.urls),
    path("ninja-plain/", plain_api.urls),
]
