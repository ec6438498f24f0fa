"""The test settings plus django-axes (tests/test_axes.py runs tests/axes_scenarios.py with
them in a subprocess: axes' signal receivers, once connected, would count every login of
the rest of the suite)."""

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES, INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "axes"]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = 3
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_VERBOSE = False
# Beside the parent run's test database, never the same one.
DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_axes"}
