"""Fixtures: one migrated app for the whole run, each test inside a transaction rolled back."""

from __future__ import annotations

import re
import shutil
import socket
import sqlite3
import threading
import uuid as uuidlib
from pathlib import Path

import flask_migrate
import pytest
from flask_sqlalchemy.session import _app_ctx_id
from sqlalchemy.orm import scoped_session, sessionmaker

from fieldapp import create_app
from fieldapp.extensions import db

PASSWORD = "correct horse battery"
CSRF_INPUT = re.compile(
    r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"'
)


def app_config(root: Path, **extra) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{root / 'fieldapp.sqlite3'}",
        "MEDIA_DIR": str(root / "media"),
        "C2PA_DIR": str(root / "c2pa"),  # never the checkout's instance folder
        "PUBLIC_URL": None,
        **extra,
    }


@pytest.fixture(scope="session")
def migrated_db(tmp_path_factory) -> Path:
    """An empty database at the newest migration, made once and copied by apps that commit."""
    root = tmp_path_factory.mktemp("template")
    app = create_app(app_config(root))
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return root / "fieldapp.sqlite3"


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server started for this test run (skips, or fails in CI, without one)."""
    from tests.postgres import start_server

    server = start_server()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def migrated_postgres(postgres_server, tmp_path_factory) -> str:
    """The name of an empty PostgreSQL database at the newest migration, copied by apps."""
    url = postgres_server.create_database("fieldapp_template")
    app = create_app(
        app_config(tmp_path_factory.mktemp("pg-template"), SQLALCHEMY_DATABASE_URI=url)
    )
    with app.app_context():
        flask_migrate.upgrade()
        db.engine.dispose()
    return "fieldapp_template"


def _database_url(request, root: Path, migrated_db: Path) -> str:
    """A fresh migrated database for one app: a copied SQLite file, or a PostgreSQL copy when
    the test asks for `postgresql` (see tests/postgres.py's `on_both_databases`)."""
    if getattr(request, "param", "sqlite") == "postgresql":
        server = request.getfixturevalue("postgres_server")
        template = request.getfixturevalue("migrated_postgres")
        return server.create_database(f"app_{uuidlib.uuid4().hex}", template=template)
    shutil.copy(migrated_db, root / "fieldapp.sqlite3")
    return f"sqlite:///{root / 'fieldapp.sqlite3'}"


@pytest.fixture(scope="session")
def app(request, tmp_path_factory, migrated_db):
    root = tmp_path_factory.mktemp("app")
    url = _database_url(request, root, migrated_db)
    app = create_app(app_config(root, SQLALCHEMY_DATABASE_URI=url))
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _rolled_back(request, tmp_path):
    """Run each test in a transaction that is rolled back, with its own media folder.

    Every request still gets its own session (one per app context), all bound to this
    connection; services' commits become savepoint releases.
    """
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    app.config["MEDIA_DIR"] = str(tmp_path / "media")
    with app.app_context():
        connection = db.engine.connect()
        outer = connection.begin()
    original = db.session
    db.session = scoped_session(
        sessionmaker(bind=connection, join_transaction_mode="create_savepoint"),
        scopefunc=_app_ctx_id,
    )
    try:
        yield
    finally:
        with app.app_context():
            db.session.remove()
        db.session = original
        outer.rollback()
        connection.close()


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1) or match.group(2)


class AuthActions:
    """Log in and out through the real forms (CSRF included)."""

    def __init__(self, app, client):
        self.app = app
        self.client = client

    def create_collector(self, username: str = "max", password: str = PASSWORD):
        from fieldapp.auth.services import create_collector

        with self.app.app_context():
            collector = create_collector(db.session, username, password)
            db.session.commit()
            return collector.id

    def login(self, username: str = "max", password: str = PASSWORD):
        page = self.client.get("/login")
        return self.client.post(
            "/login",
            data={
                "username": username,
                "password": password,
                "csrf_token": csrf_token_from(page.text),
            },
        )

    def csrf_token(self) -> str:
        return csrf_token_from(self.client.get("/").text)


@pytest.fixture
def auth(app, client) -> AuthActions:
    return AuthActions(app, client)


@pytest.fixture
def logged_in(auth) -> AuthActions:
    auth.create_collector()
    response = auth.login()
    assert response.status_code == 302
    return auth


