"""The "plain Postgres table" design for one-time codes, used as a comparison only.

What a project writes when it keeps codes in its database: one row per issued code with a
keyed hash, an attempt counter and an expiry, plus a periodic cleanup job (not measured).
The table is created by ``migrate --run-syncdb`` (this app has no migrations on purpose).
"""

from django.db import models


class PgCode(models.Model):
    email = models.CharField(max_length=254)
    purpose = models.CharField(max_length=32)
    digest = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used = models.BooleanField(default=False)

    class Meta:
        app_label = "benchmarks"
        indexes = [models.Index(fields=["email", "purpose", "created_at"])]

    def __str__(self) -> str:
        return f"{self.purpose} code for {self.email}"
