"""Delivering the package's emails, through a pluggable sender.

Flows build an :class:`AuthEmail` (what to send, to whom, with which template) and hand it to
``DJANGO_REDIS_AUTH["EMAIL_SENDER"]``, a dotted path to any ``callable(AuthEmail)``:

* :func:`send_in_background` (default): after the current transaction commits, two daemon
  threads render the templates and send through Django's mail API. The HTTP answer never
  waits for SMTP, so a slow mail server neither slows sign-up down nor reveals (by timing)
  whether an address has an account. SMTP time, threads and queue are bounded, and what is
  queued at exit is flushed or handed back (:func:`shutdown`; docs/email.md).
* :func:`send_now`: renders and sends synchronously. For tests and management commands;
  on a web request it puts SMTP latency on the response.
* your own: hand the message to a task queue. :class:`AuthEmail` is a plain dataclass whose
  :meth:`~AuthEmail.as_dict` is JSON-serialisable; the worker calls :func:`deliver`::

      # tasks.py (Celery; RQ and Django tasks: docs/email.md)
      @shared_task
      def send_auth_email(data):
          from django_redis_auth.codes.senders import AuthEmail, deliver
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

import atexit
import contextlib
import logging
import math
import os
import threading
import time
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import Any

import django
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connections, router, transaction
from django.template.loader import render_to_string
from django.utils import translation

from django_redis_auth import outages
from django_redis_auth.codes.purposes import EmailKind

__all__ = [
    "AuthEmail",
    "code_email",
    "deliver",
    "render",
    "send",
    "send_in_background",
    "send_now",
    "shutdown",
    "stats",
    "uses_mailers",
    "wait",
]

logger = logging.getLogger("django_redis_auth")


TEMPLATE_DIR = "django_redis_auth/email"

# The background sender: a few threads, and a bound on queued messages so an unreachable SMTP
# server cannot pile up memory; past the bound messages are dropped (counted, and logged once
# per outage) rather than blocking request threads. Users can ask for a new code.
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
    # The language active where the message was made (LocaleMiddleware: the request's
    # Accept-Language), so a background thread or a task worker renders it in that language.
    language: str | None = field(default_factory=translation.get_language)

    def __post_init__(self) -> None:
        if self.kind not in EmailKind.__members__.values():
            kinds = ", ".join(EmailKind)
            raise ValueError(f"Unknown email kind {self.kind!r}; expected one of {kinds}.")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AuthEmail:
        return cls(
            to=data["to"],
            kind=data["kind"],
            context=dict(data.get("context") or {}),
            language=data.get("language"),
        )

    def __repr__(self) -> str:
        # Keep codes out of logs and tracebacks.
        return f"AuthEmail(to={self.to!r}, kind={self.kind!r})"


def render(message: AuthEmail) -> EmailMultiAlternatives:
    """The Django email for ``message``: subject, plain-text body and HTML alternative."""
    context = {"email": message.to, **message.context}
    base = f"{TEMPLATE_DIR}/{message.kind}"
    with translation.override(message.language):
        subject = " ".join(render_to_string(f"{base}_subject.txt", context).split())
        email = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string(f"{base}.txt", context),
            from_email=getattr(settings, "DEFAULT_FROM_EMAIL", None),
            to=[message.to],
        )
        email.attach_alternative(render_to_string(f"{base}.html", context), "text/html")
    return email


def uses_mailers() -> bool:
    """Whether the project configures Django 6.1's ``MAILERS`` (else ``EMAIL_BACKEND``)."""
    return django.VERSION >= (6, 1) and hasattr(settings, "MAILERS")


def deliver(message: AuthEmail) -> None:
    """Render and send ``message`` now, through the project's mail configuration: the
    ``MAILER`` alias of ``MAILERS`` where the project defines it (Django 6.1+), otherwise
    ``EMAIL_BACKEND`` (with ``EMAIL_SEND_TIMEOUT`` on an SMTP backend that has no timeout of
    its own) — either way without a deprecation warning of our own."""
    _connection().send_messages([render(message)])


