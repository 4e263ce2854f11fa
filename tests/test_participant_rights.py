"""What a drawer can do from their QR link alone: change choices, go anonymous, withdraw."""

from __future__ import annotations

import uuid as uuidlib
from pathlib import Path

import pytest
from sqlalchemy import event, func, select, text

from fieldapp.consent.models import ConsentEvent
from fieldapp.encounters.models import Encounter
from fieldapp.encounters.services import encounter_by_uuid
from fieldapp.extensions import db
from fieldapp.media.models import Photo
from fieldapp.media.services import media_store, photo_file_names
from fieldapp.tickets.models import Ticket
from fieldapp.withdrawal.services import withdraw
from tests.factories import (
    count_rows,
    encounter_data,
    make_encounter,
    number_of,
    put_encounter,
    small_jpeg,
    stored_files,
    token_of,
)
from tests.helpers import post_choices, withdraw_through_the_page

NAME = "Zephyrine Quist"


def state(app, client_uuid: str) -> dict:
    with app.app_context():
        e = encounter_by_uuid(db.session, client_uuid)
        events = db.session.scalar(select(func.count()).where(ConsentEvent.encounter_id == e.id))
        return {
            "gallery": e.gallery,
            "training": e.training,
            "social": e.social,
            "credit_name": e.credit_name,
            "events": events,
            "withdrawn": e.is_withdrawn,
        }


