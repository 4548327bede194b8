"""Where a webhook may be sent: the defence against server-side request forgery.

security.md has no rule on outgoing requests, so this is the one we keep: a member
must not be able to make the server POST into its own network. A URL is https, with
a host name or a public address, no user name or password in it; plain http only to
127.0.0.1, ::1 or localhost, and only when WEBHOOKS_ALLOW_HTTP_LOOPBACK is on
(development and tests). A name is resolved again before every delivery
(``resolve_destination``), every address it gives is checked, and the POST goes to
the address checked (``sending``), never to a second resolution: a name that answered
a public address to the check and a loopback one to the connection (DNS rebinding)
would otherwise reach inside. Public means what ``ipaddress`` calls global, and never
an IPv6 form that carries an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo):
refused outright rather than unpacked. Redirects are never followed, so an answer
cannot send us elsewhere either.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from offload.core.errors import InvalidField

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


# IPv6 ranges whose addresses embed an IPv4 one, which some path may deliver to
EMBEDS_IPV4 = tuple(ipaddress.ip_network(n) for n in (
    "::ffff:0:0/96",  # IPv4-mapped
    "::/96",  # IPv4-compatible (deprecated)
    "64:ff9b::/96", "64:ff9b:1::/48",  # NAT64
    "2002::/16",  # 6to4
    "2001::/32",  # Teredo
))


class NotPublic(ValueError):
    """The destination is, or resolves to, an address we don't send to."""


@dataclass(frozen=True)
class Destination:
    """Where one POST goes: the address checked, and the URL's parts for the request."""

    scheme: str
    host: str  # the URL's host name: TLS's server name
    netloc: str  # the Host header: the URL's host[:port]
    address: str  # the checked IP address to connect to
    family: int
    port: int
    target: str  # the path and query


def _public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and any(
            address in network for network in EMBEDS_IPV4):
        return False
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


def resolve_destination(url: str, *, allow_loopback: bool) -> Destination:
    """Resolve the URL's host once, now, and answer the address to connect to; raise
    NotPublic when any address it gives is not a public one (a loopback one is allowed
    with ``allow_loopback``), OSError when it doesn't resolve. A network call: never
    inside a transaction."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    loopback = allow_loopback and host.lower() in LOOPBACK_NAMES
    if parts.scheme != "https" and not loopback:
        raise NotPublic("plain http goes to loopback only")
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    if not infos:
        raise OSError(f"{host} has no address")
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%", 1)[0])
        if not (_public(address) or loopback and address.is_loopback):
            raise NotPublic(f"{host} resolves to an address that is not public")
    family, _, _, _, sockaddr = infos[0]
    return Destination(parts.scheme, host, parts.netloc, sockaddr[0], family, port,
                       (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))
