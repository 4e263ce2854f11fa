"""`flask --app fieldapp user create` and `token create`, and the key the commands use."""

import subprocess
from pathlib import Path

from sqlalchemy import select

from fieldapp.auth.models import ApiToken, Collector
from fieldapp.config import settings_from_environment
from fieldapp.extensions import db
from tests.checkout import make_checkout, newcomer_env
from tests.conftest import PASSWORD


def test_user_create_takes_the_password_from_the_environment(app):
    result = app.test_cli_runner().invoke(
        args=["user", "create", "max"], env={"FIELDAPP_PASSWORD": "a long enough password"}
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(Collector.username)) == "max"


def test_user_create_prompts_when_no_password_is_set(app, monkeypatch):
    monkeypatch.delenv("FIELDAPP_PASSWORD", raising=False)
    result = app.test_cli_runner().invoke(
        args=["user", "create", "max"], input="a long enough password\na long enough password\n"
    )
    assert result.exit_code == 0, result.output


def test_user_create_refuses_a_short_password(app):
    result = app.test_cli_runner().invoke(
        args=["user", "create", "max"], env={"FIELDAPP_PASSWORD": "short"}
    )
    assert result.exit_code != 0
    assert "at least 10 characters" in result.output


def test_token_create_prints_only_the_token_and_stores_its_hash(app, auth, client):
    auth.create_collector()
    result = app.test_cli_runner().invoke(args=["token", "create", "max"])
    assert result.exit_code == 0
    token = result.stdout.strip()
    assert "\n" not in token and len(token) >= 40
    with app.app_context():
        stored = db.session.scalar(select(ApiToken.token_sha256))
        assert stored != token and len(stored) == 64
    assert (
        client.get(
            "/api/v1/consent/current", headers={"Authorization": f"Bearer {token}"}
        ).status_code
        == 200
    )


def test_token_create_for_an_unknown_user_fails(app):
    result = app.test_cli_runner().invoke(args=["token", "create", "nobody"])
    assert result.exit_code != 0
    assert "No collector" in result.output


# The secret key of `flask --app fieldapp ...` commands ------------------------------------


def test_flask_commands_read_the_key_make_run_generated(tmp_path):
    (tmp_path / "secret_key").write_text("from the instance folder\n")
    command = {"FLASK_RUN_FROM_CLI": "true"}  # what Flask's own command line sets
    assert settings_from_environment(str(tmp_path), command)["SECRET_KEY"] == (
        "from the instance folder"
    )
    chosen = {**command, "FIELDAPP_SECRET_KEY": "from the environment"}
    assert settings_from_environment(str(tmp_path), chosen)["SECRET_KEY"] == (
        "from the environment"
    )
    # Any other server (gunicorn, the container) takes FIELDAPP_SECRET_KEY alone.
    assert settings_from_environment(str(tmp_path), {})["SECRET_KEY"] is None


def test_an_empty_key_file_is_no_key(tmp_path):
    (tmp_path / "secret_key").write_text("\n")
    settings = settings_from_environment(str(tmp_path), {"FLASK_RUN_FROM_CLI": "true"})
    assert settings["SECRET_KEY"] is None


def flask(checkout: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """`.venv/bin/flask --app fieldapp ARGS` as typed in the checkout, outside `make run`."""
    return subprocess.run(
        [str(checkout / ".venv" / "bin" / "flask"), "--app", "fieldapp", *args],
        cwd=checkout, env=newcomer_env(**env), capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip


def test_a_command_with_no_key_anywhere_says_so_in_one_line(tmp_path):
    checkout = make_checkout(tmp_path / "fieldapp")
    result = flask(checkout, "user", "create", "max", FIELDAPP_PASSWORD=PASSWORD)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("Error: FIELDAPP_SECRET_KEY is not set.")
    assert "instance/secret_key" in result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert not (checkout / "instance" / "fieldapp.sqlite3").exists()


def test_commands_outside_make_run_use_the_key_it_generated(tmp_path):
    checkout = make_checkout(tmp_path / "fieldapp")
    (checkout / "instance").mkdir()
    (checkout / "instance" / "secret_key").write_text("0123456789abcdef" * 4 + "\n")
    upgrade = flask(checkout, "db", "upgrade")
    assert upgrade.returncode == 0, upgrade.stderr
    created = flask(checkout, "user", "create", "max", FIELDAPP_PASSWORD=PASSWORD)
    assert created.returncode == 0, created.stderr
    assert "'max'" in created.stderr
    # ...but a server started otherwise does not pick the file up: it wants the variable.
    server = subprocess.run(
        [str(checkout / ".venv" / "bin" / "python"), "-c",
         "from fieldapp import create_app; create_app()"],
        cwd=checkout, env=newcomer_env(), capture_output=True, text=True, timeout=120,
        check=False,
    )  # fmt: skip
    assert server.returncode != 0
    assert "FIELDAPP_SECRET_KEY is not set" in server.stderr
