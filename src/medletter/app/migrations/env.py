"""Alembic environment: runs on the connection medletter passes in (db.migrate), or on the URL of
``alembic -x url=…`` for developers generating a new revision."""

from alembic import context
from sqlalchemy import create_engine

from medletter.app import models  # noqa: F401  (registers the tables)
from medletter.app.db import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    conn = config.attributes.get("connection")
    if conn is not None:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    with create_engine(url).connect() as c:
        context.configure(connection=c, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
