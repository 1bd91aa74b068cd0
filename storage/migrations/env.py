"""Alembic environment: runs migrations through the same async engine as the application."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.database import Database
from storage.schema import metadata

config = context.config
# Workers starting together each run the migrations: on PostgreSQL the first one holds this
# lock ("Renfort-M") and the others find the schema already new when they get it.
MIGRATION_LOCK = 0x52656E666F72744D


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.execute(text(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
        context.run_migrations()


async def _main() -> None:
    db = Database(config.get_main_option("sqlalchemy.url") or "", pool_size=1, max_overflow=0)
    try:
        async with db.engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await db.close()


if context.is_offline_mode():
    raise SystemExit("Renfort runs its migrations online only")
asyncio.run(_main())
