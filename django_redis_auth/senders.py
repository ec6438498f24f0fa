"""Delivering the package's emails, through a pluggable sender.

Flows build an :class:`AuthEmail` (what to send, to whom, with which template) and hand it to
``DJANGO_REDIS_AUTH["EMAIL_SENDER"]``, a dotted path to any ``callable(AuthEmail)``:

* :func:`send_in_background` (default): after the current transaction commits, a small
  bounded thread pool renders the templates and sends through Django's mail API. The HTTP
  answer never waits for SMTP, so a slow mail server neither slows sign-up down nor reveals
  (by timing) whether an address has an account.
* :func:`send_now`: renders and sends synchronously. For tests and management commands;
  on a web request it puts SMTP latency on the response.
* your own: hand the message to a task queue. :class:`AuthEmail` is a plain dataclass whose
  :meth:`~AuthEmail.as_dict` is JSON-serialisable; the worker calls :func:`deliver`::

      # tasks.py (Celery; RQ is the same with ``queue.enqueue``)
      @shared_task
      def send_auth_email(data):
          from django_redis_auth.senders import AuthEmail, deliver
          deliver(AuthEmail.from_dict(data))

      # myproject/mail.py, and EMAIL_SENDER = "myproject.mail.queue_auth_email"
      def queue_auth_email(message):
          transaction.on_commit(lambda: send_auth_email.delay(message.as_dict()))

  The message carries the plaintext code (the email has to): it sits in the broker until the
  worker sends it, and expires with the code (``CODE_TTL``).

Templates: ``django_redis_auth/email/<kind>_subject.txt``, ``<kind>.txt`` and ``<kind>.html``
for each kind below; override them in your project's templates directory. Context: ``email``,
``code`` (code kinds only), ``code_ttl_minutes``, and whatever the flow adds.
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_futures
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connections, transaction
from django.template.loader import render_to_string

from .purposes import EmailKind

__all__ = [
    "AuthEmail",
    "deliver",
    "render",
    "send",
    "send_in_background",
    "send_now",
    "wait",
]

logger = logging.getLogger("django_redis_auth")

# Message kinds (= template names), kept as names here for callers of the old constants.
EMAIL_VERIFICATION = EmailKind.EMAIL_VERIFICATION
LOGIN = EmailKind.LOGIN
PASSWORD_RESET = EmailKind.PASSWORD_RESET
SIGNUP_EXISTS = EmailKind.SIGNUP_EXISTS
PASSWORD_CHANGED = EmailKind.PASSWORD_CHANGED
KINDS = tuple(EmailKind)

TEMPLATE_DIR = "django_redis_auth/email"

# The background pool: a few threads, and a bound on queued messages so an unreachable SMTP
# server cannot pile up memory; past the bound messages are dropped (and logged) rather than
# blocking request threads. Users can ask for a new code.
MAX_WORKERS = 2
MAX_PENDING = 1000


@dataclass(frozen=True)
class AuthEmail:
    """One email to send. ``kind`` names the templates; ``context`` is passed to them.

    Everything is JSON-serialisable so the message can cross a task queue unchanged.
    """

    to: str
    kind: str
    context: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"Unknown email kind {self.kind!r}; expected one of {KINDS}.")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuthEmail:
        return cls(to=data["to"], kind=data["kind"], context=dict(data.get("context") or {}))

    def __repr__(self) -> str:
        # Keep codes out of logs and tracebacks.
        return f"AuthEmail(to={self.to!r}, kind={self.kind!r})"


def render(message: AuthEmail) -> EmailMultiAlternatives:
    """The Django email for ``message``: subject, plain-text body and HTML alternative."""
    context = {"email": message.to, **message.context}
    base = f"{TEMPLATE_DIR}/{message.kind}"
    subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
    email = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{base}.txt", context),
        from_email=getattr(settings, "DEFAULT_FROM_EMAIL", None),
        to=[message.to],
    )
    email.attach_alternative(render_to_string(f"{base}.html", context), "text/html")
    return email


def deliver(message: AuthEmail) -> None:
    """Render and send ``message`` now, through Django's configured email backend."""
    render(message).send(fail_silently=False)


def send_now(message: AuthEmail) -> None:
    """Synchronous sender: the mail is sent before this returns."""
    deliver(message)


_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_pending: set[Future[None]] = set()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(
                max_workers=MAX_WORKERS, thread_name_prefix="django_redis_auth-mail"
            )
        return _executor


def _work(message: AuthEmail) -> None:
    try:
        deliver(message)
    except Exception:
        # No message details beyond the kind: the context may hold a code.
        logger.exception("Could not send %s email", message.kind)
    finally:
        # Templates a project overrides may touch the database; this thread's connections
        # must not outlive the job.
        connections.close_all()


def _submit(message: AuthEmail) -> None:
    with _lock:
        if len(_pending) >= MAX_PENDING:
            logger.error(
                "Mail queue full (%d pending): dropping a %s email", MAX_PENDING, message.kind
            )
            return
    future = _pool().submit(_work, message)
    with _lock:
        _pending.add(future)
    future.add_done_callback(_forget)


def _forget(future: Future[None]) -> None:
    with _lock:
        _pending.discard(future)


def send_in_background(message: AuthEmail) -> None:
    """Default sender: queue ``message`` for the background pool once the current database
    transaction commits (immediately outside a transaction). Returns at once."""
    transaction.on_commit(lambda: _submit(message))


def wait(timeout: float | None = None) -> bool:
    """Block until every queued background email was sent (or failed). For tests and for a
    graceful shutdown. Returns ``False`` if ``timeout`` passed first."""
    with _lock:
        pending = list(_pending)
    if not pending:
        return True
    _done, not_done = wait_futures(pending, timeout=timeout)
    return not not_done


def send(message: AuthEmail) -> None:
    """Hand ``message`` to the configured ``EMAIL_SENDER``."""
    from .conf import auth_settings

    auth_settings.EMAIL_SENDER(message)
