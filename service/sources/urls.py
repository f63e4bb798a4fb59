"""Source URL normalisation: two spellings of one page's address get one key.

The key drops what does not change the page: the scheme (http/https), a leading ``www.``,
default ports, the fragment, a trailing slash, tracking parameters (``utm_*``, ``fbclid``,
``gclid``...), the order of query parameters and percent-encoding differences. A host name
in Unicode (an internationalised domain name) is keyed in the ASCII form browsers send
(:func:`ascii_host`): ``مثال.إختبار`` and ``xn--mgbh0fb.xn--kgbechtv`` are one host.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

import idna

from service.errors import invalid

_TRACKING = re.compile(r"^(utm_[a-z_]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|igshid|ref_src)$")
_SAFE_PATH = "/:@!$&'()*+,;=-._~"


def url_key(url: str) -> str:
    """The uniqueness key of ``url``; ``ValueError`` if it is not an absolute http(s) URL."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError("not an absolute http(s) URL")
    host = ascii_host(parts.hostname.rstrip(".")).rstrip(".")
    if not host:  # only dots: no name at all (`https://./` and `https://../` were one key)
        raise ValueError("not an absolute http(s) URL")
    if host.startswith("www."):
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


def checked_key(url: str | None, field: str) -> str | None:
    """``url_key`` of a URL a reader is shown (a source's ``url`` and ``archive_url``, a
    review's ``url``), None for none; a 422 naming ``field`` when it is not an absolute
    http(s) URL with a host and a valid port (``https://[::1/``, ``:99999``), which the
    pattern alone lets through."""
    if url is None:
        return None
    try:
        return url_key(url)
    except ValueError:
        raise invalid(field, "Not an absolute http(s) URL with a valid host and port.") from None


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
