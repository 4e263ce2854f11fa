"""A throwaway PostgreSQL server for the test run: initdb into a temp dir, pg_ctl start.

Debian's `postgresql` package provides the binaries (`make test` installs it as root). The
server listens only on a Unix socket in its own temp dir (no TCP port: nothing else on the
network can reach it), trusts what connects there, and is stopped and deleted at the end.
PostgreSQL refuses to run as root, so under root it runs as the `postgres` user (or `nobody`).
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

SUPERUSER = "postgres"


def find_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<version>/bin with initdb, or the one on PATH."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _run_as() -> str | None:
    """The unprivileged user to run the server as when we are root; None when we are not root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root, and neither a `postgres` nor a `nobody` user exists")


class PostgresServer:
    """One initdb'd cluster: `url(dbname)` gives a SQLAlchemy URL, `create_database()` a fresh one."""

    def __init__(self, bin_dir: Path):
        self.bin_dir = bin_dir
        self.user = _run_as()
        self.root = Path(tempfile.mkdtemp(prefix="fieldapp-pg-"))
        self.data = self.root / "data"
        self.socket_dir = self.root / "socket"
        self.socket_dir.mkdir()
        self.port = _free_port()
        if self.user is not None:
            entry = pwd.getpwnam(self.user)
            for path in (self.root, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)

    def _command(self, *args: str) -> list[str]:
        command = [str(self.bin_dir / args[0]), *args[1:]]
        return ["runuser", "-u", self.user, "--", *command] if self.user else command

    def start(self) -> None:
        subprocess.run(
            self._command(
                "initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync",
            ),
            check=True, capture_output=True, cwd=self.root,
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.socket_dir} -c listen_addresses='' "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            self._command(
                "pg_ctl", "start", "-D", str(self.data), "-w", "-t", "60",
                "-l", str(self.root / "server.log"), "-o", options,
            ),
            check=True, capture_output=True, cwd=self.root,
        )  # fmt: skip

    def stop(self) -> None:
        subprocess.run(
            self._command("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w"),
            capture_output=True,
            cwd=self.root,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@/{dbname}?host={self.socket_dir}&port={self.port}"

    def execute(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE DATABASE needs that)."""
        import psycopg

        with psycopg.connect(
            host=str(self.socket_dir), port=self.port, user=SUPERUSER, dbname="postgres",
            autocommit=True,
        ) as connection:  # fmt: skip
            for attempt in range(50):
                try:
                    connection.execute(sql)
                    return
                except psycopg.errors.ObjectInUse:
                    # A template's last connection can take a moment to go away.
                    if attempt == 49:
                        raise
                    time.sleep(0.1)

    def create_database(self, name: str, template: str | None = None) -> str:
        """A new empty database (or a copy of `template`); returns its URL."""
        suffix = f" TEMPLATE {template}" if template else ""
        self.execute(f'CREATE DATABASE "{name}"{suffix}')
        return self.url(name)


def unavailable(reason: str):
    """Skip the PostgreSQL tests, except in CI where they must run."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL tests cannot run in CI: {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason}")


def start_server() -> PostgresServer:
    """Start a server, or skip (fail in CI) with the reason it cannot start."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        unavailable("the psycopg driver is not installed (pip install -e '.[test]')")
    bin_dir = find_bin_dir()
    if bin_dir is None:
        unavailable(
            "initdb not found: install Debian's `postgresql` package (make system-packages)"
        )
    server = PostgresServer(bin_dir)
    try:
        server.start()
    except (subprocess.CalledProcessError, RuntimeError, OSError) as error:
        detail = getattr(error, "stderr", b"") or b""
        server.stop()
        unavailable(f"the server did not start: {error} {detail.decode(errors='replace')[-500:]}")
    return server


#: Run a test on both databases: `@on_both_databases` over a test taking `app`.
on_both_databases = pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
#: The same for tests taking `live_app` (real commits, several threads or processes).
live_on_both_databases = pytest.mark.parametrize(
    "live_app", ["sqlite", "postgresql"], indirect=True
)
