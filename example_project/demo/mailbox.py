"""The development mailbox: an email backend that keeps the last messages as files, so the
demo page and ``/dev/mailbox/`` can show the codes the app sends.

Why files, not memory or the in-process Redis stand-in: the demo runs under ``runserver``,
which restarts its process on every code change, and under gunicorn with several workers.
A message sent by one process must be readable by every other one and survive a reload.
One JSON file per message in ``MAILBOX_DIR`` gives that with nothing to run:

* each file is written under a temporary name and renamed into place (atomic on POSIX), so a
  reader never sees half a message;
* names start with the sending time in nanoseconds (fixed width), so a directory listing
  sorted by name is the sending order, across processes;
* after every write the oldest files beyond ``MAILBOX_SIZE`` are removed; two writers pruning
  at once only race to delete the same old files, which is harmless.

Development only: the settings select this backend when ``DEBUG`` is on, and the pages that
read it answer 404 otherwise.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend

from django_redis_auth.conf import auth_settings

DEFAULT_SIZE = 100  # messages kept when MAILBOX_SIZE is not set
SUFFIX = ".json"


def directory() -> Path:
    return Path(settings.MAILBOX_DIR)


def size() -> int:
    return int(getattr(settings, "MAILBOX_SIZE", DEFAULT_SIZE))


def find_code(text: str) -> str | None:
    """The one-time code in a message body: the first run of exactly ``CODE_LENGTH`` digits
    (the package's templates put it on the first line). Notices carry none."""
    match = re.search(rf"(?<!\d)\d{{{auth_settings.CODE_LENGTH}}}(?!\d)", text)
    return match.group(0) if match else None


def _record(message: EmailMessage) -> dict[str, Any]:
    alternatives = getattr(message, "alternatives", ())
    html = next((body for body, mimetype in alternatives if mimetype == "text/html"), None)
    return {
        "sent": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "from": message.from_email,
        "to": list(message.to),
        "subject": str(message.subject),
        "text": str(message.body),
        "html": str(html) if html is not None else None,
        "code": find_code(str(message.body)),
    }


def store(message: EmailMessage) -> str:
    """Write ``message`` to the mailbox and prune it to its size; returns the message id."""
    folder = directory()
    folder.mkdir(parents=True, exist_ok=True)
    message_id = f"{time.time_ns():020d}-{secrets.token_hex(4)}"
    fd, temporary = tempfile.mkstemp(dir=folder, prefix=".incoming-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(_record(message), out)
        os.replace(temporary, folder / f"{message_id}{SUFFIX}")
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    prune(folder)
    return message_id


def _names(folder: Path) -> list[str]:
    try:
        return sorted(
            (entry.name for entry in os.scandir(folder) if entry.name.endswith(SUFFIX)),
            reverse=True,
        )
    except FileNotFoundError:
        return []


def prune(folder: Path | None = None) -> None:
    folder = folder or directory()
    for name in _names(folder)[size() :]:
        (folder / name).unlink(missing_ok=True)  # another process may have got there first


def messages(after: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Stored messages, newest first, each with its ``id``; only those newer than the
    message id ``after`` when it is given (the page polls for "the mail my call caused")."""
    folder = directory()
    found = []
    for name in _names(folder):
        message_id = name[: -len(SUFFIX)]
        if after is not None and message_id <= after:
            break
        try:
            record = json.loads((folder / name).read_text(encoding="utf-8"))
        except (FileNotFoundError, ValueError):
            continue  # pruned by another process since the listing, or not ours
        found.append({"id": message_id, **record})
        if limit is not None and len(found) >= limit:
            break
    return found


def latest_id() -> str | None:
    names = _names(directory())
    return names[0][: -len(SUFFIX)] if names else None


class MailboxBackend(BaseEmailBackend):
    """``EMAIL_BACKEND = "demo.mailbox.MailboxBackend"``: keeps each message in the mailbox
    and prints one line per message on the console, pointing at ``/dev/mailbox/``."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            if not message.recipients():
                continue
            try:
                store(message)
            except OSError:
                if not self.fail_silently:
                    raise
                continue
            sent += 1
            print(
                f"[mailbox] {', '.join(message.to)}: {message.subject!r} -> /dev/mailbox/",
                file=sys.stdout,
                flush=True,
            )
        return sent
