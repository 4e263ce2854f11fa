"""The floor for bench/load.py: the least a Flask page backed by a database can do.

One Flask page that looks up one token among 10,000 rows through SQLAlchemy (SQLite in WAL
mode, like the app) and renders a small Jinja template. Served by gunicorn with the same
gunicorn.conf.py as the app, so the ratio measures the app's own work.

    FLOOR_DATABASE=/tmp/floor.sqlite3 gunicorn -c gunicorn.conf.py 'bench.floor_app:create_app()'
"""

from __future__ import annotations

import os
import random
import secrets
from pathlib import Path

from flask import Flask, abort, render_template
from sqlalchemy import String, create_engine, event, select
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, scoped_session, sessionmaker

ROWS = 10_000


class Base(DeclarativeBase):
    pass


class Token(Base):
    __tablename__ = "tokens"
    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(32), unique=True)
    number: Mapped[int]


def _engine(path: str):
    engine = create_engine(f"sqlite:///{path}")

    @event.listens_for(engine, "connect")
    def _wal(dbapi_connection, _record):
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA busy_timeout=15000")

    return engine


def fill(path: str, asked: int = 1) -> list[str]:
    """Create the database with 10,000 tokens; returns `asked` of them to ask for."""
    engine = _engine(path)
    Base.metadata.create_all(engine)
    tokens = [secrets.token_urlsafe(18) for _ in range(ROWS)]
    with engine.begin() as connection:
        connection.execute(
            Token.__table__.insert(),
            [{"token": t, "number": n} for n, t in enumerate(tokens, start=1)],
        )
    engine.dispose()
    return random.Random(ROWS).sample(tokens, asked)


def create_app() -> Flask:
    app = Flask(__name__, template_folder=str(Path(__file__).parent / "floor_templates"))
    session = scoped_session(sessionmaker(_engine(os.environ["FLOOR_DATABASE"])))

    @app.teardown_appcontext
    def _remove(_exc):
        session.remove()

    @app.get("/p/<token>")
    def page(token: str):
        found = session.scalar(select(Token).where(Token.token == token))
        if found is None:
            abort(404)
        return render_template("page.html", number=found.number)

    return app
