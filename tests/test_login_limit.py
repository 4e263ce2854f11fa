"""The login limit holds across workers, restarts and app servers: failed logins are counted in
the database (or in FIELDAPP_RATELIMIT_STORAGE_URI), before any password is checked."""

from __future__ import annotations

import http.client
import re
import threading
import urllib.parse
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fieldapp import create_app
from fieldapp.auth import services
from fieldapp.auth.login_limit import Refusal, begin_attempt, limit_key
from fieldapp.auth.models import LoginFailure
from fieldapp.database import utcnow
from fieldapp.extensions import db
from tests.app_cluster import redis_server
from tests.conftest import PASSWORD, app_config, csrf_token_from
from tests.helpers import Gunicorn, attempt

SMALL_LIMIT = "3 per 15 minutes"


@pytest.fixture
def small_limit(app):
    previous = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = SMALL_LIMIT
    yield 3
    app.config["LOGIN_RATE_LIMIT"] = previous


@pytest.fixture
def password_checks(monkeypatch) -> list[str]:
    """Every scrypt comparison the login makes (werkzeug's check_password_hash, counted)."""
    checked: list[str] = []
    real = services.check_password_hash

    def counting(password_hash: str, password: str) -> bool:
        checked.append(password)
        return real(password_hash, password)

    monkeypatch.setattr(services, "check_password_hash", counting)
    return checked


def failures(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(LoginFailure.key)))


def test_a_refused_attempt_checks_no_password(auth, app, client, small_limit, password_checks):
    auth.create_collector()
    statuses = [attempt(client, "wrong password!").status_code for _ in range(small_limit + 5)]
    assert statuses == [400] * small_limit + [429] * 5
    assert len(password_checks) == small_limit  # the 5 refused ones cost no scrypt
    refused = attempt(client, PASSWORD)  # even the right password waits
    assert refused.status_code == 429
    assert len(password_checks) == small_limit
    assert "Too many attempts; try again in 15 minutes." in refused.text
    assert 14 * 60 < int(refused.headers["Retry-After"]) <= 15 * 60
    assert failures(app) == ["ip:198.51.100.7"] * small_limit


def test_only_failures_count(auth, app, small_limit):
    auth.create_collector()
    for _ in range(small_limit + 2):
        assert attempt(app.test_client(), PASSWORD).status_code == 302
    assert failures(app) == []
    for _ in range(small_limit):
        assert attempt(app.test_client(), "wrong password!").status_code == 400
    assert attempt(app.test_client(), PASSWORD).status_code == 429


