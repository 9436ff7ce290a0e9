"""Engine, sessions and the declarative base; migrations run at start.

SQLite: the file is created with mode 0600 before SQLAlchemy opens it, and runs in WAL mode with a
busy timeout so that the web server and the worker can write at once. PostgreSQL: any URL.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker


class Base(DeclarativeBase):
    pass


def _prepare_sqlite_file(url: str) -> None:
    path = make_url(url).database
    if not path or path == ":memory:":
        return
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    if not p.exists():
        fd = os.open(p, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    os.chmod(p, 0o600)


def make_engine(url: str) -> Engine:
    """``hide_parameters``: an error or log line of the database never shows the values (patient data)."""
    if url.startswith("sqlite"):
        _prepare_sqlite_file(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True,
                               pool_size=20, max_overflow=40)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            old = os.umask(0o077)  # the -wal and -shm files hold patient data too
            try:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.close()
            finally:
                os.umask(old)

        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True, pool_size=10, max_overflow=30)


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision (runs at every start; a no-op when current)."""
    from alembic import command
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Database:
    """One engine and its session factory; ``session()`` is a unit of work (commit or roll back)."""

    def __init__(self, url: str, run_migrations: bool = True):
        self.url = url
        self.engine = make_engine(url)
        if run_migrations:
            migrate(self.engine)
        self.Session = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        s = self.Session()
        try:
            yield s
            s.commit()
        except BaseException:
            s.rollback()
            raise
        finally:
            s.close()

    def dispose(self) -> None:
        self.engine.dispose()
