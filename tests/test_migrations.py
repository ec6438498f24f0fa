"""A model change without its migration must fail the suite, not a user's deploy."""

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_models_and_migrations_are_in_sync():
    out = StringIO()
    try:
        call_command(
            "makemigrations", "django_redis_auth", "--check", "--dry-run", stdout=out, stderr=out
        )
    except SystemExit as exc:  # --check exits 1 when a migration is missing
        pytest.fail(f"django_redis_auth needs a new migration (exit {exc.code}):\n{out.getvalue()}")
    assert "No changes detected" in out.getvalue()
