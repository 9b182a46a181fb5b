"""Where a webhook may be sent: refuse addresses inside our own network (SSRF). Pure: no Django.

A URL is checked when it is saved and again before every attempt, and the attempt connects to the
address that was checked (the hostname is not resolved a second time), so a DNS answer that changes
in between cannot point a delivery at a private address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]


class UnsafeURL(ValueError):
    """The URL is malformed, or resolves to an address webhooks may not reach."""


class HostUnresolvable(UnsafeURL):
    """The host has no address right now (refused when saving; a retryable error when sending)."""


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (an address) and what to ask for (host, path)."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[str, ...]

    def url_for(self, address: str) -> str:
        """The URL with the host replaced by one checked address (IPv6 in brackets)."""
        shown = f"[{address}]" if ":" in address else address
        return f"{self.scheme}://{shown}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def parse_networks(values: Iterable[str]) -> list[IPNetwork]:
    """CIDRs of the allow-list (`WEBHOOK_ALLOWED_NETWORKS`); ValueError on a bad one."""
    return [ipaddress.ip_network(v.strip(), strict=False) for v in values if v and v.strip()]


def is_public(address: IPAddress) -> bool:
    """Globally routable unicast (not private, loopback, link-local, reserved, CGNAT, ...)."""
    if isinstance(address, ipaddress.IPv6Address):
        # An IPv4 address carried inside IPv6 (mapped, 6to4) is judged as that IPv4 address.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is not None:
            address = embedded
    return address.is_global and not address.is_multicast


def address_allowed(address: str, allowed: Sequence[IPNetwork]) -> bool:
    """A public address, or one inside a network the allow-list names."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if any(ip.version == net.version and ip in net for net in allowed):
        return True
    return is_public(ip)


def system_resolver(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for a host."""
    infos: list[Any] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def check_url(
    url: str,
    *,
    allowed: Sequence[IPNetwork],
    resolver: Resolver = system_resolver,
    require_https: bool = False,
) -> Target:
    """Parse and resolve a webhook URL; UnsafeURL unless every address it resolves to is allowed."""
    if not isinstance(url, str) or len(url) > 2000:
        raise UnsafeURL("Enter a URL of at most 2000 characters.")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UnsafeURL(f"Not a valid URL: {exc}.") from None
    scheme = parts.scheme.lower()
    allowed_schemes = ("https",) if require_https else ("http", "https")
    if scheme not in allowed_schemes:
        raise UnsafeURL(
            f"The URL must start with {' or '.join(s + '://' for s in allowed_schemes)}."
        )
    if parts.username is not None or parts.password is not None:
        raise UnsafeURL("Credentials in the URL are not supported; the signature authenticates us.")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeURL("The URL has no host.")
    port = port or (443 if scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    try:
        addresses = tuple(resolver(host, port))
    except (OSError, UnicodeError) as exc:
        raise HostUnresolvable(f"The host {host!r} does not resolve ({exc}).") from None
    if not addresses:
        raise HostUnresolvable(f"The host {host!r} does not resolve.")
    refused = [a for a in addresses if not address_allowed(a, allowed)]
    if refused:
        raise UnsafeURL(
            f"The host {host!r} resolves to a private, loopback or link-local address "
            f"({', '.join(refused)}); webhooks may only reach public addresses."
        )
    return Target(scheme=scheme, host=host, port=port, path=path, addresses=addresses)
