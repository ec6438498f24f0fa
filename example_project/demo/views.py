"""A JSON index of the demo, so ``/`` tells a visitor where the API is."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.urls import reverse

# (URL name in the django_redis_auth namespace, methods, what it does)
ENDPOINTS = [
    ("signup", "POST", "email, password -> 202; sends an email_verification code"),
    ("email-verify", "POST", "email, code -> token pair"),
    ("login", "POST", "email, password -> token pair, or 202 with a second-factor challenge"),
    ("login-verify", "POST", "challenge, code -> token pair"),
    ("otp", "POST", "email, purpose -> 202; (re)send a code"),
    ("password-reset", "POST", "email -> 202; sends a password_reset code"),
    ("password-reset-confirm", "POST", "email, code, new_password -> 200"),
    ("token-refresh", "POST", "refresh -> new token pair (rotation, reuse detection)"),
    ("logout", "POST", "bearer access token (+ optional refresh) -> 204"),
    ("logout-all", "POST", "bearer access token -> 204; every session of the user"),
    ("me", "GET", "bearer access token -> the current user"),
]


def index(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "name": "django-redis-auth example project",
            "endpoints": [
                {
                    "path": reverse(f"django_redis_auth:{name}"),
                    "method": method,
                    "description": description,
                }
                for name, method, description in ENDPOINTS
            ],
            "schema": reverse("schema"),
            "docs": reverse("swagger-ui"),
            "admin": reverse("admin:index"),
        }
    )
