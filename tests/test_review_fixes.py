"""Fixing an encounter after hours: edits with a reason and their history, renumbering,
attaching a printed ticket, replacing the photo; a tombstone refuses them all."""

from __future__ import annotations

import io
import uuid as uuidlib

from PIL import Image
from sqlalchemy import select

from fieldapp.encounters.models import Encounter, EncounterRevision
from fieldapp.encounters.services import encounter_by_uuid
from fieldapp.extensions import db
from fieldapp.tickets.models import Ticket
from fieldapp.tickets.services import reserve_tickets
from fieldapp.tickets.sheet import reserve_sheet
from tests.conftest import csrf_token_from
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
from tests.helpers import changes_of, edit_fields, form_post
from tests.photo_corpus import camera_jpeg


def test_an_edit_with_a_reason_is_saved_and_shown_in_the_history(app, client, logged_in):
    uuid = make_encounter(app, credit_name="Ana Lma", notes="")
    response = form_post(
        client,
        uuid,
        "edit",
        edit_fields(
            **{
                "edit-venue_type": "party",
                "edit-city": "Brooklyn",
                "edit-credit_name": "Ana Lima",
                "edit-drawing_started_at": "2026-04-10T21:05:00",
                "edit-drawing_finished_at": "2026-04-10T21:07:30",
                "edit-notes": "brought her own pen",
                "edit-reason": "fixed after the night",
            }
        ),
    )
    assert response.status_code == 302
    with app.app_context():
        e = encounter_by_uuid(db.session, uuid)
        assert (e.venue_type, e.city, e.credit_name, e.notes) == (
            "party", "Brooklyn", "Ana Lima", "brought her own pen",
        )  # fmt: skip
        assert e.drawing_seconds == 150
    changes = changes_of(app, uuid)
    fields = {c[3]: (c[4], c[5]) for c in changes}
    assert fields["venue_type"] == ("bar", "party")
    assert fields["city"] == ("New York", "Brooklyn")
    assert fields["credit_name"] == ("Ana Lma", "Ana Lima")
    assert {c[1] for c in changes} == {"fixed after the night"}
    assert all(c[2] is not None for c in changes)  # who
    html = client.get(f"/encounters/{uuid}").text
    assert "Edit history" in html and "by max" in html and "Reason: fixed after the night" in html
    assert "<del>New York</del> → <ins>Brooklyn</ins>" in html


def test_an_edit_without_a_reason_changes_nothing(app, client, logged_in):
    uuid = make_encounter(app)
    response = form_post(
        client, uuid, "edit", edit_fields(**{"edit-city": "Paris", "edit-reason": ""})
    )
    assert response.status_code == 422
    assert "Say why" in response.text
    with app.app_context():
        assert encounter_by_uuid(db.session, uuid).city == "New York"
    assert count_rows(app, EncounterRevision) == 0


def test_a_name_cannot_be_written_for_an_anonymous_drawer(app, client, logged_in):
    uuid = make_encounter(app)  # anonymous
    html = client.get(f"/encounters/{uuid}").text
    assert 'name="edit-credit_name"' not in html
    response = form_post(client, uuid, "edit", edit_fields(**{"edit-credit_name": "Sneaky"}))
    assert response.status_code == 302
    with app.app_context():
        assert encounter_by_uuid(db.session, uuid).credit_name is None


def test_bad_edits_are_refused_with_a_message(app, client, logged_in):
    uuid = make_encounter(app)
    bad = edit_fields(**{
        "edit-drawing_started_at": "2026-04-10T21:10:00",
        "edit-drawing_finished_at": "2026-04-10T21:05:00",
    })  # fmt: skip
    response = form_post(client, uuid, "edit", bad)
    assert response.status_code == 422 and "cannot finish before it started" in response.text
    response = form_post(client, uuid, "edit", edit_fields(**{"edit-venue_type": "castle"}))
    assert response.status_code == 422
    assert count_rows(app, EncounterRevision) == 0


def test_anonymity_and_withdrawal_erase_personal_values_from_the_history(app, client, logged_in):
    uuid = make_encounter(app, credit_name="Ana Lma")
    form_post(client, uuid, "edit", edit_fields(**{
        "edit-credit_name": "Ana Lima", "edit-venue": "Ana's wedding", "edit-reason": "Ana's spelling",
    }))  # fmt: skip
    from fieldapp.consent.services import update_choices
    from fieldapp.media.services import media_store
    from fieldapp.withdrawal.services import withdraw

    with app.app_context():
        e = encounter_by_uuid(db.session, uuid)
        update_choices(db.session, e, actor="participant", method="participant_page",
                       gallery=True, training=False, social=False, credit_name=None)  # fmt: skip
    values = {c[3]: (c[4], c[5]) for c in changes_of(app, uuid)}
    assert values["credit_name"] == ("(erased)", "(erased)")
    assert values["venue"] == ("pool night", "Ana's wedding")  # not yet withdrawn
    with app.app_context():
        withdraw(db.session, media_store(), encounter_by_uuid(db.session, uuid).ticket)
    for _kind, reason, _who, _field, old, new in changes_of(app, uuid):
        assert "Ana" not in reason + old + new
    html = client.get(f"/encounters/{uuid}").text
    assert "Ana" not in html and "Edit history" in html


