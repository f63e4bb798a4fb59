"""Where a webhook may point: an http(s) URL whose host resolves to public addresses only.

A webhook makes the service send requests to a URL an API client chose, from inside the
service's network: without a check, a webhook at ``http://169.254.169.254/`` or
``http://10.0.0.5:5432/`` would probe the cloud metadata service or the database. So a
target is refused when **any** address its host resolves to is loopback, private (RFC 1918,
fc00::/7), link-local (169.254/16 with the metadata address, fe80::/10), shared (CGNAT,
100.64/10), multicast, unspecified, reserved or documentation space, or an IPv6 form of such
an IPv4 address (IPv4-mapped, IPv4-compatible, NAT64, 6to4).

The host is resolved by the system resolver (``getaddrinfo``), the same one that would open the
connection, so every spelling it accepts is judged by the address it means: ``2130706433``,
``0x7f.1``, ``017700000001`` and ``127.1`` are all 127.0.0.1. The check runs when a webhook
is created or its URL changed, and again before every delivery attempt, which then connects
to the very address that was checked (the URL's host becomes that IP; ``Host`` and TLS SNI
keep the name): a DNS answer that changes between the check and the connection (DNS
rebinding) cannot redirect the request. ``CLAIMDESK_WEBHOOK_ALLOW_PRIVATE=true`` lifts the
address rules (not the scheme rule), for receivers on the same host or network.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit, urlunsplit

from service.sources.urls import host_problem

RESOLVE_TIMEOUT_SECONDS = 5.0
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class Refused(Exception):
    """The URL may not be a webhook target; the message says why (for the API's 422)."""


_V4_RULES: list[tuple[ipaddress.IPv4Network, str]] = [
    (ipaddress.IPv4Network(net), why)
    for net, why in (
        ("0.0.0.0/8", "an unspecified (this-network) address"),
        ("10.0.0.0/8", "a private address (RFC 1918)"),
        ("100.64.0.0/10", "a shared (carrier-grade NAT) address"),
        ("127.0.0.0/8", "a loopback address"),
        ("169.254.0.0/16", "a link-local address (cloud metadata lives here)"),
        ("172.16.0.0/12", "a private address (RFC 1918)"),
        ("192.0.0.0/24", "an IETF protocol assignment"),
        ("192.0.2.0/24", "a documentation address"),
        ("192.88.99.0/24", "a 6to4 relay anycast address"),
        ("192.168.0.0/16", "a private address (RFC 1918)"),
        ("198.18.0.0/15", "a benchmarking address"),
        ("198.51.100.0/24", "a documentation address"),
        ("203.0.113.0/24", "a documentation address"),
        ("224.0.0.0/4", "a multicast address"),
        ("240.0.0.0/4", "a reserved address"),
    )
]
_V6_RULES: list[tuple[ipaddress.IPv6Network, str]] = [
    (ipaddress.IPv6Network(net), why)
    for net, why in (
        ("::/128", "the unspecified address"),
        ("::1/128", "a loopback address"),
        ("::/96", "an IPv4-compatible address (deprecated)"),
        ("64:ff9b:1::/48", "a local-use NAT64 address"),
        ("100::/64", "a discard-only address"),
        ("2001::/23", "an IETF protocol assignment (Teredo and others)"),
        ("2001:db8::/32", "a documentation address"),
        ("fc00::/7", "a unique local (private) address"),
        ("fe80::/10", "a link-local address"),
        ("fec0::/10", "a site-local address"),
        ("ff00::/8", "a multicast address"),
    )
]
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def refusal(address: IPAddress) -> str | None:
    """Why ``address`` may not be a webhook target, or None when it is a public address."""
    if isinstance(address, ipaddress.IPv6Address):
        # IPv6 spellings of an IPv4 address are judged by that address.
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            why = refusal(embedded)
            return f"an IPv6 form of {embedded}, {why}" if why else None
        for net6, why in _V6_RULES:
            if address in net6:
                return why
    else:
        for net4, why in _V4_RULES:
            if address in net4:
                return why
    if address.is_multicast:
        return "a multicast address"
    if not address.is_global:
        return "not a public address"
    return None


@dataclass(frozen=True)
class Target:
    """A checked URL: where to connect (``address``) and what to call it (``host``)."""

    url: str
    scheme: str
    host: str  # as sent in Host and TLS SNI (IDNA-encoded)
    port: int
    address: str  # the checked IP to connect to

    def pinned_url(self) -> str:
        """The URL with its host replaced by the checked address."""
        parts = urlsplit(self.url)
        literal = f"[{self.address}]" if ":" in self.address else self.address
        default = 443 if self.scheme == "https" else 80
        netloc = literal if self.port == default else f"{literal}:{self.port}"
        return urlunsplit((self.scheme, netloc, parts.path or "/", parts.query, ""))

    def host_header(self) -> str:
        name = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return name if self.port == default else f"{name}:{self.port}"


def parse(url: str) -> tuple[SplitResult, str, str, int]:
    """The URL's parts, scheme, host (IDNA) and port; Refused when it is not an http(s) URL
    with a host."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise Refused("Only http and https URLs are accepted.")
        host = parts.hostname
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError as exc:  # a bad port, an unclosed [IPv6 bracket
        raise Refused(f"Not a valid URL: {exc}.") from None
    if not host:
        raise Refused("The URL has no host.")
    if parts.username is not None or parts.password is not None:
        raise Refused("Credentials in the URL are not accepted (the URL is shown in lists).")
    if problem := host_problem(parts):  # as a source's URL: port 0, a broken IPv4 address...
        raise Refused(problem)
    try:
        host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise Refused("The host name is not a valid internationalised domain name.") from None
    return parts, scheme, host.rstrip(".") or host, port


async def resolve(host: str, port: int) -> list[str]:
    """Every address the system resolver gives for ``host`` (what a connection would use)."""
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(
        loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT_SECONDS
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def check(url: str, *, allow_private: bool) -> Target:
    """The URL resolved and checked; Refused (with the reason) otherwise."""
    _, scheme, host, port = parse(url)
    try:
        # Through the module attribute, so a test can stand in for DNS.
        addresses = await resolve(host, port)
    except (OSError, UnicodeError, ValueError, TimeoutError) as exc:
        reason = "timed out" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
        raise Refused(f"The host {host!r} does not resolve ({reason}).") from None
    if not addresses:
        raise Refused(f"The host {host!r} does not resolve.")
    if not allow_private:
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            why = refusal(address)
            if why:
                what = (
                    f"{text} is {why}"
                    if text == host
                    else f"The host {host!r} resolves to {text}, {why}"
                )
                raise Refused(
                    f"{what}: webhooks may only point at public addresses "
                    "(unless the service sets CLAIMDESK_WEBHOOK_ALLOW_PRIVATE)."
                )
    return Target(url=url, scheme=scheme, host=host, port=port, address=addresses[0])
