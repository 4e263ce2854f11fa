"""Configuration, health, migrations and the documentation that must stay true."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from fieldapp import create_app
from fieldapp.config import ConfigError, settings_from_environment

ROOT = Path(__file__).resolve().parent.parent


def test_defaults_work_on_a_laptop(tmp_path):
    settings = settings_from_environment(str(tmp_path), {})
    assert settings["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'fieldapp.sqlite3'}"
    assert settings["MEDIA_DIR"] == str(tmp_path / "media")
    assert settings["PUBLIC_URL"] is None


def test_environment_overrides_defaults(tmp_path):
    settings = settings_from_environment(
        str(tmp_path),
        {
            "FIELDAPP_DATABASE_URL": "postgresql://db/fieldapp",
            "FIELDAPP_MEDIA_DIR": "/srv/media",
            "FIELDAPP_PUBLIC_URL": "https://example.org/",
            "FIELDAPP_SECRET_KEY": "s",
        },
    )
    assert settings["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://db/fieldapp"
    assert settings["MEDIA_DIR"] == "/srv/media"
    assert settings["PUBLIC_URL"] == "https://example.org"


def test_refuses_to_start_without_a_secret_key_outside_debug_and_testing(monkeypatch):
    monkeypatch.delenv("FIELDAPP_SECRET_KEY", raising=False)
    monkeypatch.delenv("FLASK_DEBUG", raising=False)
    with pytest.raises(ConfigError, match="FIELDAPP_SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})


def test_bad_number_setting_fails_with_its_name(tmp_path):
    with pytest.raises(ConfigError, match="FIELDAPP_MAX_PHOTO_BYTES"):
        settings_from_environment(str(tmp_path), {"FIELDAPP_MAX_PHOTO_BYTES": "lots"})


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "store": "ok"}


def test_migrations_upgrade_an_empty_database_and_match_the_models(tmp_path):
    env = {
        "FIELDAPP_SECRET_KEY": "check",
        "FIELDAPP_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        "PATH": "/usr/bin:/bin",
    }
    flask = [sys.executable, "-m", "flask", "--app", "fieldapp", "db"]
    upgrade = subprocess.run([*flask, "upgrade"], env=env, cwd=ROOT, capture_output=True, text=True)
    assert upgrade.returncode == 0, upgrade.stderr
    check = subprocess.run([*flask, "check"], env=env, cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    assert "No new upgrade operations detected" in check.stdout + check.stderr


def test_every_setting_is_documented_in_the_readme():
    config_source = (ROOT / "fieldapp" / "config.py").read_text()
    readme = (ROOT / "README.md").read_text()
    settings = set(re.findall(r'"(FIELDAPP_[A-Z_]+)"', config_source))
    assert settings, "config.py reads no FIELDAPP_ settings?"
    assert {s for s in settings if s not in readme} == set()


def test_every_api_route_is_documented(app):
    docs = (ROOT / "README.md").read_text() + (ROOT / "docs" / "ARCHITECTURE.md").read_text()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", rule.rule)
            assert path in docs, f"{path} is not documented"


def test_pamphlet_is_real_prose_with_sources(client):
    page = client.get("/pamphlet")
    assert page.status_code == 200
    text = re.sub(r"<[^>]+>", " ", page.text)
    assert len(text.split()) > 1200
    for section in (
        "crowd-work",
        "scraping",
        "the-cost",
        "this-collection",
        "what-you-can-do",
        "sources",
    ):
        assert f'id="{section}"' in page.text
    assert page.text.count('id="src-') >= 10
    assert "10,000" in text
    assert "@media print" in (ROOT / "static" / "css" / "pamphlet.css").read_text()