def test_a_tombstone_cannot_be_edited_renumbered_or_given_a_photo(app, client, logged_in):
    uuid = make_encounter(app, withdrawn=True)
    html = client.get(f"/encounters/{uuid}").text
    assert "Edit the details" not in html and "Renumber" not in html
    token = csrf_token_from(client.get("/").text)
    for action, fields in [
        ("edit", edit_fields(**{"edit-city": "Paris"})),
        ("renumber", {"renumber-number": "99", "renumber-reason": "x"}),
        ("ticket", {"attach-number": "99", "attach-reason": "x"}),
    ]:
        response = client.post(f"/encounters/{uuid}/{action}", data={**fields, "csrf_token": token})
        assert response.status_code == 409 and "tombstone" in response.text
    with app.app_context():
        e = encounter_by_uuid(db.session, uuid)
        assert (e.city, e.number) == ("", 1)


def renumber(client, uuid, number, swap=False, reason="written wrong on the back"):
    fields = {"renumber-number": str(number), "renumber-reason": reason}
    if swap:
        fields["renumber-swap"] = "y"
    return form_post(client, uuid, "renumber", fields)


def test_renumber_to_a_free_number_keeps_the_token(app, client, logged_in):
    uuid = make_encounter(app)
    token = token_of(app, uuid)
    assert renumber(client, uuid, 57).status_code == 302
    assert number_of(app, uuid) == 57 and token_of(app, uuid) == token
    assert "#57" in client.get(f"/p/{token}").text
    assert changes_of(app, uuid)[0][:2] == ("renumber", "written wrong on the back")
    assert changes_of(app, uuid)[0][3:] == ("number", "1", "57")


def test_renumber_onto_a_taken_number_is_refused_and_nothing_changes(app, client, logged_in):
    first, second = make_encounter(app), make_encounter(app)
    response = renumber(client, first, 2)
    assert response.status_code == 409
    assert "#2 is already taken by another drawing; nothing was changed" in response.text
    assert (number_of(app, first), number_of(app, second)) == (1, 2)
    response = renumber(client, first, 5, reason="")
    assert response.status_code == 422 and number_of(app, first) == 1
    with app.app_context():
        reserve_tickets(db.session, 1, None)  # #3, on a phone or a printed sheet
        db.session.commit()
    response = renumber(client, first, 3, swap=True)
    assert response.status_code == 409 and "reserved ticket" in response.text
    assert count_rows(app, EncounterRevision) == 0


def test_swap_two_drawings_numbers_in_one_go(app, client, logged_in):
    first, second = make_encounter(app), make_encounter(app)
    tokens = token_of(app, first), token_of(app, second)
    assert renumber(client, first, 2, swap=True).status_code == 302
    assert (number_of(app, first), number_of(app, second)) == (2, 1)
    assert (token_of(app, first), token_of(app, second)) == tokens
    assert changes_of(app, second)[0][3:] == ("number", "2", "1")


def test_attach_a_printed_ticket_so_its_token_leads_to_the_drawing(app, client, logged_in):
    uuid = make_encounter(app)  # logged on the phone with ticket #1
    old_token = token_of(app, uuid)
    with app.app_context():
        label = reserve_sheet(db.session, pages=1, base_url="https://x.test", collector_id=None)[1]
    assert label.number == 3  # the second label of a printed sheet
    printed_token = label.url.rsplit("/", 1)[-1]
    assert "on its way" in client.get(f"/p/{printed_token}").text.lower()
    response = form_post(
        client, uuid, "ticket", {"attach-number": "3", "attach-reason": "drawer got label #3"}
    )
    assert response.status_code == 302
    assert number_of(app, uuid) == 3 and token_of(app, uuid) == printed_token
    page = client.get(f"/p/{printed_token}")
    assert page.status_code == 200 and "#3" in page.text
    assert client.get(f"/p/{old_token}").status_code == 404  # the retired ticket leads nowhere
    with app.app_context():
        retired = db.session.scalar(select(Ticket).where(Ticket.token == old_token))
        assert retired.number == 1 and retired.retired_at is not None
    assert changes_of(app, uuid)[0][3:] == ("number", "1", "3")


