"""Source URL keys write an IPv6 host in its brackets, in its one short form.

``url_key`` wrote an IPv6 address without its brackets and then its port after a colon, so
``https://[::1]:8080/`` and ``https://[::1:8080]/``, two hosts, had one key (``::1:8080/``),
and the second was refused as the first's duplicate (a review's finding); and it wrote the
address as given, so ``[::1]`` and ``[0:0:0:0:0:0:0:1]``, one host, had two. The key now
holds the address in brackets, compressed as RFC 5952 writes it (``[::1]:8080/``). This
rewrites the keys stored before: those of sources whose URL's host is an IP literal, where
the key begins with that address as ``urlsplit`` gives it (lower case). A key whose new form
another source holds (the same address written two ways, entered twice) is left as it is,
and the migration says which in its log; nothing is merged or dropped.

Written out here rather than imported from the service, so that this migration does the
same thing whatever ``url_key`` becomes.

Down: each such key gets the address back as its own URL writes it, without brackets; one
whose old form another source holds by then keeps its key, and the log says so.

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-29
"""

from __future__ import annotations

import ipaddress
import logging
from urllib.parse import urlsplit

from alembic import op
from sqlalchemy import text

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")


def _address(url: str) -> str | None:
    """The IPv6 address of ``url``'s host as ``urlsplit`` gives it, or None."""
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host if host and ":" in host else None


def _compressed(address: str) -> str:
    try:
        return ipaddress.IPv6Address(address).compressed
    except ValueError:  # not one (a zone Python refuses, say): kept as given
        return address


def _rekey(up: bool) -> None:
    bind = op.get_bind()
    rows = bind.execute(
        text("SELECT id, url, url_key FROM sources WHERE url LIKE '%[%' ORDER BY id")
    ).all()
    for source_id, url, key in rows:
        address = _address(url)
        if address is None:
            continue
        if up and key.startswith(address):
            new_key = f"[{_compressed(address)}]" + key[len(address) :]
        elif not up and key.startswith("[") and "]" in key:
            new_key = address + key[key.index("]") + 1 :]
        else:
            continue
        held_by = bind.execute(
            text("SELECT id FROM sources WHERE url_key = :key AND id <> :id"),
            {"key": new_key, "id": source_id},
        ).scalar()
        if held_by is not None:
            log.warning(
                "source %s keeps its URL key %r: source %s holds %r (the same address?)",
                source_id,
                key,
                held_by,
                new_key,
            )
            continue
        bind.execute(
            text("UPDATE sources SET url_key = :key WHERE id = :id"),
            {"key": new_key, "id": source_id},
        )


def upgrade() -> None:
    _rekey(up=True)


def downgrade() -> None:
    _rekey(up=False)