def test_a_json_caller_gets_the_wait_too(auth, app, client, small_limit):
    auth.create_collector()
    for _ in range(small_limit):
        attempt(client, "wrong password!")
    page = client.get("/login", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    refused = client.post(
        "/login",
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
        headers={"Accept": "application/json"},
        data={"username": "max", "password": "x" * 12, "csrf_token": csrf_token_from(page.text)},
    )
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0


def test_the_window_slides_and_old_failures_are_pruned(app):
    key = limit_key("203.0.113.5")
    start = utcnow()
    with app.app_context():
        for minute in range(3):
            at = start + timedelta(minutes=minute)
            assert begin_attempt(db.session, key, SMALL_LIMIT, None, now=at).refusal is None
        fourth = begin_attempt(db.session, key, SMALL_LIMIT, None, now=start + timedelta(minutes=3))
        # The first failure leaves the window at start + 15 minutes: 12 minutes from now.
        assert fourth.refusal == Refusal(retry_after=12 * 60)
        assert fourth.refusal.wait_in_words() == "12 minutes"
        later = start + timedelta(minutes=15, seconds=1)
        assert begin_attempt(db.session, key, SMALL_LIMIT, None, now=later).refusal is None
        # The failure from `start` is gone from the table, not only from the count.
        assert db.session.scalar(select(func.min(LoginFailure.at))) > start
        assert db.session.scalar(select(func.count()).select_from(LoginFailure)) == 3


def test_every_limit_of_a_list_holds(app):
    key = limit_key("203.0.113.6")
    start = utcnow()
    with app.app_context():
        limit = "2 per minute; 3 per hour"
        for seconds in (0, 1):
            at = start + timedelta(seconds=seconds)
            assert begin_attempt(db.session, key, limit, None, now=at).refusal is None
        per_minute = begin_attempt(db.session, key, limit, None, now=start + timedelta(seconds=2))
        assert per_minute.refusal == Refusal(retry_after=58)
        assert per_minute.refusal.wait_in_words() == "1 minute"
        at = start + timedelta(minutes=2)
        assert begin_attempt(db.session, key, limit, None, now=at).refusal is None
        per_hour = begin_attempt(db.session, key, limit, None, now=at + timedelta(minutes=2))
        assert per_hour.refusal.retry_after == 56 * 60


def test_a_wrong_current_password_on_the_account_page_counts_too(logged_in, app, client):
    """A thief holding an unlocked phone cannot guess the password there instead."""
    app.config["LOGIN_RATE_LIMIT"] = SMALL_LIMIT
    try:
        form = {"password": "a brand new password", "confirm": "a brand new password"}
        statuses = []
        for _ in range(4):
            response = client.post(
                "/account/password",
                data={**form, "current": "a guess at it", "csrf_token": logged_in.csrf_token()},
            )
            statuses.append(response.status_code)
        assert statuses == [400, 400, 400, 429]
    finally:
        app.config["LOGIN_RATE_LIMIT"] = "10 per 15 minutes"


def test_with_a_storage_uri_the_limit_is_counted_there(tmp_path, migrated_db):
    """FIELDAPP_RATELIMIT_STORAGE_URI set: the limits library's storage, not the database."""
    import shutil

    shutil.copy(migrated_db, tmp_path / "fieldapp.sqlite3")
    app = create_app(
        app_config(
            tmp_path,
            LOGIN_RATE_LIMIT="2 per 15 minutes",
            LOGIN_LIMIT_STORAGE_URI=f"memory://?test={tmp_path.name}",
        )
    )
    try:
        with app.app_context():
            services.create_collector(db.session, "max", PASSWORD)
            db.session.commit()
        client = app.test_client()
        assert attempt(client, PASSWORD).status_code == 302  # given back: not a failure
        fresh = app.test_client()
        assert [attempt(fresh, "wrong password!").status_code for _ in range(3)] == [400, 400, 429]
        refused = attempt(fresh, PASSWORD)
        assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
        assert failures(app) == []  # nothing in the database
    finally:
        with app.app_context():
            db.engine.dispose()


def test_the_storage_setting_is_read_from_the_environment(tmp_path):
    from fieldapp.config import settings_from_environment

    assert settings_from_environment(str(tmp_path), {})["LOGIN_LIMIT_STORAGE_URI"] is None
    settings = settings_from_environment(
        str(tmp_path), {"FIELDAPP_RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379"}
    )
    assert settings["LOGIN_LIMIT_STORAGE_URI"] == "redis://127.0.0.1:6379"


# Real servers: gunicorn with several workers, restarted; two servers on one PostgreSQL ---------


class LoginServer(Gunicorn):
    """gunicorn with the shipped config and a small login limit; the collector "max" is made
    once per database, so two servers may share one."""

    LIMIT = 3
    PASSWORD = "a long password"

    def __init__(self, root: Path, *, workers: int, database_url: str | None = None):
        super().__init__(root, workers=workers, database_url=database_url)
        self.env["FIELDAPP_LOGIN_RATE_LIMIT"] = f"{self.LIMIT} per 15 minutes"

    def _prepare(self) -> str:
        self._migrate()
        app = create_app(app_config(self.root, SQLALCHEMY_DATABASE_URI=self.database_url))
        with app.app_context():
            if not services.has_collector(db.session):
                services.create_collector(db.session, "max", self.PASSWORD)
                db.session.commit()
            db.engine.dispose()
        return ""

    def login_form(self) -> tuple[str, str]:
        """A session cookie and its CSRF token, as a browser gets them from GET /login."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        connection.request("GET", "/login")
        response = connection.getresponse()
        html = response.read().decode()
        cookie = re.search(r"session=[^;]+", response.getheader("Set-Cookie")).group(0)
        connection.close()
        return cookie, csrf_token_from(html)

    def post_login(self, password: str, form: tuple[str, str]) -> int:
        cookie, csrf = form
        body = urllib.parse.urlencode({"username": "max", "password": password, "csrf_token": csrf})
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        connection.request(
            "POST",
            "/login",
            body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
        )
        status = connection.getresponse().status
        connection.close()
        return status


def wrong_passwords_at_once(servers: list[LoginServer], count: int) -> list[int]:
    """`count` wrong passwords sent together, to the servers in turn; their statuses, sorted."""
    calls = []
    for index in range(count):
        server = servers[index % len(servers)]
        form = server.login_form()
        calls.append(lambda server=server, form=form: server.post_login("wrong pass!", form))
    return sorted(at_once(calls))


def at_once(calls) -> list[int]:
    """Run the calls in threads released together; their answers in order of the calls."""
    answers: list[int | None] = [None] * len(calls)
    start = threading.Barrier(len(calls))

    def run(index: int, call) -> None:
        start.wait()
        answers[index] = call()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


@pytest.fixture
def login_server(tmp_path):
    server = LoginServer(tmp_path, workers=4)
    yield server
    server.stop()


def test_several_workers_check_exactly_the_limit_and_a_restart_forgets_nothing(login_server):
    login_server.start()
    limit = LoginServer.LIMIT
    # 400: a password checked and wrong
    assert wrong_passwords_at_once([login_server], limit + 5) == [400] * limit + [429] * 5
    assert login_server.count("login_failures") == limit

    login_server.stop()
    login_server.start()
    form = login_server.login_form()
    assert login_server.post_login("wrong pass!", form) == 429
    assert login_server.post_login(LoginServer.PASSWORD, form) == 429
    assert login_server.count("login_failures") == limit


def test_two_app_servers_sharing_postgresql_share_the_limit(tmp_path, postgres_server):
    from uuid import uuid4

    url = postgres_server.create_database(f"limit_{uuid4().hex}")
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
    servers = [LoginServer(tmp_path / name, workers=2, database_url=url) for name in ("one", "two")]
    try:
        for server in servers:
            server.start()
        limit = LoginServer.LIMIT
        assert wrong_passwords_at_once(servers, limit + 5) == [400] * limit + [429] * 5
        assert servers[0].count("login_failures") == limit
        for server in servers:
            assert server.post_login(LoginServer.PASSWORD, server.login_form()) == 429
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def redis_url(tmp_path):
    """A real Redis server of this test's own on 127.0.0.1 (Debian's redis-server), no disk."""
    with redis_server(tmp_path) as url:
        yield url


def test_two_app_servers_with_their_own_databases_share_the_limit_in_redis(tmp_path, redis_url):
    """FIELDAPP_RATELIMIT_STORAGE_URI: app servers that share no database share the count, and
    restarting them forgets nothing; no failure is written to either database."""
    pytest.importorskip("redis", reason="the redis client (pip install 'fieldapp[redis]')")
    servers = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        server = LoginServer(tmp_path / name, workers=2)
        server.env["FIELDAPP_RATELIMIT_STORAGE_URI"] = redis_url
        servers.append(server)
    try:
        for server in servers:
            server.start()
        limit = LoginServer.LIMIT
        assert wrong_passwords_at_once(servers, limit + 5) == [400] * limit + [429] * 5
        assert [server.count("login_failures") for server in servers] == [0, 0]
        for server in servers:
            server.stop()
            server.start()
            assert server.post_login(LoginServer.PASSWORD, server.login_form()) == 429
    finally:
        for server in servers:
            server.stop()


@pytest.mark.parametrize("uri", ["nosuch://host", "async+memory://"])
def test_a_storage_it_cannot_use_stops_the_app_at_start_not_each_login(tmp_path, migrated_db, uri):
    """A wrong FIELDAPP_RATELIMIT_STORAGE_URI is said once, when the server starts, instead of
    a 500 for every login: an unknown scheme, or an asyncio storage (this limiter counts in
    plain calls; `async+memory://` answered 500 to every login until mypy saw it)."""
    import shutil

    from fieldapp.config import ConfigError

    shutil.copy(migrated_db, tmp_path / "fieldapp.sqlite3")
    with pytest.raises(ConfigError, match=re.escape(f"FIELDAPP_RATELIMIT_STORAGE_URI='{uri}'")):
        create_app(app_config(tmp_path, LOGIN_LIMIT_STORAGE_URI=uri))
