from django.contrib import admin
from django.contrib.staticfiles.urls import staticfiles_urlpatterns
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from django_redis_auth.fleet.views import JWKSView

from . import dev, views

urlpatterns = [
    path("", views.index, name="index"),
    path("api/", views.api_index, name="api-index"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("auth/", include("django_redis_auth.urls")),
    # The JWK Set where other services look for it by convention (also at /auth/...).
    path(".well-known/jwks.json", JWKSView.as_view(), name="jwks"),
    path("admin/", admin.site.urls),
    # Development only (404 with DEBUG off): the mailbox and the signed-in user's Redis keys.
    path("dev/mailbox/", dev.mailbox_page, name="dev-mailbox"),
    path("dev/mailbox.json", dev.mailbox_json, name="dev-mailbox-json"),
    path("dev/redis-keys/", dev.RedisKeysView.as_view(), name="dev-redis-keys"),
]

# The page's CSS and JS under runserver *and* gunicorn while DEBUG is on (empty otherwise;
# production serves collected static files).
urlpatterns += staticfiles_urlpatterns()

handler400 = "demo.views.bad_request"
handler403 = "demo.views.permission_denied"
handler404 = "demo.views.not_found"
handler500 = "demo.views.server_error"
