"""Where a webhook may be sent: the defence against server-side request forgery.

security.md has no rule on outgoing requests, so this is the one we keep: a member
must not be able to make the server POST into its own network. A URL is https, with
a host name or a public address, no user name or password in it; plain http only to
127.0.0.1, ::1 or localhost, and only when WEBHOOKS_ALLOW_HTTP_LOOPBACK is on
(development and tests). A name is resolved again before every delivery
(``check_destination``), and a name that now points at a loopback, private,
link-local or otherwise non-public address fails that attempt: checking it only when
it was registered would let a DNS change aim it inside later. Redirects are never
followed, so an answer cannot send us elsewhere either.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from offload.core.errors import InvalidField

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    return address.is_global and not address.is_multicast


def clean_url(url: str, *, allow_loopback: bool) -> str:
    """The URL as stored, or InvalidField("url", why) when we won't send there."""
    url = (url or "").strip()
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a port that is not a number
    except ValueError:
        raise InvalidField("url", "That isn't a URL we can send to.") from None
    host = (parts.hostname or "").lower()
    if not host or parts.username or parts.password or any(c.isspace() for c in url):
        raise InvalidField("url", "Give a full address such as https://example.com/hooks, "
                                  "without a user name or password.")
    loopback = allow_loopback and host in LOOPBACK_NAMES
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise InvalidField("url", "The address must start with https://.")
    if port == 0:
        raise InvalidField("url", "That isn't a URL we can send to.")
    if loopback:
        return url
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise InvalidField("url", "Webhooks go to public addresses only.")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url  # a name: checked again, resolved, before every delivery
    if not _public(address):
        raise InvalidField("url", "Webhooks go to public addresses only.")
    return url


def check_destination(url: str, *, allow_loopback: bool) -> None:
    """Resolve the URL's host now; raise ValueError when any address it gives is not a
    public one (a loopback one is allowed with ``allow_loopback``). A network call:
    never inside a transaction."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if allow_loopback and host.lower() in LOOPBACK_NAMES:
        return
    infos = socket.getaddrinfo(host, parts.port or 443, type=socket.SOCK_STREAM)
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not _public(address):
            raise ValueError(f"{host} resolves to {address}, which is not a public address")
