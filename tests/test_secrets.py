"""Every secret comes from `secrets` (or os.urandom) with at least 128 bits, and the database
holds only hashes of passwords and API tokens."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

from fieldapp import create_app
from fieldapp.extensions import db
from tests.conftest import PASSWORD, csrf_token_from

ROOT = Path(__file__).resolve().parent.parent
URLSAFE = re.compile(r"^[A-Za-z0-9_-]+$")


def bits_of_urlsafe(token: str) -> int:
    assert URLSAFE.match(token), token
    return len(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))) * 8


def every_stored_value(app) -> list[str]:
    """Every value of every column of every row, as text: what someone with the database has."""
    with app.app_context():
        return [
            str(value)
            for table in db.metadata.sorted_tables
            for row in db.session.execute(table.select())
            for value in row
        ]


def test_only_hashes_of_passwords_and_api_tokens_are_stored(app, client, auth):
    auth.create_collector()
    assert auth.login().status_code == 302
    page = client.get("/settings/consent")
    # An API token made through the page flow a phone uses (the CLI calls the same service).
    with app.app_context():
        from sqlalchemy import select

        from fieldapp.auth.models import ApiToken, Collector
        from fieldapp.auth.services import create_api_token

        collector = db.session.scalar(select(Collector))
        api_token = create_api_token(db.session, collector)
        db.session.commit()
        stored_hash = db.session.scalar(select(ApiToken.token_sha256))
        password_hash = db.session.scalar(select(Collector.password_hash))
    assert bits_of_urlsafe(api_token) >= 128
    assert stored_hash == hashlib.sha256(api_token.encode()).hexdigest()
    assert password_hash.startswith("scrypt:")
    csrf_token = csrf_token_from(page.text)
    for value in every_stored_value(app):
        assert PASSWORD not in value
        assert api_token not in value
        assert csrf_token not in value
    # The token still works: the hash is what it is checked against.
    response = client.get("/api/v1/session", headers={"Authorization": f"Bearer {api_token}"})
    assert response.status_code == 200


def test_participant_tokens_carry_at_least_128_random_bits(app, api_token, client):
    response = client.post(
        "/api/v1/tickets", json={"count": 20}, headers={"Authorization": f"Bearer {api_token}"}
    )
    tokens = [ticket["token"] for ticket in response.get_json()["tickets"]]
    assert len(set(tokens)) == 20
    for token in tokens:
        assert bits_of_urlsafe(token) >= 128
    # No shared prefix or pattern: each character position varies across twenty tokens.
    assert all(len({token[i] for token in tokens}) > 5 for i in range(16))


def test_generated_secret_key_and_csrf_secret_are_long(client):
    app = create_app({"TESTING": True, "SECRET_KEY": None, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    assert len(bytes.fromhex(app.config["SECRET_KEY"])) * 8 >= 256
    with client.session_transaction() as session:
        session.clear()
    assert client.get("/setup").status_code == 200  # a form, so a CSRF secret in the session
    with client.session_transaction() as session:
        raw = session["csrf_token"]
    # Flask-WTF: sha1 of os.urandom(64), signed with the secret key per form.
    assert len(bytes.fromhex(raw)) * 8 >= 128


def test_no_secret_comes_from_the_random_module():
    """`random` is predictable; every token in the package comes from `secrets`."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "fieldapp").rglob("*.py")
        if re.search(r"^\s*(import random|from random import)", path.read_text(), re.M)
    ]
    assert offenders == []
    sources = "\n".join(p.read_text() for p in (ROOT / "fieldapp").rglob("*.py"))
    for call in re.findall(r"secrets\.token_(?:urlsafe|hex|bytes)\((\w*)\)", sources):
        if call.isdigit():
            assert int(call) >= 16, call  # bytes
