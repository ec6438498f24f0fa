from demo.urls import urlpatterns as demo_urlpatterns
from django.urls import path

from benchmarks.views import AsyncMeView, SimpleJWTMeView

urlpatterns = [
    path("bench/me-simplejwt/", SimpleJWTMeView.as_view(), name="bench-me-simplejwt"),
    path("bench/me-async/", AsyncMeView.as_view(), name="bench-me-async"),
    *demo_urlpatterns,
]