def test_attaching_a_used_or_unknown_ticket_is_refused(app, client, logged_in):
    first, second = make_encounter(app), make_encounter(app)
    response = form_post(client, first, "ticket", {"attach-number": "2", "attach-reason": "x"})
    assert response.status_code == 409 and "already belongs to another drawing" in response.text
    response = form_post(client, first, "ticket", {"attach-number": "40", "attach-reason": "x"})
    assert response.status_code == 409 and "No ticket #40" in response.text
    assert (number_of(app, first), number_of(app, second)) == (1, 2)


def test_a_ticket_in_a_phones_stock_is_not_attached_and_its_drawing_still_arrives(
    app, client, logged_in, api_token
):
    """Only printed tickets may be attached: an unused ticket may be in a phone's stock, whose
    QR code the next drawer gets; attached elsewhere, two drawers would share one link."""
    uuid = make_encounter(app)  # #1
    stock = client.post(
        "/api/v1/tickets", json={"count": 2}, headers={"Authorization": f"Bearer {api_token}"}
    ).get_json()["tickets"]
    assert [ticket["number"] for ticket in stock] == [2, 3]
    response = form_post(client, uuid, "ticket", {"attach-number": "3", "attach-reason": "x"})
    assert response.status_code == 409
    assert "Ticket #3 was not printed on a ticket sheet" in response.text
    assert number_of(app, uuid) == 1 and count_rows(app, EncounterRevision) == 0
    later = str(uuidlib.uuid4())  # the phone hands ticket #3 to the next drawer
    response = put_encounter(client, api_token, later, encounter_data(ticket=stock[1]["token"]))
    assert response.status_code == 201 and number_of(app, later) == 3
    assert "#3" in client.get(f"/p/{stock[1]['token']}").text


def replace(client, uuid, photo: bytes, reason="retaken in daylight"):
    return form_post(
        client,
        uuid,
        "photo",
        {"retake-photo": (io.BytesIO(photo), "new.jpg", "image/jpeg"), "retake-reason": reason},
        content_type="multipart/form-data",
    )


def test_replacing_the_photo_removes_the_old_files_and_keeps_no_exif(app, client, logged_in):
    uuid = make_encounter(app, photo=small_jpeg())
    old_files = set(stored_files(app))
    assert len(old_files) == 3
    response = replace(client, uuid, camera_jpeg(orientation=6, gps=True, size=(800, 600)))
    assert response.status_code == 302
    files = set(stored_files(app))
    assert len(files) == 3 and not files & old_files  # old files gone after the commit
    for path in files:
        with Image.open(path) as image:
            assert not image.getexif() and "exif" not in image.info
    assert client.get(f"/encounters/{uuid}/photo/display").status_code == 200
    assert changes_of(app, uuid)[0][3] == "photo"


def test_a_photo_can_be_added_to_a_kept_drawing_that_has_none(app, client, logged_in):
    uuid = make_encounter(app)
    assert "Add a photo" in client.get(f"/encounters/{uuid}").text
    assert (
        replace(client, uuid, small_jpeg(), reason="photographed the next day").status_code == 302
    )
    with app.app_context():
        assert encounter_by_uuid(db.session, uuid).photo is not None


def test_a_broken_or_foreign_photo_is_refused_and_nothing_changes(app, client, logged_in):
    uuid = make_encounter(app, photo=small_jpeg())
    other = make_encounter(app, photo=small_jpeg((10, 200, 10)))
    before = set(stored_files(app))
    response = replace(client, uuid, b"not a photo at all")
    assert response.status_code == 415 and "not a photo we can read" in response.text
    response = replace(client, uuid, small_jpeg((10, 200, 10)))
    assert response.status_code == 409 and "another drawing" in response.text
    assert set(stored_files(app)) == before
    not_kept = make_encounter(app, consent={"version": 1, "keep": False, "gallery": False,
                                            "training": False, "social": False})  # fmt: skip
    assert "Add a photo" not in client.get(f"/encounters/{not_kept}").text
    assert count_rows(app, EncounterRevision) == 0 and other


def test_forged_fix_without_csrf_is_refused(app, client, logged_in):
    uuid = make_encounter(app)
    response = client.post(f"/encounters/{uuid}/renumber", data={"renumber-number": "9",
                                                                 "renumber-reason": "x"})  # fmt: skip
    assert response.status_code == 400 and number_of(app, uuid) == 1
    assert client.post("/encounters/nope/edit", data={}).status_code in (400, 404)


def test_declined_approach_edits_only_its_venue(app, client, logged_in):
    uuid = make_encounter(app, declined=True)
    html = client.get(f"/encounters/{uuid}").text
    assert 'name="edit-venue"' in html and 'name="edit-notes"' not in html
    assert "Renumber" not in html
    fields = {k: v for k, v in edit_fields(**{"edit-city": "Queens"}).items()
              if k in ("edit-venue_type", "edit-venue", "edit-city", "edit-started_at", "edit-reason")}  # fmt: skip
    assert form_post(client, uuid, "edit", fields).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Encounter.city).where(Encounter.uuid == uuid)) == "Queens"
