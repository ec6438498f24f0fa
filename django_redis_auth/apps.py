from django.apps import AppConfig


class DjangoRedisAuthConfig(AppConfig):
    name = "django_redis_auth"
    label = "django_redis_auth"
    verbose_name = "Redis auth"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django_redis_auth import checks, outages, receivers

        checks.register()
        receivers.connect()
        outages.connect()
        try:
            import drf_spectacular  # noqa: F401  (the optional [openapi] extra)
        except ImportError:
            return
        from django_redis_auth import schema  # noqa: F401  registers the OpenAPI extensions
