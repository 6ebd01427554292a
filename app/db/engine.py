"""Engines and sessions for SQLite (embedded) and Postgres (teams).

SQLite: WAL so readers never block the writer, a busy timeout so concurrent writers queue instead
of failing, foreign keys on (cascading deletes rely on them), and an explicit BEGIN so that reads
inside a transaction see one snapshot (pysqlite's own transaction handling starts transactions
only at the first write). A transaction that reads and then writes must take the write lock at
BEGIN (`BEGIN IMMEDIATE`, asked for with the WRITES execution option): a deferred one whose
snapshot another writer moved on fails at its first write with "database is locked" at once,
without waiting for the busy timeout. Within one process, writers queue for a lock of their own
before BEGIN IMMEDIATE: SQLite's busy handler polls with growing sleeps, so under many writers
some wait out the timeout while later ones get in (seen with 50 trainers in bench/soak.py); a
lock hands the database to the waiting writers in turn.
"""

import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings

WRITES = "lossgap_writes"  # execution option: this transaction will write (SQLite: IMMEDIATE)
GATE = "lossgap_write_gate"  # connection info: this connection holds the process's write lock


def make_engine(settings: Settings) -> Engine:
    url = make_url(settings.resolved_database_url)
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url.render_as_string(hide_password=False), settings)
    if url.get_backend_name() == "postgresql" and url.get_driver_name() in ("", "psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_pool_size,
        pool_pre_ping=True,
    )


def _sqlite_engine(url: str, settings: Settings) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    # A connection per request thread: SQLite's are cheap, and a bounded pool would make requests
    # queue for a connection while the one writer at a time works (the write lock is the queue).
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": settings.sqlite_busy_timeout_ms / 1e3},
        max_overflow=-1,
    )
    busy_ms = settings.sqlite_busy_timeout_ms

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        # WAL is a property of the file: set once. Setting it again on every new connection
        # locks the file for a moment, and writers that began then failed at once with
        # "database is locked" (50 connections opened together in bench/soak.py).
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    gate = threading.Lock()

    def release(info: dict[Any, Any]) -> None:
        if info.pop(GATE, False):
            gate.release()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if not connection.get_execution_options().get(WRITES, False):
            connection.exec_driver_sql("BEGIN")
            return
        if not gate.acquire(timeout=busy_ms / 1000):
            raise OperationalError(
                "BEGIN IMMEDIATE", None, sqlite3.OperationalError("database is locked")
            )
        connection.info[GATE] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            release(connection.info)
            raise

    # The transaction's end hands the lock on; a connection returned to the pool in any other
    # way (invalidated, closed mid-transaction) hands it on too.
    event.listen(engine, "commit", lambda connection: release(connection.info))
    event.listen(engine, "rollback", lambda connection: release(connection.info))
    event.listen(engine, "checkin", lambda _dbapi, record: release(record.info))

    return engine


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


def writing(sessions: sessionmaker[Session]) -> Session:
    """A session whose transaction will write after reading (on SQLite it begins IMMEDIATE and
    waits for the lock then, instead of failing at its first write)."""
    engine = sessions.kw["bind"]
    return sessions(bind=engine.execution_options(**{WRITES: True}))
