"""The container's entrypoint, run outside Docker: wait for the database, migrate, serve.

No Docker engine runs here, so the entrypoint script itself is run as the container would run
it, with the shipped gunicorn config, against a temp SQLite file and a real PostgreSQL server.
"""

from __future__ import annotations

import gc
import http.client
import json
import os
import re
import runpy
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest

from fieldapp.redaction import redact

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def entrypoint_env(tmp_path: Path, database_url: str, port: int, **extra: str) -> dict:
    return {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "FIELDAPP_SECRET_KEY": "entrypoint test secret",
        "FIELDAPP_DATABASE_URL": database_url,
        "FIELDAPP_MEDIA_DIR": str(tmp_path / "data" / "media"),
        "FIELDAPP_BIND": f"127.0.0.1:{port}",
        "FIELDAPP_WORKERS": "2",
        "FIELDAPP_DB_WAIT_SECONDS": "20",
        **extra,
    }


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own 127.0.0.1
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def wait_until_healthy(url: str, process: subprocess.Popen, log: Path) -> tuple[int, bytes]:
    """Poll /healthz until it answers; fail with the server's output if it never does."""
    for _ in range(300):
        if process.poll() is not None:
            pytest.fail(f"the entrypoint exited ({process.returncode}):\n{log.read_text()}")
        try:
            return get(f"{url}/healthz")
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    pytest.fail(f"/healthz never answered:\n{log.read_text()}")


def stop(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown
    try:
        return process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        process.kill()
        raise


def run_entrypoint(tmp_path: Path, database_url: str):
    port = free_port()
    log = tmp_path / "entrypoint.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(ENTRYPOINT)],
            env=entrypoint_env(tmp_path, database_url, port),
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,  # not the repository: the script must find its own config
        )
    return process, f"http://127.0.0.1:{port}", log


def check_serving(tmp_path: Path, database_url: str) -> str:
    process, url, log = run_entrypoint(tmp_path, database_url)
    try:
        status, body = wait_until_healthy(url, process, log)
        assert (status, json.loads(body)) == (
            200,
            {"status": "ok", "database": "ok", "store": "ok"},
        )
        assert get(f"{url}/p/a-secret-participant-token")[0] == 404
        assert get(f"{url}/pamphlet")[0] == 200
    finally:
        assert stop(process) == 0
    output = log.read_text()
    assert "entrypoint: applying migrations" in output
    assert "Booting worker" in output
    assert (tmp_path / "data" / "media").is_dir()
    return output


def test_entrypoint_migrates_an_empty_sqlite_database_and_serves(tmp_path):
    database = tmp_path / "data" / "fieldapp.sqlite3"
    output = check_serving(tmp_path, f"sqlite:///{database}")
    assert database.exists()
    assert re.search(r'"GET /healthz HTTP/1.1" 200 \d+', output)  # the access log is on
    # ...and a participant's token never reaches it.
    assert "a-secret-participant-token" not in output
    assert '"GET /p/… HTTP/1.1" 404' in output


def test_entrypoint_migrates_an_empty_postgresql_database_and_serves(tmp_path, postgres_server):
    url = postgres_server.create_database("entrypoint")
    check_serving(tmp_path, url.replace("postgresql+psycopg://", "postgresql://"))
    import psycopg

    with psycopg.connect(host=str(postgres_server.socket_dir), port=postgres_server.port,
                         user="postgres", dbname="entrypoint") as connection:  # fmt: skip
        # The first text, and its layered successor with its two translations (b9a000000001).
        assert connection.execute("SELECT count(*) FROM consent_versions").fetchone() == (2,)
        translations = connection.execute("SELECT count(*) FROM consent_translations")
        assert translations.fetchone() == (2,)


