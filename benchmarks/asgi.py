"""ASGI entry point of the end-to-end benchmark (uvicorn), with the same settings as the
gunicorn (WSGI) runs: ``benchmarks.e2e_settings``."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.e2e_settings")
os.environ["BENCH_SERVER"] = "asgi"  # e2e_settings: Django's pool, not persistent connections

application = get_asgi_application()
