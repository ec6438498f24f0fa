from demo.urls import urlpatterns as demo_urlpatterns
from django.urls import path
from rest_framework_simplejwt.views import TokenVerifyView

urlpatterns = [
    # simplejwt's own answer to "is this token good?": the signature and expiry only.
    path("bench/simplejwt-verify/", TokenVerifyView.as_view(), name="bench-simplejwt-verify"),
    *demo_urlpatterns,
]
