"""The example project's URLconf plus routes named like its OpenAPI pages (``schema``,
``swagger-ui``), for the test that the demo links them when a project has them."""

from demo.urls import urlpatterns as demo_urlpatterns
from django.http import HttpResponse
from django.urls import path


def placeholder(request):
    return HttpResponse("")


urlpatterns = [
    *demo_urlpatterns,
    path("api/schema/", placeholder, name="schema"),
    path("api/docs/", placeholder, name="swagger-ui"),
]
