"""One canonical form per email address: the identity every lookup, key, limit and mail uses.

Two spellings that reach one mailbox must be one account, and two spellings that the
database, Python and the mail system fold differently must never meet in a lookup. So the
address is folded here, once, and everything else compares the folded strings exactly
(never ``__iexact``: Postgres' ``UPPER()`` maps U+0131 (dotless i) to ``I`` and U+017F
(long s) to ``S``, Python's ``lower()`` does not). See docs/security.md.
"""

from __future__ import annotations

import re
import unicodedata

from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _

from django_redis_auth.conf import auth_settings

__all__ = ["EmailNotAllowed", "canonical_email", "normalize_email"]

LOCAL_MAX = 64
ADDRESS_MAX = 254

# RFC 5322 dot-atom (unquoted local part), ASCII only. Quoted local parts ("a b"@x) are
# refused: no mainstream provider issues them and they have many spellings of one mailbox.
_ASCII_LOCAL = re.compile(r"[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*\Z")
# Letters, marks and digits of any script (only with ALLOW_UNICODE_LOCAL_PART).
_UNICODE_CATEGORIES = ("L", "M", "N")
_domain_validator = EmailValidator()


class EmailNotAllowed(ValueError):
    """The address is malformed (``code = "invalid_email"``) or of a kind this site refuses
    (``"email_not_allowed"``: a non-ASCII local part, an IP-literal domain)."""

    def __init__(self, message: str, code: str = "invalid_email") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def normalize_email(address: str) -> str:
    """The folded form of ``address`` without validating it (never raises).

    NFKC (a full-width ``a`` is ``a``, the Kelvin sign is ``K``, the long s is ``s``), full Unicode
    case folding (``ß`` is ``ss``), NFKC again (folding can denormalise), and the domain in
    its ASCII (IDNA) form without a trailing dot. :func:`canonical_email` is this plus the
    rules of what is accepted; both give the same string for an accepted address.
    """
    text = unicodedata.normalize("NFKC", str(address or "").strip())
    text = unicodedata.normalize("NFKC", text.casefold())
    local, at, domain = text.rpartition("@")
    if not at:
        return text
    domain = domain.rstrip(".")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError:
            return f"{local}@{domain}"
    return f"{local}@{domain.lower()}"


def canonical_email(address: str) -> str:
    """The canonical form of ``address``, or :class:`EmailNotAllowed`.

    Accepted: an unquoted local part of ASCII letters, digits and RFC 5322 symbols (any
    script's letters too with ``ALLOW_UNICODE_LOCAL_PART``), ``@``, and a domain name
    (internationalised names are stored in their ``xn--`` form). Refused: IP-literal domains
    (``a@[127.0.0.1]``), quoted local parts, control characters, over-long addresses.
    Idempotent: ``canonical_email(canonical_email(a)) == canonical_email(a)``.
    """
    if not isinstance(address, str):
        raise EmailNotAllowed(str(_("Enter a valid email address.")))
    folded = normalize_email(address)
    local, at, domain = folded.rpartition("@")
    if not at or not local or not domain:
        raise EmailNotAllowed(str(_("Enter a valid email address.")))
    if domain.startswith("[") or domain.endswith("]"):
        raise EmailNotAllowed(
            str(_("Addresses at an IP literal are not accepted.")), "email_not_allowed"
        )
    if not domain.isascii():
        raise EmailNotAllowed(str(_("Enter a valid email address.")))
    if len(local) > LOCAL_MAX or len(folded) > ADDRESS_MAX:
        raise EmailNotAllowed(str(_("Enter a valid email address.")))
    if local.isascii():
        if not _ASCII_LOCAL.match(local):
            raise EmailNotAllowed(str(_("Enter a valid email address.")))
    elif not auth_settings.ALLOW_UNICODE_LOCAL_PART:
        raise EmailNotAllowed(
            str(_("Addresses with non-ASCII characters before the @ are not accepted.")),
            "email_not_allowed",
        )
    elif not _unicode_local_ok(local):
        raise EmailNotAllowed(str(_("Enter a valid email address.")))
    if not _domain_validator.validate_domain_part(domain):
        raise EmailNotAllowed(str(_("Enter a valid email address.")))
    return folded


def _unicode_local_ok(local: str) -> bool:
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return False
    return all(
        (ch.isascii() and (_ASCII_LOCAL.match(ch) or ch == "."))
        or unicodedata.category(ch)[0] in _UNICODE_CATEGORIES
        for ch in local
    )
