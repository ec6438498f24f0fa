from django.urls import include, path

from benchmarks.views import SimpleJWTMeView

urlpatterns = [
    path("auth/", include("django_redis_auth.urls")),
    path("bench/me-simplejwt/", SimpleJWTMeView.as_view(), name="bench-me-simplejwt"),
]