@pytest.fixture
def api_token(app, auth) -> str:
    """A bearer token for a fresh collector, made through the real service."""
    from sqlalchemy import select

    from fieldapp.auth.models import Collector
    from fieldapp.auth.services import create_api_token

    auth.create_collector("phone-owner")
    with app.app_context():
        collector = db.session.scalar(select(Collector).where(Collector.username == "phone-owner"))
        token = create_api_token(db.session, collector)
        db.session.commit()
    return token


# Browser tests ---------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


@pytest.fixture
def live_app(request, tmp_path, migrated_db):
    """An app on its own database file, whose commits are real: the live server serves it,
    threads share it, factories may fill it first."""
    url = _database_url(request, tmp_path, migrated_db)
    app = create_app(app_config(tmp_path, SQLALCHEMY_DATABASE_URI=url))
    yield app
    with app.app_context():
        db.engine.dispose()


class LiveServer:
    """The app on a real port of 127.0.0.1, on its own database file (commits are real).

    `stop()` and `start()` take the server away and bring it back on the same port, as a server
    restart does; `cut_after_commit` makes the next PUT uploads commit and then drop the
    connection before answering, as a server that dies at the worst moment does.
    """

    def __init__(self, app, root: Path):
        self.app = app
        self.db_path = root / "fieldapp.sqlite3"
        self.media_dir = root / "media"
        self.cut_after_commit = 0
        self.port = 0
        self._server = None
        self._thread = None
        self.start()
        self.url = f"http://127.0.0.1:{self.port}"

    def _wsgi(self, environ, start_response):
        uploading = environ["REQUEST_METHOD"] == "PUT" and environ["PATH_INFO"].startswith(
            "/api/v1/encounters/"
        )
        if uploading and self.cut_after_commit > 0:
            self.cut_after_commit -= 1
            body = b"".join(self.app(environ, lambda *args, **kwargs: None))  # committed
            assert body
            environ["werkzeug.socket"].shutdown(socket.SHUT_RDWR)  # ...and the answer is lost
            return []
        return self.app(environ, start_response)

    def start(self) -> None:
        from werkzeug.serving import make_server

        self._server = make_server("127.0.0.1", self.port, self._wsgi, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def scalar(self, sql: str):
        """Ask the server's database directly, as an administrator would."""
        with sqlite3.connect(self.db_path) as connection:
            return connection.execute(sql).fetchone()[0]


@pytest.fixture
def server(live_app, tmp_path):
    running = LiveServer(live_app, tmp_path)
    yield running
    running.stop()


@pytest.fixture
def live_server(server) -> str:
    return server.url


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """Debian's Chromium (Playwright's own download is not available here)."""
    import os

    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: `make test` installs it as root")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)")
    return {"executable_path": CHROMIUM, "args": CHROMIUM_ARGS, "headless": True}


@pytest.fixture(scope="session")
def browser_context_args(playwright):
    return {**playwright.devices["Pixel 7"]}


# Every page of every browser test runs under the app's Content-Security-Policy; a violation
# (an inline script, style or handler, a foreign source) fails the test that caused it.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`
    + ` at ${event.sourceFile}:${event.lineNumber}`);
});
"""


def _is_csp_violation(text: str) -> bool:
    return text.startswith("CSP violation") or (
        text.startswith("Refused to") and "Content Security Policy" in text
    )


def watch_csp(context) -> list[str]:
    """Start collecting the CSP violations of every page `context` opens from now on."""
    violations: list[str] = []
    context.add_init_script(script=CSP_LISTENER)

    def watch(page) -> None:
        page.on(
            "console",
            lambda message: (
                violations.append(f"{page.url}: {message.text}")
                if _is_csp_violation(message.text)
                else None
            ),
        )

    context.on("page", watch)
    return violations


@pytest.fixture
def context(context):
    """pytest-playwright's context, failing the test on any CSP violation in any of its pages."""
    violations = watch_csp(context)
    yield context
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


# Real WebKit and a bad network (tests/webkit.py, tests/netproxy.py) ------------------------
# webkit_environment (session: Xvfb), webkit_driver (a fresh WebKitGTK per test, 390×844),
# webkit_phone (a WebKitPhone on `server`), net_proxy (a NetProxy in front of `server`).
from tests.netproxy import net_proxy  # noqa: E402, F401
from tests.webkit import webkit_driver, webkit_environment, webkit_phone  # noqa: E402, F401
