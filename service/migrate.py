"""Run the alembic migrations in ``migrations/`` programmatically (``claimdesk migrate``)."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TypeGuard

import asyncpg

import migrations


def _config(url: str | None = None):  # type: ignore[no-untyped-def]
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(migrations.__file__).parent))
    if url is not None:
        cfg.attributes["database_url"] = url
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``. Blocking: call outside an event loop."""
    from alembic import command

    command.upgrade(_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    from alembic import command

    command.downgrade(_config(url), revision)


@cache
def _scripts():  # type: ignore[no-untyped-def]
    """The migrations' script directory, read once a process (``head`` and ``known``)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


@cache
def head() -> str:
    """The newest migration's revision id (what ``/ready`` expects the database to be at)."""
    heads = _scripts().get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"migrations must have one head, found {heads}")
    return str(heads[0])


@cache
def _oldest_first() -> tuple[str, ...]:
    """Every migration's revision id this code has, the first first."""
    return tuple(reversed([r.revision for r in _scripts().walk_revisions()]))


@cache
def known() -> frozenset[str]:
    """Every migration's revision id this code has (a database at another is ahead of it)."""
    return frozenset(_oldest_first())


def newer(version: str | None) -> TypeGuard[str]:
    """Whether a database at ``version`` was migrated by newer code than this (a revision
    this code does not have); None, never migrated, is not."""
    return version is not None and version not in known()


def position(revision: str | None) -> int:
    """How far up the migrations ``revision`` is: 0 for none applied (base), 1 for the first."""
    return 0 if revision is None else _oldest_first().index(revision) + 1


def resolve(target: str, current: str | None) -> str | None:
    """The revision ``target`` names, as alembic reads it (``head``, ``base``, an id or a
    unique start of one, ``-1``/``+2`` from ``current``); None for base. Raises alembic's
    CommandError for one it cannot find."""
    from alembic.util import CommandError

    steps = re.fullmatch(r"[+-]\d+", target)
    if steps:
        at = position(current) + int(target)
        if not 0 <= at <= len(_oldest_first()):
            raise CommandError(f"{target} from {current or 'base'} is past the migrations' ends")
        return _oldest_first()[at - 1] if at else None
    if target == "base":
        return None
    revision = _scripts().get_revision("head" if target == "heads" else target)
    return None if revision is None else str(revision.revision)


async def version(conn: asyncpg.Connection) -> str | None:
    """The revision the database is at, read on ``conn`` (None: down to base); raises
    asyncpg's UndefinedTableError for a database never migrated."""
    return await conn.fetchval("SELECT version_num FROM alembic_version")  # type: ignore[no-any-return]


async def current(url: str) -> str | None:
    """The revision the database at ``url`` is at (None: never migrated, or down to base)."""
    conn = await asyncpg.connect(url)
    try:
        return await version(conn)
    except asyncpg.UndefinedTableError:
        return None
    finally:
        await conn.close()
