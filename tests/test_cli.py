"""`flask --app fieldapp user create` and `token create`."""

from sqlalchemy import select

from fieldapp.auth.models import ApiToken, Collector
from fieldapp.extensions import db


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
