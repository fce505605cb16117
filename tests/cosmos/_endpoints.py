"""Endpoints that misbehave, on loopback, for the infrastructure-failure tests."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import attrs


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@attrs.define(eq=False)
class SilentEndpoint:
    """A TCP listener on 127.0.0.1 that accepts every connection and never answers."""

    port: int
    accepted: list[socket.socket] = attrs.field(factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"


@contextmanager
def silent_endpoint() -> Iterator[SilentEndpoint]:
    """Listen, accept and hold every connection (reading nothing) until the block ends."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.1)
    endpoint = SilentEndpoint(port=server.getsockname()[1])
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            endpoint.accepted.append(conn)

    thread = threading.Thread(target=accept, name="silent-endpoint", daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        done.set()
        thread.join()
        for conn in endpoint.accepted:
            conn.close()
        server.close()
