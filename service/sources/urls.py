"""Source URL normalisation: two spellings of one page's address get one key.

The key drops what does not change the page: the scheme (http/https), a leading ``www.``,
default ports, the fragment, a trailing slash, tracking parameters (``utm_*``, ``fbclid``,
``gclid``...), the order of query parameters and percent-encoding differences. A host name
in Unicode (an internationalised domain name) is keyed in the ASCII form browsers send
(:func:`ascii_host`): ``مثال.إختبار`` and ``xn--mgbh0fb.xn--kgbechtv`` are one host.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import SplitResult, parse_qsl, quote, unquote, urlencode, urlsplit

import idna

from service.errors import invalid

_TRACKING = re.compile(r"^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|ref_src)$")
_SAFE_PATH = "/:@!$&'()*+,;=-._~"


def url_key(url: str) -> str:
    """The uniqueness key of ``url``; ``ValueError`` if it is not an absolute http(s) URL."""
    return _key(urlsplit(url.strip()))


def _key(parts: SplitResult) -> str:
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("not an absolute http(s) URL")
    host = ascii_host(parts.hostname.rstrip(".")).rstrip(".")
    if not host:  # only dots: no name at all (`https://./` and `https://../` were one key)
        raise ValueError("not an absolute http(s) URL")
    if ":" in host:  # an IPv6 address, in its brackets (`[::1]:8080` is not `[::1:8080]`)
        host = f"[{_compressed(host)}]"
    elif host.startswith("www."):
        host = host[4:]
    port = parts.port  # ValueError when out of range
    if port is not None and port not in (80, 443):
        host = f"{host}:{port}"
    path = quote(unquote(parts.path), safe=_SAFE_PATH) or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = sorted(
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not _TRACKING.match(k.lower())
    )
    return host + path + ("?" + urlencode(query) if query else "")


def _compressed(address: str) -> str:
    """An IPv6 address as RFC 5952 writes it (``0:0:0:0:0:0:0:1`` is ``::1``); one that is
    none (a zone, say) as given."""
    try:
        return ipaddress.IPv6Address(address).compressed
    except ValueError:
        return address


def checked_key(url: str | None, field: str) -> str | None:
    """``url_key`` of a URL a reader is shown (a source's ``url`` and ``archive_url``, a
    review's ``url``), None for none; a 422 naming ``field`` when it is not an absolute
    http(s) URL a browser could open: a host and a valid port (``https://[::1/``,
    ``:99999``, which the pattern alone lets through) and a host that can be an address
    (``host_problem``)."""
    if url is None:
        return None
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018 (ValueError out of range)
    except ValueError:
        raise invalid(field, _BROKEN_AUTHORITY) from None
    try:
        key = _key(parts)
    except ValueError:  # the pattern admits only http(s) with a host: one of only dots
        raise invalid(field, NOT_A_HOST) from None
    problem = host_problem(parts)
    if problem is not None:
        raise invalid(field, problem)
    return key


_BROKEN_AUTHORITY = (
    "The host and port cannot be read: an IPv6 address goes in closed brackets "
    "(https://[2001:db8::1]/), and a port is a number from 1 to 65535 after the host."
)
# A label of a domain name as DNS has them: letters, digits, hyphens (anywhere, as browsers
# take them: ``-x-.blogspot.com``) and underscores (``_dmarc``), 1 to 63 of them.
_DNS_LABEL = re.compile(r"[a-z0-9_-]{1,63}")
# A last label that is a number makes a host an IPv4 address to a browser (the WHATWG URL
# standard's "ends in a number"): ``1.2.3.4.5`` is no name, but a broken address.
_NUMBER = re.compile(r"[0-9]+|0x[0-9a-f]*")
NOT_A_HOST = (
    "The host is neither a domain name nor an IP address: a name is labels of letters, "
    "digits, hyphens and underscores joined by single dots (a Unicode name is taken, and "
    "counted in its xn-- form: up to 63 characters a label, 253 in all); an IP address "
    "is four numbers from 0 to 255, or an IPv6 address in brackets."
)
# The IP literal of a URL's authority: brackets, then a port or nothing (`[::1]x` is none).
_IP_LITERAL = re.compile(r"\[[^\]]*\](?::[0-9]*)?")


def host_problem(parts: SplitResult) -> str | None:
    """What makes the host and port of an absolute http(s) URL (``url_key`` took it) one no
    browser could reach, in words, or None. Stricter than a browser in two ways a source
    never needs: an IPv4 address is written as four numbers (``127.1`` and ``2130706433``
    are refused), and a percent sign in a host is refused rather than decoded."""
    if parts.port == 0:
        return "Port 0 is no server's address: give the port it is served on, or none."
    hostname = parts.hostname or ""
    authority = parts.netloc.rpartition("@")[2]
    if authority.startswith("["):  # an IP literal
        try:
            ipaddress.IPv6Address(hostname)
        except ValueError:
            return NOT_A_HOST
        if "%" in hostname:
            return "An IPv6 address with a zone (after %) is one machine's own: leave it out."
        return None if _IP_LITERAL.fullmatch(authority) else NOT_A_HOST
    host = ascii_host(hostname)
    labels = (host[:-1] if host.endswith(".") else host).split(".")  # one final dot: the root
    host = ".".join(labels)
    if len(host) > 253 or not all(_DNS_LABEL.fullmatch(label) for label in labels):
        return NOT_A_HOST
    if _NUMBER.fullmatch(labels[-1]):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            return (
                "The host ends in a number, so it is an IPv4 address, and not a valid one: "
                "write it as four numbers from 0 to 255 (such as 192.0.2.1)."
            )
        return None
    if not all(_a_label(label) for label in labels if label.startswith("xn--")):
        return (
            "The host has an xn-- label that is not an internationalised name's ASCII form: "
            "give the name in Unicode, or its exact xn-- form."
        )
    return None


def check_if_changed(changes: dict[str, Any], current: object, field: str) -> None:
    """``checked_key`` of the URL ``field`` a PATCH sends (``changes``), unless it is the one
    stored (on ``current``): one stored before a check that now refuses it stays editable,
    also by a client that sends back the whole resource it read."""
    if field in changes and changes[field] != getattr(current, field):
        checked_key(changes[field], field)


def _a_label(label: str) -> bool:
    """Whether ``xn--...`` is the ASCII form of a Unicode label, the one ``ascii_host``
    makes of it (``xn--`` alone, ``xn--abc-`` (plain ASCII) and Punycode that does not decode
    are not)."""
    try:
        unicode = label[4:].encode("ascii").decode("punycode")
    except UnicodeError:
        return False
    return not unicode.isascii() and ascii_host(unicode) == label


def ascii_host(host: str) -> str:
    """``host`` (lower case, as ``urlsplit`` gives it) in the ASCII form a browser sends: an
    internationalised name mapped as UTS #46 has it (non-transitional: ``ß`` stays itself)
    and each non-ASCII label written as its A-label (``xn--`` and Punycode), without IDNA
    2008's stricter rules on which characters a label may hold, as the WHATWG URL standard
    does (``☃.net`` is ``xn--n3h.net``). An ASCII host is kept as it is, and so is one UTS #46
    refuses or that has an empty label: it is still a key, only not one its other spellings
    share."""
    if host.isascii():
        return host
    try:
        labels = idna.uts46_remap(host, std3_rules=False, transitional=False).split(".")
        if "" in labels[:-1]:
            return host
        return ".".join(
            label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
            for label in labels
        )
    except (idna.IDNAError, UnicodeError):
        return host
