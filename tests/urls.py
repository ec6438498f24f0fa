from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("auth/", include("django_redis_auth.urls")),
    path("admin/", admin.site.urls),
]
