from django.contrib import admin
from django.urls import include, path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("auth/", include("django_redis_auth.urls")),
    path("admin/", admin.site.urls),
]
