"""PostgreSQL access: a long-lived async pool per process, bound to one service's schema and role."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType

import psycopg
from psycopg_pool import AsyncConnectionPool


def role_for(schema: str) -> str:
    return f"crs_{schema}"


def connection_options(schema: str) -> str:
    # Connections take the service's role and schema at start-up, so a service cannot read another's
    # tables even by mistake: the role has no rights outside its own schema.
    return f"-c search_path={schema} -c role={role_for(schema)}"


async def open_pool(url: str, *, schema: str, min_size: int = 2, max_size: int = 10) -> AsyncConnectionPool:
    """Open a pool whose connections work inside `schema` as its role."""
    pool = AsyncConnectionPool(
        url,
        min_size=min_size,
        max_size=max_size,
        kwargs={"options": connection_options(schema)},
        open=False,
        name=f"crs-{schema}",
    )
    await pool.open(wait=True, timeout=10)
    return pool


@asynccontextmanager
async def autocommit(pool: AsyncConnectionPool) -> AsyncIterator[psycopg.AsyncConnection]:
    """A pooled connection on which each statement is its own transaction: no BEGIN or COMMIT round trips.

    For a lone read, or a lone write whose one statement does all of its work.

    The autocommit flag is client-side, and is put back before the connection returns to the pool.
    """
    async with pool.connection() as conn:
        await conn.set_autocommit(True)
        try:
            yield conn
        finally:
            await conn.set_autocommit(False)


def connect(url: str, *, schema: str, autocommit: bool = False) -> psycopg.Connection:
    """A plain blocking connection in `schema`, for command-line tools and seeders."""
    return psycopg.connect(url, options=connection_options(schema), autocommit=autocommit)


def copy_text(conn: psycopg.Connection, table: str, columns: str, text: str) -> None:
    """Load COPY text-format rows into `table`: the fast path for bulk seeding."""
    with conn.cursor().copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        copy.write(text)


def stage_ids(conn: psycopg.Connection, ids: list[str], *, table: str) -> None:
    """Put `ids` in a temporary table of that name, dropped at commit, to join a bulk statement against."""
    conn.execute(f"CREATE TEMP TABLE {table} (id uuid PRIMARY KEY) ON COMMIT DROP")
    copy_text(conn, table, "id", "".join(f"{i}\n" for i in ids))


class UnitOfWork:
    """One transaction on one pooled connection; it rolls back unless `commit()` was called.

    async with UnitOfWork(pool) as uow:
        await uow.conn.execute(...)
        await uow.commit()
    """

    def __init__(self, pool: AsyncConnectionPool):
        self.pool = pool
        self.conn: psycopg.AsyncConnection | None = None
        self._committed = False

    async def __aenter__(self) -> UnitOfWork:
        self.conn = await self.pool.getconn()
        return self

    async def commit(self) -> None:
        assert self.conn is not None
        await self.conn.commit()
        self._committed = True

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self.conn is not None
        try:
            if not self._committed or exc_type is not None:
                await self.conn.rollback()
        finally:
            await self.pool.putconn(self.conn)
            self.conn = None
