"""Alembic migrations (hand-written DDL). Packaged with the service so ``claimdesk migrate``
works from a wheel too."""

from __future__ import annotations

import re

_STATEMENT_END = re.compile(r";\s*(?:\n|$)")


def statements(sql: str) -> list[str]:
    """The statements of a script, without their ``;``: statements end with ``;`` at the end
    of a line."""
    return [statement for statement in _STATEMENT_END.split(sql) if statement.strip()]


def execute_script(sql: str) -> None:
    """Run a script of DDL statements one by one (asyncpg prepares each statement, and a
    prepared statement holds one command)."""
    from alembic import op

    for statement in statements(sql):
        op.execute(statement)
