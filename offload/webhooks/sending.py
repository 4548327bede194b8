"""One webhook POST, to the address the destination check approved, within one deadline.

``requests`` would resolve the host name again when it connects, so a name could pass
the check with a public address and then be connected to at a loopback one (DNS
rebinding). Here the connection opens a socket to the checked address itself, and TLS
still uses the host name for SNI and certificate verification; the Host header is the
URL's. Redirects are not followed (``http.client`` never does).

WEBHOOK_TIMEOUT_SECONDS is the whole request's budget, not each read's: a timer shuts
the socket down at the deadline, so a receiver dripping its answer a byte at a time
cannot hold the worker (which sends mail and runs the jobs in the same loop). Only the
status line and headers are read, never the body.

What went wrong is told as a short general reason, never the exception's text or the
address a name resolved to: the delivery log is shown to the member who chose the URL,
and must not let them map hosts, ports or names inside our network.
"""

from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading

from .destinations import Destination, NotPublic, resolve_destination

TIMED_OUT = "timed out"
REFUSED = "refused: not a public address"
NO_CONNECTION = "could not connect"
TLS_FAILED = "TLS failed"
BAD_ANSWER = "no valid HTTP answer"


class SendFailed(Exception):
    """The POST got no HTTP answer; ``str()`` is the reason the delivery log shows."""


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to the destination's checked address; TLS verifies the
    certificate against the URL's host name."""

    def __init__(self, destination: Destination, timeout: float):
        super().__init__(destination.address, destination.port, timeout=timeout)
        self.destination = destination
        self._lock = threading.Lock()
        self._live: socket.socket | None = None  # what cut() shuts down
        self.cut_off = False

    def connect(self) -> None:
        sock = socket.socket(self.destination.family, socket.SOCK_STREAM)
        self._hold(sock)
        sock.settimeout(self.timeout)
        sock.connect((self.destination.address, self.destination.port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.destination.scheme == "https":
            context = ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=self.destination.host)
            self._hold(sock)
        self.sock = sock

    def _hold(self, sock: socket.socket) -> None:
        with self._lock:
            self._live = sock
            if self.cut_off:  # the deadline passed while this socket was being made
                sock.close()
                raise TimeoutError

    def cut(self) -> None:
        """At the deadline: make the blocked connect, handshake or read fail at once."""
        with self._lock:
            self.cut_off = True
            if self._live is not None:
                # not connected yet (OSError): its own timeout bounds the connect
                with contextlib.suppress(OSError):
                    self._live.shutdown(socket.SHUT_RDWR)


def post_webhook(url: str, body: bytes, headers: dict[str, str], *, allow_loopback: bool,
                 timeout: float) -> int:
    """POST ``body`` to ``url`` and answer the HTTP status; SendFailed(reason) when no
    answer came (refused, unresolvable, unreachable, TLS, over the deadline)."""
    try:
        destination = resolve_destination(url, allow_loopback=allow_loopback)
    except NotPublic:
        raise SendFailed(REFUSED) from None
    except (OSError, UnicodeError, ValueError):
        raise SendFailed(NO_CONNECTION) from None
    connection = _PinnedConnection(destination, timeout)
    deadline = threading.Timer(timeout, connection.cut)
    deadline.daemon = True
    deadline.start()
    try:
        connection.request("POST", destination.target, body=body,
                           headers={**headers, "Host": destination.netloc,
                                    "Connection": "close"})
        response = connection.getresponse()
        if connection.cut_off:  # the shut socket read as the headers' end: not an answer
            raise TimeoutError
        return response.status  # the body is never read
    except Exception as exc:  # noqa: BLE001 - every failure becomes a reason
        raise SendFailed(_reason(exc, connection.cut_off)) from None
    finally:
        deadline.cancel()
        connection.close()


def _reason(exc: Exception, cut_off: bool) -> str:
    if cut_off or isinstance(exc, TimeoutError):
        return TIMED_OUT
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return TLS_FAILED
    if isinstance(exc, http.client.HTTPException):
        return BAD_ANSWER
    return NO_CONNECTION
