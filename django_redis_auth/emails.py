"""One canonical form per email address: the identity every lookup, key, limit and mail uses.

Two spellings that reach one mailbox must be one account, and two spellings that the
database, Python and the mail system fold differently must never meet in a lookup. So the
address is folded here, once, and everything else compares the folded strings exactly
(never ``__iexact``: Postgres' ``UPPER()`` maps U+0131 (dotless i) to ``I`` and U+017F
(long s) to ``S``, Python's ``lower()`` does not). See docs/security.md.
"""

from __future__ import annotations

import unicodedata

from django.utils.translation import gettext_lazy as _
from email_validator import EmailNotValidError, validate_email

from django_redis_auth.conf import auth_settings

__all__ = ["EmailNotAllowed", "canonical_email", "normalize_email"]


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

    The syntax is email-validator's (no DNS lookup): an unquoted local part (any script's
    letters only with ``ALLOW_UNICODE_LOCAL_PART``), ``@``, and a domain name
    (internationalised names are stored in their ``xn--`` form). On top of it this site's
    rules: the address is folded first (:func:`normalize_email`), and IP-literal domains
    (``a@[127.0.0.1]``) and non-ASCII local parts are refused as ``email_not_allowed``.
    Quoted local parts, display names, control characters and over-long addresses are
    ``invalid_email``. Idempotent: ``canonical_email(canonical_email(a)) == canonical_email(a)``.
    """
    invalid = str(_("Enter a valid email address."))
    if not isinstance(address, str):
        raise EmailNotAllowed(invalid)
    folded = normalize_email(address)
    local, at, domain = folded.rpartition("@")
    if not at or not local or not domain:
        raise EmailNotAllowed(invalid)
    if domain.startswith("[") or domain.endswith("]"):
        raise EmailNotAllowed(
            str(_("Addresses at an IP literal are not accepted.")), "email_not_allowed"
        )
    unicode_local = not local.isascii()
    if unicode_local and not auth_settings.ALLOW_UNICODE_LOCAL_PART:
        raise EmailNotAllowed(
            str(_("Addresses with non-ASCII characters before the @ are not accepted.")),
            "email_not_allowed",
        )
    if not domain.isascii():  # a name IDNA could not encode
        raise EmailNotAllowed(invalid)
    try:
        validate_email(
            folded,
            check_deliverability=False,
            allow_smtputf8=unicode_local,
            allow_quoted_local=False,
            allow_domain_literal=False,
            allow_display_name=False,
            allow_empty_local=False,
            strict=True,  # also the 64-character limit of the local part
        )
    except EmailNotValidError:
        raise EmailNotAllowed(invalid) from None
    return folded