def send_now(message: AuthEmail) -> None:
    """Synchronous sender: the mail is sent before this returns."""
    deliver(message)


# --- the background sender ---------------------------------------------------------------
# Plain daemon threads over a deque rather than a ThreadPoolExecutor: the executor's own exit
# hook joins its threads until *every* queued job is done, so a mail server that accepts and
# never answers would hold a stopping worker until its supervisor kills it, and the queue
# would vanish unreported. Here the exit hook waits EMAIL_SHUTDOWN_TIMEOUT at most and hands
# what is left to EMAIL_UNSENT_HANDLER (or logs it), and each SMTP connection has a timeout.

_cond = threading.Condition()
_queue: deque[AuthEmail] = deque()
_sending: list[AuthEmail] = []  # taken off the queue by a thread, outcome not yet known
_threads: list[threading.Thread] = []
_owner_pid: int | None = None  # threads do not survive fork(): restart them in a child
_exit_hook = False
_stats: Counter[str] = Counter()


def _ensure_threads() -> None:
    """Start the threads (caller holds ``_cond``)."""
    global _owner_pid, _exit_hook
    if _owner_pid != os.getpid():
        _owner_pid = os.getpid()
        _threads.clear()
        _sending.clear()
    while len(_threads) < MAX_WORKERS:
        thread = threading.Thread(
            target=_run, name=f"django_redis_auth-mail-{len(_threads)}", daemon=True
        )
        _threads.append(thread)
        thread.start()
    if not _exit_hook:
        atexit.register(_at_exit)
        _exit_hook = True


def _run() -> None:
    while True:
        with _cond:
            while not _queue:
                _cond.wait()
            message = _queue.popleft()
            _sending.append(message)
        try:
            _work(message)
        finally:
            with _cond:
                with contextlib.suppress(ValueError):
                    _sending.remove(message)
                _cond.notify_all()


def _connection() -> Any:
    """The backend instance the project's mail goes through (``MAILERS[MAILER]`` or the
    default mailer on Django 6.1+, ``get_connection()`` before), its SMTP timeout bounded by
    ``EMAIL_SEND_TIMEOUT`` when nothing else bounds it (Django's default ``EMAIL_TIMEOUT``
    is ``None``: wait forever). An explicit timeout and other backends are left alone."""
    from django.core.mail.backends.smtp import EmailBackend as SMTPBackend

    from django_redis_auth.conf import auth_settings

    if django.VERSION >= (6, 1):
        from django.core.mail import mailers

        connection = mailers[auth_settings.MAILER] if uses_mailers() else mailers.default
    else:
        connection = get_connection()
    seconds = auth_settings.EMAIL_SEND_TIMEOUT
    if seconds and isinstance(connection, SMTPBackend) and connection.timeout is None:
        connection.timeout = float(seconds)
    return connection


def _work(message: AuthEmail) -> None:
    try:
        deliver(message)
    except Exception as exc:
        _stats["failed"] += 1
        # The kind and the exception class only: the context holds the code, and SMTP errors
        # quote recipient addresses. One line per outage, then summaries (outages.py).
        outages.mail.failed(f"Could not send {message.kind} email: {type(exc).__name__}")
    else:
        _stats["sent"] += 1
        if outages.mail.down_since is not None:
            outages.mail.recovered()
    finally:
        # Templates a project overrides may touch the database; this thread's connections
        # must not outlive the job.
        connections.close_all()


def _submit(message: AuthEmail) -> None:
    with _cond:
        _ensure_threads()
        full = len(_queue) + len(_sending) >= MAX_PENDING
        if full:
            _stats["dropped"] += 1
        else:
            _queue.append(message)
            _cond.notify_all()
    if full:
        outages.mail_queue.failed(f"{MAX_PENDING} pending: dropped a {message.kind} email")


