"""Throwaway SMTP peers for mail fault tests: one that accepts connections and never says a
word (a hung mail server), and a minimal working server that keeps what it receives.

Each listens on a spare local port (``free_ports``, honouring ``DRA_TEST_PORTS``) in a
daemon thread of the test process; use them as context managers.
"""

from __future__ import annotations

import socket
import threading
from email import message_from_bytes
from email.message import Message

from tests.redis_servers import HOST, free_ports


class _Peer:
    def __init__(self) -> None:
        self.port = free_ports(1)[0]
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((HOST, self.port))
        self.sock.listen(128)
        self.connections: list[socket.socket] = []
        self._closed = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.connections.append(conn)
            self.handle(conn)

    def handle(self, conn: socket.socket) -> None:
        """Say nothing: the client waits for a greeting that never comes."""

    def close(self) -> None:
        self._closed.set()
        self.sock.close()
        for conn in self.connections:
            conn.close()

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SilentSMTP(_Peer):
    """Accepts every connection and never answers."""


class SinkSMTP(_Peer):
    """Speaks just enough SMTP for Django's backend and keeps every message."""

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[Message] = []

    def handle(self, conn: socket.socket) -> None:
        threading.Thread(target=self._session, args=(conn,), daemon=True).start()

    def _session(self, conn: socket.socket) -> None:
        reader = conn.makefile("rb")
        conn.sendall(b"220 sink ready\r\n")
        try:
            for raw in reader:
                command = raw.strip().upper()
                if command.startswith((b"EHLO", b"HELO")):
                    conn.sendall(b"250 sink\r\n")
                elif command == b"DATA":
                    conn.sendall(b"354 go on\r\n")
                    lines = []
                    for line in reader:
                        if line in (b".\r\n", b".\n"):
                            break
                        lines.append(line[1:] if line.startswith(b"..") else line)
                    self.messages.append(message_from_bytes(b"".join(lines)))
                    conn.sendall(b"250 queued\r\n")
                elif command == b"QUIT":
                    conn.sendall(b"221 bye\r\n")
                    return
                else:  # MAIL FROM, RCPT TO, RSET, NOOP
                    conn.sendall(b"250 ok\r\n")
        except OSError:
            return
        finally:
            conn.close()
