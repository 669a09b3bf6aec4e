"""PostgreSQL access: a long-lived async pool per process, logged in as one service's own role.

Two roles per schema (services/runtime/migrate.py creates both):
- `crs_<schema>` owns the schema and its tables; it cannot log in, and only migrations act as it;
- `crs_<schema>_app` is the login a service uses: it may read and write the rows of its own schema and
  nothing else, not even the DDL of its own tables. `RESET ROLE` changes nothing, since it is the session
  user itself, and it is a member of no other role.

The host, port and database come from CRS_DATABASE_URL; the user is always the schema's login role and
its password CRS_<SCHEMA>_DB_PASSWORD, so a service container needs no owner credentials.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import TracebackType

import psycopg
from psycopg_pool import AsyncConnectionPool

from services.runtime.settings import database_password


def role_for(schema: str) -> str:
    """The role that owns `schema`: migrations act as it, nothing else does."""
    return f"crs_{schema}"


def login_role_for(schema: str) -> str:
    """The role `schema`'s service logs in as: rows of its own schema, nothing more."""
    return f"crs_{schema}_app"


def connection_options(schema: str) -> str:
    return f"-c search_path={schema}"


def login_url(url: str, schema: str) -> str:
    """`url`'s server and database, with `schema`'s login role and password in place of its user."""
    return psycopg.conninfo.make_conninfo(
        url, user=login_role_for(schema), password=database_password(schema)
    )


async def open_pool(url: str, *, schema: str, min_size: int = 2, max_size: int = 10) -> AsyncConnectionPool:
    """Open a pool whose connections log in as `schema`'s service role and work inside `schema`."""
    pool = AsyncConnectionPool(
        login_url(url, schema),
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
    """A plain blocking connection as `schema`'s service role, for command-line tools and seeders."""
    return psycopg.connect(login_url(url, schema), options=connection_options(schema), autocommit=autocommit)


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
