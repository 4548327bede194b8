"""A webhook receiver on loopback (stdlib http.server in a thread) and the Standard
Webhooks check a receiver makes, written from the spec, independent of the code
under test."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.smtp import free_port


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> dict:
        return json.loads(self.body)


def verify(secret: str, received: Received) -> bool:
    """The spec's check: HMAC-SHA256 over ``id.timestamp.body`` with the base64 key after
    ``whsec_``; one of the space-separated ``v1,`` signatures must match."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = (f"{received.headers['webhook-id']}.{received.headers['webhook-timestamp']}."
              f"{received.body}").encode()
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(version == "v1" and hmac.compare_digest(signature, expected)
               for version, _, signature in (part.partition(",") for part in
                                             received.headers["webhook-signature"].split()))


class Receiver:
    """``with Receiver() as r:`` listens on 127.0.0.1; ``r.url`` takes POSTs, recorded in
    ``r.received``, answered with ``r.status`` (and ``r.location`` when set).
    ``stop()`` and ``start()`` take it down and bring it back on the same port;
    ``delay`` seconds pass between reading a POST and answering it."""

    def __init__(self, status: int = 204):
        self.status = status
        self.delay = 0.0
        self.location: str | None = None
        self.port = free_port()
        self.received: list[Received] = []
        self.arrived: list[float] = []  # time.time() of each POST, beside ``received``
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's name
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                with receiver._lock:
                    receiver.received.append(Received(
                        self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                    receiver.arrived.append(time.time())
                time.sleep(receiver.delay)
                self.send_response(receiver.status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
            self._server = None

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


class Listener:
    """``with Listener(drip=...) as l:`` a raw TCP listener on 127.0.0.1 at ``l.port``
    that counts the connections it accepts (``l.accepted``); with ``drip`` it answers
    each one with a status line and then a header line every ``drip`` seconds for
    ``until`` seconds (a receiver that holds a sender's read), else it says nothing."""

    def __init__(self, drip: float | None = None, until: float = 10.0):
        self.drip, self.until = drip, until
        self.accepted = 0
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except TimeoutError:
                continue
            self.accepted += 1
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn: socket.socket) -> None:
        with conn:
            try:
                if self.drip is None:
                    self._stopping.wait(self.until)
                    return
                conn.sendall(b"HTTP/1.1 200 OK\r\n")
                end = time.monotonic() + self.until
                while not self._stopping.wait(self.drip) and time.monotonic() < end:
                    conn.sendall(b"X-Drip: 1\r\n")
            except OSError:
                return  # the sender hung up

    def __enter__(self) -> Listener:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._sock.close()
