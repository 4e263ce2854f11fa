"""First run: `make run` says which address to open before anyone else makes themselves the
collector (`python -m fieldapp.first_run HOST PORT`), and the README says it loudly too."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from fieldapp import create_app
from fieldapp.auth.services import create_collector
from fieldapp.extensions import db
from fieldapp.first_run import main, needs_setup, setup_url
from tests.conftest import PASSWORD, app_config

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(
    ("host", "port", "url"),
    [
        ("127.0.0.1", "5000", "http://127.0.0.1:5000/setup"),
        ("localhost", 5001, "http://localhost:5001/setup"),
        ("0.0.0.0", "8080", "http://127.0.0.1:8080/setup"),  # noqa: S104 - a name here
        ("::", "5000", "http://127.0.0.1:5000/setup"),
        ("::1", "5000", "http://[::1]:5000/setup"),
        ("192.168.1.20", "5000", "http://192.168.1.20:5000/setup"),
    ],
)
def test_the_setup_address_is_one_a_browser_on_this_machine_opens(host, port, url):
    assert setup_url(host, port) == url


def test_a_new_database_needs_setup_and_asking_raises_nothing(tmp_path):
    app = create_app(app_config(tmp_path))  # no database file at all, no tables
    assert needs_setup(app) is True


def test_setup_is_needed_until_the_first_account_exists(tmp_path, migrated_db):
    shutil.copy(migrated_db, tmp_path / "fieldapp.sqlite3")
    app = create_app(app_config(tmp_path))
    assert needs_setup(app) is True
    with app.app_context():
        create_collector(db.session, "max", PASSWORD)
        db.session.commit()
    assert needs_setup(app) is False


@pytest.fixture
def laptop_env(monkeypatch, tmp_path):
    """The environment `make run` gives the check: a key, and the instance's database."""
    for name in ("FLASK_DEBUG", "FLASK_RUN_FROM_CLI", "FIELDAPP_PUBLIC_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FIELDAPP_SECRET_KEY", "first run test secret")
    monkeypatch.setenv("FIELDAPP_DATABASE_URL", f"sqlite:///{tmp_path / 'fieldapp.sqlite3'}")
    monkeypatch.setenv("FIELDAPP_MEDIA_DIR", str(tmp_path / "media"))
    return monkeypatch


def test_the_check_prints_the_exact_address_while_no_account_exists(laptop_env, capsys):
    assert main(["127.0.0.1", "5001"]) == 0
    printed = capsys.readouterr().out
    assert "Open http://127.0.0.1:5001/setup now" in printed
    assert "whoever opens it first" in printed and "becomes the collector" in printed


def test_the_check_prints_nothing_once_an_account_exists(laptop_env, tmp_path, migrated_db, capsys):
    shutil.copy(migrated_db, tmp_path / "fieldapp.sqlite3")
    app = create_app({"TESTING": True})
    with app.app_context():
        create_collector(db.session, "max", PASSWORD)
        db.session.commit()
        db.engine.dispose()
    assert main(["127.0.0.1", "5000"]) == 0
    assert capsys.readouterr().out == ""


def test_the_check_explains_a_missing_secret_key_in_one_line(laptop_env, capsys):
    laptop_env.delenv("FIELDAPP_SECRET_KEY")
    assert main(["127.0.0.1", "5000"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("Error: FIELDAPP_SECRET_KEY is not set") and err.count("\n") == 1


def test_the_readme_says_loudly_who_becomes_the_collector():
    readme = (ROOT / "README.md").read_text()
    quick_start = readme.split("## Quick start")[1].split("\n## ")[0]
    warning = re.search(r"\*\*[^*]*/setup[^*]*\*\*", quick_start)
    assert warning, "the quick start must say it in bold"
    assert "first" in warning.group(0) and "collector" in warning.group(0)
    assert "make run PORT=" in quick_start and "make help" in quick_start
