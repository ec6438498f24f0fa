"""A bench-only twin of ``me/`` authenticated by simplejwt's stateless JWTAuthentication.

Same view, serializer, renderer and error handling as ours; only the authentication class
differs, so the end-to-end comparison isolates the authentication design.
"""

from rest_framework_simplejwt.authentication import JWTAuthentication

from django_redis_auth.views import MeView


class SimpleJWTMeView(MeView):
    authentication_classes = (JWTAuthentication,)