def cells_containing(app, needle: str) -> list[str]:
    """Every table.column of the database holding `needle`, found with plain SQL."""
    found = []
    with app.app_context():
        tables = db.session.scalars(
            text("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        ).all()
        for table in tables:
            columns = text("SELECT name FROM pragma_table_info(:t)")
            for col in db.session.scalars(columns, {"t": table}):
                # Names come from sqlite_master itself, not from input.
                query = f'SELECT count(*) FROM "{table}" WHERE CAST("{col}" AS TEXT) LIKE :n'  # noqa: S608
                hits = db.session.scalar(
                    text(query),
                    {"n": f"%{needle}%"},
                )
                if hits:
                    found.append(f"{table}.{col}")
    return found


# Choices ---------------------------------------------------------------------------------


def test_the_drawer_changes_choices_through_the_real_form(app, client):
    client_uuid = make_encounter(app, photo=small_jpeg())  # gallery yes, the rest no
    token = token_of(app, client_uuid)
    page = client.get(f"/p/{token}")
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert f'href="/p/{token}/choices"' in page.text
    form = client.get(f"/p/{token}/choices")
    assert form.headers["Referrer-Policy"] == "no-referrer"
    assert f'action="/p/{token}/choices"' in form.text
    response = post_choices(
        client, token, training="y", social="y", credit="name", credit_name=NAME
    )
    assert response.status_code == 302
    assert state(app, client_uuid) == {
        "gallery": False,  # an unticked box is a no
        "training": True,
        "social": True,
        "credit_name": NAME,
        "events": 2,
        "withdrawn": False,
    }
    with app.app_context():
        last = db.session.scalars(select(ConsentEvent).order_by(ConsentEvent.id.desc())).first()
        assert (last.kind, last.actor, last.method) == ("change", "participant", "participant_page")
        assert last.credited is True
    after = client.get(f"/p/{token}")
    assert "Saved" in after.text and NAME in after.text
    assert after.headers["Referrer-Policy"] == "no-referrer"


def test_saving_the_same_choices_adds_no_event(app, client):
    client_uuid = make_encounter(app, photo=small_jpeg())
    token = token_of(app, client_uuid)
    post_choices(client, token, gallery="y", credit="anonymous")
    assert state(app, client_uuid)["events"] == 1
    assert "Nothing changed" in client.get(f"/p/{token}").text


def test_a_form_without_csrf_token_is_refused_and_changes_nothing(app, client):
    client_uuid = make_encounter(app, photo=small_jpeg())
    token = token_of(app, client_uuid)
    before = state(app, client_uuid)
    response = client.post(f"/p/{token}/choices", data={"training": "y", "credit": "anonymous"})
    assert response.status_code == 400
    assert state(app, client_uuid) == before
    assert client.post(f"/p/{token}/withdraw").status_code == 400
    assert state(app, client_uuid) == before
    assert len(stored_files(app)) == 3


def test_credit_by_name_needs_a_name(app, client):
    client_uuid = make_encounter(app, photo=small_jpeg())
    token = token_of(app, client_uuid)
    response = post_choices(client, token, gallery="y", credit="name", credit_name="   ")
    assert response.status_code == 422
    assert "Write the name to show" in response.text
    assert state(app, client_uuid)["events"] == 1


def test_going_anonymous_erases_the_name_from_every_column_of_every_table(app, client):
    client_uuid = make_encounter(app, photo=small_jpeg(), credit_name=NAME)
    token = token_of(app, client_uuid)
    assert cells_containing(app, "Zephyrine") == ["encounters.credit_name"]  # the scan works
    assert post_choices(client, token, gallery="y", credit="anonymous").status_code == 302
    assert cells_containing(app, "Zephyrine") == []
    assert state(app, client_uuid)["credit_name"] is None
    page = client.get(f"/p/{token}").text
    assert "anonymous" in page and "Zephyrine" not in page


# Withdrawal ------------------------------------------------------------------------------


@pytest.fixture
def withdrawn(app, client):
    """A kept, credited, gallery drawing withdrawn through the real pages."""
    data_photo = small_jpeg((10, 120, 30))
    client_uuid = make_encounter(app, photo=data_photo, credit_name=NAME, notes="red scarf")
    token = token_of(app, client_uuid)
    assert len(stored_files(app)) == 3
    response = withdraw_through_the_page(client, token)
    assert response.status_code == 302 and response.headers["Location"] == f"/p/{token}"
    return {"uuid": client_uuid, "token": token, "number": number_of(app, client_uuid)}


def test_withdrawal_leaves_a_tombstone_and_no_file(app, client, withdrawn):
    assert stored_files(app) == []
    assert count_rows(app, Photo) == 0
    with app.app_context():
        e = encounter_by_uuid(db.session, withdrawn["uuid"])
        assert e.is_withdrawn and e.number == withdrawn["number"]
        assert (e.credit_name, e.notes) == (None, "")
        assert (e.keep, e.gallery, e.training, e.social) == (False, False, False, False)
    assert cells_containing(app, "Zephyrine") == []
    for erased in ("red scarf", "pool night", "New York"):  # notes, occasion, city
        assert cells_containing(app, erased) == []
    page = client.get(f"/p/{withdrawn['token']}")
    assert page.status_code == 200
    assert "Withdrawn" in page.text and f"#{withdrawn['number']}" in page.text
    assert "<img" not in page.text and "/choices" not in page.text
    for suffix in ("drawing.jpg", "thumb.jpg"):
        assert client.get(f"/p/{withdrawn['token']}/{suffix}").status_code == 410
    # Asking again leads back to the tombstone.
    assert client.get(f"/p/{withdrawn['token']}/withdraw").status_code == 302


def test_withdrawn_drawing_is_gone_from_the_collectors_pages(app, client, logged_in, withdrawn):
    log = client.get("/encounters").text
    assert f"#{withdrawn['number']}" in log and "withdrawn" in log
    assert "/photo/" not in log and NAME not in log
    detail = client.get(f"/encounters/{withdrawn['uuid']}").text
    assert "Withdrawn by its drawer" in detail and "<img" not in detail
    for variant in ("archive", "display", "thumb"):
        assert client.get(f"/encounters/{withdrawn['uuid']}/photo/{variant}").status_code == 404


def test_withdrawn_drawing_is_gone_from_the_gallery(client, withdrawn):
    number = withdrawn["number"]
    gallery = client.get("/gallery").text
    assert f'href="/gallery/{number}"' not in gallery and "No drawing is in the gallery" in gallery
    for path in (
        f"/gallery/{number}",
        f"/gallery/{number}/display.jpg",
        f"/gallery/{number}/thumb.jpg",
    ):
        assert client.get(path).status_code == 404


def test_api_answers_410_and_a_late_upload_stores_nothing(app, client, api_token, withdrawn):
    headers = {"Authorization": f"Bearer {api_token}"}
    got = client.get(f"/api/v1/encounters/{withdrawn['uuid']}", headers=headers)
    assert got.status_code == 410 and "withdrawn" in got.get_json()["error"]
    late = put_encounter(
        client, api_token, withdrawn["uuid"], encounter_data(), small_jpeg((10, 120, 30))
    )
    assert late.status_code == 410
    assert "withdrawn" in late.get_json()["error"]
    assert stored_files(app) == [] and count_rows(app, Photo) == 0
    # The same ticket under a new UUID cannot bring the drawing back either.
    again = put_encounter(
        client,
        api_token,
        str(uuidlib.uuid4()),
        encounter_data(ticket=withdrawn["token"]),
        small_jpeg((10, 120, 31)),
    )
    assert again.status_code == 410
    assert stored_files(app) == [] and count_rows(app, Encounter) == 1


def test_a_ticket_withdrawn_before_its_upload_arrives_refuses_the_upload(app, client, api_token):
    headers = {"Authorization": f"Bearer {api_token}"}
    ticket = client.post("/api/v1/tickets", json={"count": 1}, headers=headers).get_json()[
        "tickets"
    ][0]
    assert withdraw_through_the_page(client, ticket["token"]).status_code == 302
    assert "Withdrawn" in client.get(f"/p/{ticket['token']}").text
    late = put_encounter(
        client,
        api_token,
        str(uuidlib.uuid4()),
        encounter_data(ticket=ticket["token"]),
        small_jpeg(),
    )
    assert late.status_code == 410
    assert f"#{ticket['number']}" in late.get_json()["error"]
    assert count_rows(app, Encounter) == 0 and stored_files(app) == []


def test_a_failed_commit_keeps_the_drawing_and_its_files(app):
    client_uuid = make_encounter(app, photo=small_jpeg())
    files = stored_files(app)

    def fail_on_the_withdrawal(session):
        if session.scalar(select(func.count()).where(Ticket.withdrawn_at.is_not(None))):
            raise OSError("disk full")

    with app.app_context():
        event.listen(db.session, "before_commit", fail_on_the_withdrawal)
        try:
            ticket = encounter_by_uuid(db.session, client_uuid).ticket
            with pytest.raises(OSError):
                withdraw(db.session, media_store(), ticket)
        finally:
            event.remove(db.session, "before_commit", fail_on_the_withdrawal)
    assert stored_files(app) == files
    assert count_rows(app, Photo) == 1
    assert state(app, client_uuid)["withdrawn"] is False


def test_a_file_another_photo_shares_is_kept(app):
    """Files are content-addressed: a withdrawal deletes only files no other row points at."""
    keep_uuid = make_encounter(app, photo=small_jpeg())
    gone_uuid = make_encounter(app, photo=small_jpeg((200, 30, 31)))
    with app.app_context():
        kept = encounter_by_uuid(db.session, keep_uuid).photo
        gone = encounter_by_uuid(db.session, gone_uuid).photo
        gone_own = [gone.archive_name, gone.display_name]
        gone.thumb_name = kept.thumb_name  # as if both thumbnails came out byte-identical
        db.session.commit()
        withdraw(db.session, media_store(), encounter_by_uuid(db.session, gone_uuid).ticket)
        store = media_store()
        assert all(store.path(n).exists() for n in photo_file_names(kept))
        assert not any(store.path(n).exists() for n in gone_own)


def test_an_erased_name_is_not_left_in_the_database_file(live_app):
    """Not only no row: no bytes either (secure_delete, which Debian builds also default to)."""

    client_uuid = make_encounter(live_app, photo=small_jpeg(), credit_name=NAME)
    client = live_app.test_client()
    assert (
        post_choices(client, token_of(live_app, client_uuid), credit="anonymous").status_code == 302
    )
    with live_app.app_context():
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.commit()
        database = Path(db.engine.url.database)
    for path in (database, database.with_name(database.name + "-wal")):
        if path.exists():
            assert NAME.encode() not in path.read_bytes(), path.name


def test_after_going_anonymous_a_retried_upload_is_acknowledged_and_stores_no_name(
    app, client, api_token
):
    """The upload's fingerprint hashed the name too, so it is erased with it; a retry of the
    original upload (its response was lost) still gets 200, and brings no name back."""
    client_uuid, data, photo = (
        str(uuidlib.uuid4()),
        encounter_data(credit={"name": NAME}),
        small_jpeg(),
    )
    token = put_encounter(client, api_token, client_uuid, data, photo).get_json()["token"]
    with app.app_context():
        fingerprint = encounter_by_uuid(db.session, client_uuid).data_sha256
    assert post_choices(client, token, gallery="y", credit="anonymous").status_code == 302
    assert cells_containing(app, fingerprint) == []
    retry = put_encounter(client, api_token, client_uuid, data, photo)
    assert retry.status_code == 200
    assert cells_containing(app, "Zephyrine") == []
    assert len(stored_files(app)) == 3


def test_a_form_without_a_credit_choice_is_explained(app, client):
    client_uuid = make_encounter(app, photo=small_jpeg())
    response = post_choices(client, token_of(app, client_uuid), gallery="y")
    assert response.status_code == 422
    assert "Choose: credit by name, or anonymous." in response.text
    assert state(app, client_uuid)["events"] == 1
