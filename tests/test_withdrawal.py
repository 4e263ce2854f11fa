"""A drawer who asks the artist in person: the collector withdraws the drawing for them from the
encounter page. The same withdrawal as the drawer's own (fieldapp/withdrawal), with a reason."""

from __future__ import annotations

from sqlalchemy import select

from fieldapp.consent.models import ConsentEvent
from fieldapp.encounters.services import encounter_by_uuid
from fieldapp.extensions import db
from tests.conftest import csrf_token_from
from tests.factories import make_encounter, number_of, small_jpeg, stored_files, token_of

NAME = "Ottoline Brisk"


def history_of(app, client_uuid: str) -> list[tuple[str, str, str, str]]:
    with app.app_context():
        encounter = encounter_by_uuid(db.session, client_uuid)
        events = db.session.scalars(
            select(ConsentEvent)
            .where(ConsentEvent.encounter_id == encounter.id)
            .order_by(ConsentEvent.id)
        )
        return [(e.kind, e.actor, e.method, e.reason) for e in events]


def test_the_collector_withdraws_a_drawing_the_drawer_asked_about(app, client, logged_in):
    drawing = make_encounter(app, photo=small_jpeg(), credit_name=NAME)
    other = make_encounter(app, photo=small_jpeg((20, 20, 200)))
    token, number = token_of(app, drawing), number_of(app, drawing)
    assert len(stored_files(app)) == 6
    assert client.get(f"/gallery/{number}").status_code == 200
    assert client.get(f"/p/{token}/drawing.jpg").status_code == 200

    page = client.get(f"/encounters/{drawing}")
    assert f'href="/encounters/{drawing}/withdraw"' in page.text
    confirm = client.get(f"/encounters/{drawing}/withdraw")
    assert confirm.status_code == 200
    assert f"Withdraw drawing #{number} for its drawer?" in confirm.text
    done = client.post(
        f"/encounters/{drawing}/withdraw",
        data={
            "csrf_token": csrf_token_from(confirm.text),
            "reason": "asked in person at the fair",
        },
    )
    assert done.status_code == 302 and done.location == f"/encounters/{drawing}"
    tombstone = client.get(done.location).text
    assert f"Drawing #{number} is withdrawn" in tombstone
    assert "Withdrawn by its drawer" in tombstone and NAME not in tombstone
    assert "<img" not in tombstone and "/withdraw" not in tombstone

    # Gone everywhere at once: its files, the drawer's page, the gallery; the other stays.
    assert len(stored_files(app)) == 3
    assert "Withdrawn" in client.get(f"/p/{token}").text
    assert client.get(f"/p/{token}/drawing.jpg").status_code == 410
    assert client.get(f"/gallery/{number}").status_code == 404
    assert client.get(f"/encounters/{other}").status_code == 200
    assert history_of(app, drawing) == [
        ("grant", "collector", "field_capture", ""),
        ("withdraw", "collector", "drawer_request", "asked in person at the fair"),
    ]
    # Asking again changes nothing and says so.
    again = client.post(
        f"/encounters/{drawing}/withdraw",
        data={"csrf_token": csrf_token_from(confirm.text), "reason": "twice"},
    )
    assert again.status_code == 302
    assert "already withdrawn" in client.get(again.location).text
    assert len(history_of(app, drawing)) == 2


def test_a_withdrawal_without_a_reason_or_a_token_changes_nothing(app, client, logged_in):
    drawing = make_encounter(app, photo=small_jpeg())
    confirm = client.get(f"/encounters/{drawing}/withdraw")
    no_reason = client.post(
        f"/encounters/{drawing}/withdraw",
        data={"csrf_token": csrf_token_from(confirm.text), "reason": "  "},
    )
    assert no_reason.status_code == 422
    assert "Say how they asked" in no_reason.text
    forged = client.post(f"/encounters/{drawing}/withdraw", data={"reason": "a forged form"})
    assert forged.status_code == 400
    assert len(stored_files(app)) == 3
    assert history_of(app, drawing) == [("grant", "collector", "field_capture", "")]


def test_a_declined_approach_or_an_unknown_encounter_has_nothing_to_withdraw(
    app, client, logged_in
):
    declined = make_encounter(app, declined=True)
    answer = client.get(f"/encounters/{declined}/withdraw")
    assert answer.status_code == 302 and answer.location == f"/encounters/{declined}"
    assert "a declined approach keeps no drawing" in client.get(answer.location).text
    assert client.get("/encounters/0b0c5b1e-0000-4000-8000-000000000000/withdraw").status_code == (
        404
    )
