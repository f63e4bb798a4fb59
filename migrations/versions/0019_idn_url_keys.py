"""Source URL keys hold an internationalised host name in its ASCII form.

``url_key`` (``service/sources/urls.py``) now keys a host given in Unicode as its A-labels
(``xn--...``, as browsers send it: UTS #46's mapping, then Punycode), so that a page's
address in either spelling is one source. Keys stored before hold such a host as it was
given. This rewrites them: only the host part, the text before the key's first ``/`` (a
``:port`` kept), and only where it is not ASCII. A key whose rewritten form another source holds already (the same page, entered
once in each spelling before this change) is left as it is: both sources stay, as they
were, and the migration says which in its log; nothing is merged or dropped.

Written out here rather than imported from the service, so that this migration does the
same thing whatever ``url_key`` becomes.

Down: the keys whose host is in A-labels get their host back as their own URL gives it
(what ``url_key`` did before), which also undoes this migration's rewriting; one whose old
key another source holds by then keeps its key, and the log says so.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-28
"""

from __future__ import annotations

import logging
from urllib.parse import urlsplit
from uuid import UUID

import idna
from alembic import op
from sqlalchemy import Connection, text

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def _split(key: str) -> tuple[str, str, str]:
    """(host, ":port" or "", the rest from the first "/") of a stored key."""
    host, slash, rest = key.partition("/")
    name, colon, port = host.rpartition(":")
    if colon and port.isdigit():  # keys hold no IPv6 literal's colons: not IDNs, not touched
        return name, ":" + port, slash + rest
    return host, "", slash + rest


def _ascii(host: str) -> str | None:
    """The host part of a key as ``url_key`` now makes it (UTS #46's mapping, non-transitional,
    then each non-ASCII label as ``xn--`` and Punycode, as browsers do), or None when it is
    kept as it is (UTS #46 refuses it, or it has an empty label)."""
    try:
        labels = idna.uts46_remap(host, std3_rules=False, transitional=False).split(".")
        if "" in labels[:-1]:
            return None
        ascii_host = ".".join(
            label if label.isascii() else "xn--" + label.encode("punycode").decode("ascii")
            for label in labels
        )
    except (idna.IDNAError, UnicodeError):
        return None
    ascii_host = ascii_host.rstrip(".")
    return ascii_host[4:] if ascii_host.startswith("www.") else ascii_host


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        text("SELECT id, url_key FROM sources WHERE url_key ~ '^[^/]*[^\\x01-\\x7f]' ORDER BY id")
    ).all()
    for source_id, key in rows:
        host, port, rest = _split(key)
        ascii_host = _ascii(host)
        if ascii_host is None:
            continue  # IDNA refuses it: url_key keeps such a host as it is, too
        new_key = ascii_host + port + rest
        _rekey(
            bind,
            source_id,
            key,
            new_key,
            "its ASCII form (the same page, entered in both spellings); merge them by hand "
            "if they are one",
        )


def _rekey(bind: Connection, source_id: UUID, key: str, new_key: str, why: str) -> None:
    """Give the source ``new_key``, unless another source holds it: then it keeps ``key``,
    and the log says so (``why``: what the held key is to it)."""
    held_by = bind.execute(
        text("SELECT id FROM sources WHERE url_key = :key AND id <> :id"),
        {"key": new_key, "id": source_id},
    ).scalar()
    if held_by is not None:
        log.warning(
            "source %s keeps its URL key %r: source %s holds %r, %s",
            source_id,
            key,
            held_by,
            new_key,
            why,
        )
        return
    bind.execute(
        text("UPDATE sources SET url_key = :key WHERE id = :id"),
        {"key": new_key, "id": source_id},
    )


def _old_host(url: str) -> str:
    """The host part of the key ``url_key`` gave ``url`` before this migration."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    port = parts.port
    return f"{host}:{port}" if port is not None and port not in (80, 443) else host


def downgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(
        text("SELECT id, url, url_key FROM sources WHERE url_key ~ '^[^/]*xn--' ORDER BY id")
    ).all()
    for source_id, url, key in rows:
        _, _, rest = _split(key)
        _rekey(bind, source_id, key, _old_host(url) + rest, "the key it had before")
