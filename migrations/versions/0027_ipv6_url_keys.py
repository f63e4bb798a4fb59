"""Source URL keys write an IPv6 host in its brackets.

``url_key`` wrote an IPv6 address without its brackets and then its port after a colon, so
``https://[::1]:8080/`` and ``https://[::1:8080]/``, two hosts, had one key (``::1:8080/``),
and the second was refused as the first's duplicate (a review's finding). The key now keeps
the brackets (``[::1]:8080/``). This rewrites the keys stored before: those of sources whose
URL's host is an IP literal, where the key begins with that address as ``urlsplit`` gives it
(lower case). A key whose new form another source holds is left as it is (none can be: the
old keys were unique, and the new ones differ only by the brackets).

Down: the brackets taken out again.

Revision ID: 0027
Revises: 0026
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        r"""
UPDATE sources s SET url_key = x.key
FROM (SELECT id, '[' || address || ']' || substr(url_key, length(address) + 1) AS key
      FROM (SELECT id, url_key,
                   lower(substring(url FROM '^[A-Za-z]+://(?:[^/?#@]*@)?\[([^\]/?#]*)\]'))
                       AS address
            FROM sources) AS a
      WHERE address IS NOT NULL AND starts_with(url_key, address)) AS x
WHERE x.id = s.id AND NOT EXISTS (SELECT FROM sources o WHERE o.url_key = x.key)
"""
    )


def downgrade() -> None:
    op.execute(
        r"""
UPDATE sources s SET url_key = x.key
FROM (SELECT id, substr(url_key, 2, strpos(url_key, ']') - 2)
                 || substr(url_key, strpos(url_key, ']') + 1) AS key
      FROM sources WHERE url_key LIKE '[%]%') AS x
WHERE x.id = s.id AND NOT EXISTS (SELECT FROM sources o WHERE o.url_key = x.key)
"""
    )
