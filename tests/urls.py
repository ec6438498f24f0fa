from django.contrib import admin
from django.urls import include, path

from tests.async_views import AsyncMeView, api

urlpatterns = [
    path("auth/", include("django_redis_auth.urls")),
    path("admin/", admin.site.urls),
    path("async/me/", AsyncMeView.as_view()),
    path("ninja/", api.urls),
]
