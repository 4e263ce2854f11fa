"""The collector's dataset pages: settings, the streamed download, past exports."""

from __future__ import annotations

import io
import json
import zipfile

from fieldapp.dataset.services import dataset_settings
from fieldapp.extensions import db
from tests.dataset_fixtures import make_collection

SETTINGS = {
    "license": "CC-BY-4.0",
    "pretty_name": "Let Me Collect Myself",
    "creator": "Max Field",
    "contact": "max@example.org",
    "size": "",
    "answer_purpose": "To show that a dataset can be made with consent and credit.",
    "answer_uses": "Research on drawing styles; art.",
}


def test_dataset_pages_are_the_collectors_only(client):
    for path in ("/settings/dataset", "/dataset/export", "/dataset/exports"):
        assert client.get(path).status_code in (302, 401)


def test_settings_are_written_once_and_used_by_the_card(app, client, logged_in):
    make_collection(app)
    response = client.post(
        "/settings/dataset", data=SETTINGS | {"csrf_token": logged_in.csrf_token()}
    )
    assert response.status_code == 302
    with app.app_context():
        saved = dataset_settings(db.session)
        assert saved.license == "CC-BY-4.0" and saved.default_size is None
        assert saved.answers["uses"] == "Research on drawing styles; art."
    response = client.post(
        "/dataset/export",
        data={"kind": "training", "size": "", "csrf_token": logged_in.csrf_token()},
    )
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_data()
    assert int(response.headers["Content-Length"]) == len(body)
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        card = archive.read("README.md").decode()
        croissant = json.loads(archive.read("croissant.json"))
        rows = archive.read("train/metadata.jsonl").decode().splitlines()
    assert "license: cc-by-4.0" in card and "Let Me Collect Myself" in card
    assert "Research on drawing styles; art." in card
    assert croissant["url"] == "mailto:max@example.org"
    assert len(rows) == 2


def test_bad_settings_and_options_get_a_message_and_change_nothing(app, client, logged_in):
    for bad in ({"license": "WTFPL"}, {"size": "12"}, {"size": "huge"}):
        response = client.post(
            "/settings/dataset", data=SETTINGS | bad | {"csrf_token": logged_in.csrf_token()}
        )
        assert response.status_code == 422, bad
    with app.app_context():
        assert dataset_settings(db.session).id is None  # never saved
    response = client.post(
        "/dataset/export", data={"kind": "everything", "csrf_token": logged_in.csrf_token()}
    )
    assert response.status_code == 422
    response = client.post("/dataset/export", data={"kind": "training"})  # no CSRF token
    assert response.status_code == 400


def test_past_exports_list_the_numbers_withdrawn_since(app, client, logged_in, tmp_path):
    from fieldapp.consent.services import withdraw
    from fieldapp.media.services import media_store
    from fieldapp.tickets.models import Ticket

    collection = make_collection(app)
    result = app.test_cli_runner().invoke(args=["export", "dataset", str(tmp_path / "o.zip")])
    assert result.exit_code == 0
    page = client.get("/dataset/exports").text
    assert "None withdrawn since" in page and "2 drawings" in page
    with app.app_context():
        ticket = db.session.query(Ticket).filter_by(number=collection.anonymous).one()
        withdraw(db.session, media_store(), ticket)
    page = client.get("/dataset/exports").text
    assert "1 withdrawn since:" in page and f"#{collection.anonymous}" in page
    export_page = client.get("/dataset/export").text
    assert 'id="count-training">1<' in export_page and 'id="count-archive">2<' in export_page