def test_entrypoint_gives_up_on_an_unreachable_database_with_a_clear_message(tmp_path):
    closed = free_port()
    result = subprocess.run(
        [str(ENTRYPOINT)],
        env=entrypoint_env(
            tmp_path,
            f"postgresql://fieldapp@127.0.0.1:{closed}/fieldapp",
            free_port(),
            FIELDAPP_DB_WAIT_SECONDS="2",
        ),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "The database did not answer within 2 s" in result.stderr
    assert "applying migrations" not in result.stdout


def test_entrypoint_refuses_to_start_without_a_secret_key(tmp_path):
    env = entrypoint_env(tmp_path, f"sqlite:///{tmp_path / 'x.sqlite3'}", free_port())
    del env["FIELDAPP_SECRET_KEY"]
    result = subprocess.run(
        [str(ENTRYPOINT)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode != 0
    assert "FIELDAPP_SECRET_KEY is not set" in result.stderr


@pytest.mark.parametrize(
    ("line", "logged"),
    [
        ("GET /p/Zx9_abc-DEF HTTP/1.1", "GET /p/… HTTP/1.1"),
        ("/p/Zx9_abc/drawing.jpg?x=1", "/p/…/drawing.jpg?x=1"),
        ("https://example.org/p/Zx9#top", "https://example.org/p/…#top"),
        ("GET /gallery/3 HTTP/1.1", "GET /gallery/3 HTTP/1.1"),
    ],
)
def test_access_log_redacts_participant_tokens(line, logged):
    assert redact(line) == logged


def test_dockerfile_runs_the_entrypoint_as_a_user_with_a_healthcheck():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.\d+-slim$", dockerfile, re.M)
    user = re.findall(r"^USER (\S+)$", dockerfile, re.M)
    assert user and user[-1] not in {"root", "0"}
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    assert 'ENTRYPOINT ["/app/docker/entrypoint.sh"]' in dockerfile
    assert 'VOLUME ["/data"]' in dockerfile
    for source in re.findall(r"^COPY (\S+) ", dockerfile, re.M):
        assert (ROOT / source).exists(), f"the Dockerfile copies {source}, which does not exist"
    assert os.access(ENTRYPOINT, os.X_OK)


def test_deploy_guide_documents_every_setting_of_the_entrypoint_and_gunicorn():
    guide = (ROOT / "docs" / "DEPLOY.md").read_text()
    sources = (ROOT / "gunicorn.conf.py").read_text() + ENTRYPOINT.read_text()
    for name in set(re.findall(r"FIELDAPP_[A-Z_]+", sources)):
        assert name in guide, f"{name} is not documented in docs/DEPLOY.md"


def test_the_arbiter_prepares_the_app_and_hides_it_from_the_garbage_collector(app):
    """gunicorn.conf.py's when_ready, given the app the arbiter preloaded: every template
    compiled, and everything loaded frozen, so no worker's collection walks (and copies) it."""
    config = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    arbiter = SimpleNamespace(
        cfg=SimpleNamespace(preload_app=True), app=SimpleNamespace(wsgi=lambda: app)
    )
    app.jinja_env.cache.clear()
    try:
        config["when_ready"](arbiter)
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()
    compiled = {template.name for template in app.jinja_env.cache.values()}
    assert compiled == set(app.jinja_env.list_templates())


def serve_with_gunicorn(tmp_path: Path, migrated_db: Path, **extra: str):
    """The shipped gunicorn config on a free port of 127.0.0.1, one worker, a fresh database."""
    shutil.copy(migrated_db, tmp_path / "fieldapp.sqlite3")
    port = free_port()
    env = {
        **entrypoint_env(tmp_path, f"sqlite:///{tmp_path / 'fieldapp.sqlite3'}", port),
        "FIELDAPP_WORKERS": "1",
        "FIELDAPP_ACCESS_LOG": "off",
        **extra,
    }
    log = tmp_path / "gunicorn.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "gunicorn.conf.py"),
             "fieldapp:create_app()"],
            env=env, stdout=output, stderr=subprocess.STDOUT, cwd=tmp_path,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_until_healthy(url, process, log)
    return process, port


def answer_over_plain_http(port: int, path: str, headers: dict) -> http.client.HTTPResponse:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


@pytest.mark.parametrize(
    "header",
    [
        {"X-Forwarded-Proto": "https"},
        {"X-Forwarded-Ssl": "on"},
        {"X-Forwarded-Protocol": "ssl"},
    ],
)
def test_gunicorn_believes_no_forwarded_https_with_zero_proxy_hops(tmp_path, migrated_db, header):
    """Plain http from 127.0.0.1 claiming https: with FIELDAPP_PROXY_HOPS=0 nobody's forwarded
    header is believed, not even when FORWARDED_ALLOW_IPS (gunicorn's own trust) says anyone."""
    process, port = serve_with_gunicorn(
        tmp_path, migrated_db, FIELDAPP_PROXY_HOPS="0", FORWARDED_ALLOW_IPS="*"
    )
    try:
        response = answer_over_plain_http(port, "/setup", header)
    finally:
        assert stop(process) == 0
    assert response.status == 200
    assert response.getheader("Strict-Transport-Security") is None
    cookies = response.headers.get_all("Set-Cookie")
    assert cookies  # the setup form's CSRF token lives in the session cookie
    for cookie in cookies:
        attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert "secure" not in attributes, cookie
        assert {"httponly", "samesite=lax"} <= attributes, cookie


def test_gunicorn_leaves_forwarded_https_to_one_trusted_proxy_hop(tmp_path, migrated_db):
    """With FIELDAPP_PROXY_HOPS=1 (one proxy in front, which sets X-Forwarded-Proto) the same
    request is https: HSTS and Secure cookies. Gunicorn's other scheme headers still count for
    nothing: only the proxy's X-Forwarded-Proto, read by the app's ProxyFix."""
    process, port = serve_with_gunicorn(tmp_path, migrated_db, FIELDAPP_PROXY_HOPS="1")
    try:
        https = answer_over_plain_http(port, "/setup", {"X-Forwarded-Proto": "https"})
        other = answer_over_plain_http(port, "/setup", {"X-Forwarded-Ssl": "on"})
    finally:
        assert stop(process) == 0
    assert https.status == 200
    assert https.getheader("Strict-Transport-Security") == "max-age=63072000"
    cookies = https.headers.get_all("Set-Cookie")
    assert cookies
    for cookie in cookies:
        assert "secure" in {part.strip().lower() for part in cookie.split(";")[1:]}, cookie
    assert other.getheader("Strict-Transport-Security") is None
    for cookie in other.headers.get_all("Set-Cookie") or []:
        assert "secure" not in {part.strip().lower() for part in cookie.split(";")[1:]}, cookie
