"""A server socket that accepts connections and never answers: a hung Redis or SMTP server, or a dropped
network path, for tests of the timeouts that must end such a wait."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def accepting_silently(server: socket.socket) -> Iterator[None]:
    """Accept every connection to ``server`` (bound and listening) and say nothing; on exit close them
    all and the server, which ends any call still waiting on one."""
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.1)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        server.close()
