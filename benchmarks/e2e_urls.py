from demo.urls import urlpatterns as demo_urlpatterns
from django.urls import path

from benchmarks.views import SimpleJWTMeView

urlpatterns = [
    path("bench/me-simplejwt/", SimpleJWTMeView.as_view(), name="bench-me-simplejwt"),
    *demo_urlpatterns,
]
