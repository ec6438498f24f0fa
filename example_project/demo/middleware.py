"""Django's ``CommonMiddleware`` with redirects that keep the request's method and body.

With ``APPEND_SLASH`` Django answers a path missing its slash with a 301, which clients follow
with a GET and without the body, and with ``DEBUG`` on it raises a ``RuntimeError`` for a POST
instead. The package's own paths answer both spellings; for the rest of the site (the admin,
the schema) this answers a non-GET request with a 308, which clients repeat with the same
method and body.
"""

from django.http import HttpResponsePermanentRedirect
from django.middleware.common import CommonMiddleware as DjangoCommonMiddleware
from django.utils.http import escape_leading_slashes

SAFE = frozenset({"GET", "HEAD"})


class CommonMiddleware(DjangoCommonMiddleware):
    def get_full_path_with_slash(self, request):
        # Django's raises RuntimeError for a POST with DEBUG on: a 308 needs no such warning.
        return escape_leading_slashes(request.get_full_path(force_append_slash=True))

    def process_request(self, request):
        return _keep_method(request, super().process_request(request))

    def process_response(self, request, response):
        return _keep_method(request, super().process_response(request, response))


def _keep_method(request, response):
    if (
        isinstance(response, HttpResponsePermanentRedirect)
        and response.status_code == 301
        and request.method not in SAFE
    ):
        response.status_code = 308
    return response
