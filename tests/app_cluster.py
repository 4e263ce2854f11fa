"""Several app servers that behave as one, for the tests: N gunicorn servers (the shipped
gunicorn.conf.py, several workers each) sharing one PostgreSQL database and one bucket of a
SeaweedFS server, the same FIELDAPP_SECRET_KEY, optionally counting failed logins in a Redis of
their own, and optionally Caddy in front, with the docker/Caddyfile compose.yaml mounts (HTTPS
from its internal CA, each request to the next server in turn).

This is what docs/DEPLOY.md ("Two app servers") asks an operator to share; the tests that use
it (test_two_servers.py, test_https_caddy.py) show that what a visitor sees does not depend on
the server that answers.

    redis_server(root)  a Redis on a free port of 127.0.0.1, nothing on disk; yields its URL
    app_cluster(root, database_url=, seaweed=, ...)  the servers started; stopped on leaving
    ShippedCaddy(upstreams, root=)  Caddy running docker/Caddyfile for 127.0.0.1:<port>
    Visitor(session, url)  one browser's cookies, pointed at one of the servers
    multipart(data, photo)  the body of the phone's upload
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from fieldapp import create_app
from fieldapp.auth.models import Collector
from fieldapp.auth.services import create_api_token, create_collector
from fieldapp.extensions import db
from tests.caddy import Caddy, caddy_binary
from tests.conftest import app_config
from tests.helpers import BROWSER_PASSWORD, ROOT, Gunicorn, free_port
from tests.seaweed import SeaweedServer

#: One key for every server: a session cookie or CSRF token signed by one is read by the others.
SECRET_KEY = "one secret for every app server"  # noqa: S105 - a test server's key
#: Where photos go in the shared bucket.
PREFIX = "photos"
#: The proxy's configuration that compose.yaml mounts.
CADDYFILE = ROOT / "docker" / "Caddyfile"


# Redis ------------------------------------------------------------------------------------------


@contextmanager
def redis_server(root: Path) -> Iterator[str]:
    """Debian's redis-server on a free port of 127.0.0.1, saving nothing to disk (`--save ''`,
    no append-only file); yields its URL, `redis://127.0.0.1:<port>`, and stops it after."""
    binary = shutil.which("redis-server")
    if binary is None:
        message = "redis-server is not installed (Debian: apt-get install redis-server)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(root)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None:
                    pytest.fail(f"redis-server stopped at start ({process.returncode})")
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


# The app servers --------------------------------------------------------------------------------


class ClusterServer(Gunicorn):
    """One of the servers. The database is shared and migrated already: the collector "max"
    (password BROWSER_PASSWORD) is made by the first server and found by the others; each gets
    an API token of its own, as two phones of one collector would."""

    def _prepare(self) -> str:
        app = create_app(app_config(self.root, SQLALCHEMY_DATABASE_URI=self.database_url))
        with app.app_context():
            collector = db.session.scalar(select(Collector).where(Collector.username == "max"))
            if collector is None:
                collector = create_collector(db.session, "max", BROWSER_PASSWORD)
            token = create_api_token(db.session, collector)
            db.session.commit()
            db.engine.dispose()
        return token

    @property
    def access_log(self) -> Path:
        return self.root / "access.log"

    def requests_served(self) -> list[str]:
        """The request lines ("GET /p/… HTTP/1.1") of its access log, Caddy's health checks left
        out (they reach every server whatever the visitors do)."""
        if not self.access_log.exists():
            return []
        lines = [line.split('"')[1] for line in self.access_log.read_text().splitlines()]
        return [line for line in lines if not line.startswith("GET /healthz ")]


def caddy_version() -> tuple[int, int]:
    """(major, minor) of the caddy on PATH (Debian 12: 2.6)."""
    binary = caddy_binary()
    if binary is None:
        return (0, 0)  # Caddy.start() says it is missing
    words = subprocess.run([binary, "version"], capture_output=True, text=True).stdout.split()
    major, minor = re.match(r"v?(\d+)\.(\d+)", words[0]).groups()
    return int(major), int(minor)


def caddyfile_for(version: tuple[int, int]) -> str:
    """docker/Caddyfile for this version of Caddy. compose.yaml runs the newest Caddy 2, whose
    `request_buffers <size>` Caddy 2.6 (Debian's) calls `buffer_requests`: the one line that
    differs."""
    text = CADDYFILE.read_text()
    if version < (2, 7):
        assert "request_buffers 32MB" in text
        text = text.replace("request_buffers 32MB", "buffer_requests")
    return text


class ShippedCaddy(Caddy):
    """Caddy running the repository's own docker/Caddyfile, as compose.yaml runs it, for the
    site 127.0.0.1:<https_port> in front of `upstreams`. Caddy serves an IP address with a
    certificate from its internal CA by itself (no ACME), as with `tls internal`."""

    def __init__(self, upstreams: list[str], *, root: Path):
        https_port = free_port()
        super().__init__(caddyfile_for(caddy_version()), https_port=https_port, root=root)
        self.site_env = {
            "FIELDAPP_DOMAIN": f"127.0.0.1:{https_port}",
            "FIELDAPP_UPSTREAMS": " ".join(upstreams),
        }

    def env(self) -> dict[str, str]:
        return {**super().env(), **self.site_env}

    def access_log(self) -> list[dict]:
        """The requests Caddy logged (its `log` block writes them as JSON lines to stdout, with
        its own messages)."""
        lines = (self.root / "caddy.log").read_text(errors="replace").splitlines()
        entries = [json.loads(line) for line in lines if line.startswith("{")]
        return [entry for entry in entries if "request" in entry]


@dataclass
class AppCluster:
    servers: list[ClusterServer]
    seaweed: SeaweedServer
    bucket: str
    database_url: str
    redis_url: str | None = None
    caddy: ShippedCaddy | None = None

    @property
    def public_url(self) -> str:
        """The one address visitors use: Caddy's, https."""
        assert self.caddy is not None, "started without caddy=True"
        return f"https://127.0.0.1:{self.caddy.https_port}"

    def objects(self) -> list[str]:
        """Every object of the shared bucket."""
        return self.seaweed.keys(self.bucket)

    def count(self, table: str) -> int:
        return self.servers[0].count(table)

    def local_media_files(self) -> list[Path]:
        """Files under any server's own media folder: with a bucket there must be none."""
        return [path for server in self.servers for path in server.media_files()]


@contextmanager
def app_cluster(
    root: Path,
    *,
    database_url: str,
    seaweed: SeaweedServer,
    count: int = 2,
    workers: int = 2,
    env: dict[str, str] | None = None,
    redis: bool = False,
    caddy: bool = False,
) -> Iterator[AppCluster]:
    """`count` servers on the migrated database `database_url` and a fresh bucket of `seaweed`,
    started; with `redis`, failed logins counted in a Redis of their own
    (FIELDAPP_RATELIMIT_STORAGE_URI); with `caddy`, behind Caddy on a free https port of
    127.0.0.1, which they trust as their one proxy (FIELDAPP_PROXY_HOPS=1) and whose address
    is their public URL. Everything is stopped on leaving, the bucket left to `seaweed`."""
    with ExitStack() as stack:
        cluster = AppCluster([], seaweed, seaweed.new_bucket("cluster"), database_url)
        shared = {
            "FIELDAPP_SECRET_KEY": SECRET_KEY,
            "FIELDAPP_MEDIA_URL": f"s3://{cluster.bucket}/{PREFIX}",
            **seaweed.env(),
        }
        if redis:
            (root / "redis").mkdir(parents=True, exist_ok=True)
            cluster.redis_url = stack.enter_context(redis_server(root / "redis"))
            shared["FIELDAPP_RATELIMIT_STORAGE_URI"] = cluster.redis_url
        for index in range(count):
            (root / f"server-{index}").mkdir(parents=True, exist_ok=True)
            server = ClusterServer(
                root / f"server-{index}", workers=workers, database_url=database_url
            )
            server.env.update(shared)
            server.env["FIELDAPP_ACCESS_LOG"] = str(server.access_log)
            cluster.servers.append(server)
        stack.callback(_stop_all, cluster.servers)
        if caddy:
            (root / "caddy").mkdir(parents=True, exist_ok=True)
            cluster.caddy = ShippedCaddy(
                [f"127.0.0.1:{s.port}" for s in cluster.servers], root=root / "caddy"
            )
            stack.callback(cluster.caddy.stop)
            for server in cluster.servers:
                server.env["FIELDAPP_PROXY_HOPS"] = "1"
                server.env["FIELDAPP_PUBLIC_URL"] = cluster.public_url
        for server in cluster.servers:
            server.env.update(env or {})
        # Started side by side: each loads the app in its arbiter before it answers.
        with ThreadPoolExecutor(len(cluster.servers)) as starting:
            for started in [starting.submit(server.start) for server in cluster.servers]:
                started.result()
        if cluster.caddy is not None:
            cluster.caddy.start()
        yield cluster


def _stop_all(servers: list[ClusterServer]) -> None:
    """Ask every server to stop (gunicorn finishes its requests), then wait for each."""
    running = [s for s in servers if s.process is not None and s.process.poll() is None]
    for server in running:
        os.killpg(server.process.pid, signal.SIGTERM)
    for server in running:
        server.process.wait(timeout=40)


# Visitors ---------------------------------------------------------------------------------------


class Visitor:
    """One browser (its cookies: `session`) talking to the server at `url`: the calls of
    Flask's test client that tests/helpers.py's form helpers use (get, post, .text,
    .status_code), answers as they come, redirects not followed. Two Visitors sharing a
    session are one browser whose requests a load balancer sends to two servers."""

    def __init__(self, session: requests.Session, url: str, *, verify: str | bool = True):
        self.session = session
        self.url = url
        self.verify = verify

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(
            self.url + path, allow_redirects=False, verify=self.verify, timeout=30, **kwargs
        )

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.session.post(
            self.url + path, allow_redirects=False, verify=self.verify, timeout=60, **kwargs
        )
