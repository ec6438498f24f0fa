"""The example project's URLconf without its OpenAPI pages (``schema``, ``swagger-ui``), for
the test that the demo links them only when a project has them."""

from demo.urls import urlpatterns as demo_urlpatterns

urlpatterns = [
    p for p in demo_urlpatterns if getattr(p, "name", None) not in {"schema", "swagger-ui"}
]