def send_in_background(message: AuthEmail) -> None:
    """Default sender: queue ``message`` for the background threads once the current
    database transaction commits (immediately outside a transaction). Returns at once."""
    # On the user rows' database: its transaction is the one the message depends on.
    transaction.on_commit(lambda: _submit(message), using=router.db_for_write(get_user_model()))


def pending() -> int:
    """Background emails queued or being sent in this process."""
    with _cond:
        return len(_queue) + len(_sending)


def stats() -> dict[str, int]:
    """This process' background sender counts: ``sent``, ``failed``, ``dropped`` (queue
    full), ``unsent`` (left at shutdown), and ``pending`` now."""
    return {
        **{k: _stats[k] for k in ("sent", "failed", "dropped", "unsent")},
        "pending": pending(),
    }


def wait(timeout: float | None = None) -> bool:
    """Block until every queued background email was sent (or failed). For tests and for a
    graceful shutdown. Returns ``False`` if ``timeout`` passed first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    with _cond:
        while _queue or _sending:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            _cond.wait(remaining)
    return True


def shutdown(timeout: float | None = None) -> list[AuthEmail]:
    """Flush the background queue for at most ``timeout`` seconds (default
    ``EMAIL_SHUTDOWN_TIMEOUT``), then take back every email not known to be sent — still
    queued, or stuck on a mail server — and hand the list to ``EMAIL_UNSENT_HANDLER`` (or
    log how many, by kind). Returns that list.

    Runs by itself at interpreter exit (``atexit``: a gunicorn worker's graceful exit, a
    reload, ``manage.py`` ending). Call it yourself where a process ends otherwise, e.g. in
    gunicorn's ``worker_exit`` hook. An email handed back while its SMTP conversation was
    still running may arrive twice: delivery is at least once, never silently dropped.
    """
    from django_redis_auth.conf import auth_settings

    if timeout is None:
        timeout = float(auth_settings.EMAIL_SHUTDOWN_TIMEOUT)
    wait(timeout)
    with _cond:
        unsent = [*_sending, *_queue]
        _queue.clear()
        _sending.clear()
        _stats["unsent"] += len(unsent)
        _cond.notify_all()
    if not unsent:
        return unsent
    handler = auth_settings.EMAIL_UNSENT_HANDLER
    kinds = ", ".join(f"{n} {k}" for k, n in Counter(m.kind for m in unsent).most_common())
    if handler is None:
        logger.error(
            "%d emails unsent at shutdown (%s): set EMAIL_UNSENT_HANDLER", len(unsent), kinds
        )
    else:
        logger.warning(
            "%d emails unsent at shutdown (%s): handed to EMAIL_UNSENT_HANDLER", len(unsent), kinds
        )
        handler(unsent)
    return unsent


def _at_exit() -> None:
    if _owner_pid != os.getpid():
        return
    try:
        if pending():
            shutdown()
    except Exception:
        logger.exception("Could not flush the background mail queue at exit")
    counts = stats()
    if counts["failed"] or counts["dropped"] or counts["unsent"]:
        # Failures are logged once per outage; the totals make every lost email countable.
        logger.warning(
            "Background mail at exit: %(sent)d sent, %(failed)d failed, %(dropped)d dropped "
            "(queue full), %(unsent)d unsent",
            counts,
        )


def code_email(kind: str, to: str, code: str, **context: Any) -> AuthEmail:
    """The email carrying ``code`` (and how many minutes it lasts). ``to`` is the address
    stored on the account when there is one (``users.stored_email``), never the spelling a
    request typed; ``context`` adds to what the template sees."""
    from django_redis_auth.conf import auth_settings

    minutes = max(1, math.ceil(int(auth_settings.CODE_TTL) / 60))
    return AuthEmail(
        to=to, kind=kind, context={"code": code, "code_ttl_minutes": minutes, **context}
    )


def send(message: AuthEmail) -> None:
    """Hand ``message`` to the configured ``EMAIL_SENDER``."""
    from django_redis_auth.conf import auth_settings

    auth_settings.EMAIL_SENDER(message)
