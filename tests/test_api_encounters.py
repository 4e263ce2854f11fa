"""PUT /api/v1/encounters/<uuid>: recorded once, whatever the network does."""

from __future__ import annotations

import hashlib
import json
import uuid as uuidlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from fieldapp.encounters.models import Encounter
from fieldapp.extensions import db
from fieldapp.media.models import Photo
from tests.factories import count_rows, encounter_data, put_encounter, small_jpeg, stored_files
from tests.postgres import on_both_databases


@on_both_databases
def test_completed_encounter_is_created_with_number_token_and_photo(app, client, api_token):
    client_uuid = str(uuidlib.uuid4())
    response = put_encounter(client, api_token, client_uuid, encounter_data(), small_jpeg())
    assert response.status_code == 201
    body = response.get_json()
    assert body["uuid"] == client_uuid
    assert body["status"] == "completed"
    assert body["number"] == 1
    assert len(body["token"]) >= 22  # at least 128 bits, URL-safe
    assert body["participant_url"] == f"http://localhost/p/{body['token']}"
    assert body["photo"]["width"] == 300 and body["photo"]["height"] == 400
    assert response.headers["Location"].endswith(client_uuid)
    assert (
        client.get(
            f"/api/v1/encounters/{client_uuid}", headers={"Authorization": f"Bearer {api_token}"}
        ).get_json()
        == body
    )
    assert len(stored_files(app)) == 3  # archive, display, thumbnail


def test_numbers_are_sequential(client, api_token):
    numbers = [
        put_encounter(client, api_token, str(uuidlib.uuid4()), encounter_data()).get_json()[
            "number"
        ]
        for _ in range(3)
    ]
    assert numbers == [1, 2, 3]


@on_both_databases
def test_same_upload_twice_is_stored_once(app, client, api_token):
    client_uuid = str(uuidlib.uuid4())
    data, photo = encounter_data(), small_jpeg()
    first = put_encounter(client, api_token, client_uuid, data, photo)
    second = put_encounter(client, api_token, client_uuid, data, photo)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.get_json() == second.get_json()
    assert count_rows(app, Encounter) == 1 and count_rows(app, Photo) == 1
    assert len(stored_files(app)) == 3


def test_photo_missing_until_the_retry_is_attached(app, client, api_token):
    client_uuid = str(uuidlib.uuid4())
    data = encounter_data()
    assert put_encounter(client, api_token, client_uuid, data).get_json()["photo"] is None
    retried = put_encounter(client, api_token, client_uuid, data, small_jpeg())
    assert retried.status_code == 200
    assert retried.get_json()["photo"] is not None
    assert count_rows(app, Encounter) == 1


@on_both_databases
def test_same_uuid_with_different_data_is_a_conflict_that_changes_nothing(app, client, api_token):
    client_uuid = str(uuidlib.uuid4())
    data = encounter_data()
    put_encounter(client, api_token, client_uuid, data)
    response = put_encounter(client, api_token, client_uuid, {**data, "city": "Boston"})
    assert response.status_code == 409
    assert "different data" in response.get_json()["error"]
    with app.app_context():
        assert db.session.scalar(select(Encounter.city)) == "New York"


def test_a_different_photo_for_the_same_encounter_is_a_conflict(app, client, api_token):
    client_uuid = str(uuidlib.uuid4())
    data = encounter_data()
    put_encounter(client, api_token, client_uuid, data, small_jpeg((255, 0, 0)))
    response = put_encounter(client, api_token, client_uuid, data, small_jpeg((0, 0, 255)))
    assert response.status_code == 409
    assert len(stored_files(app)) == 3


def test_the_same_photo_cannot_become_two_drawings(client, api_token):
    photo = small_jpeg()
    put_encounter(client, api_token, str(uuidlib.uuid4()), encounter_data(), photo)
    response = put_encounter(client, api_token, str(uuidlib.uuid4()), encounter_data(), photo)
    assert response.status_code == 409
    assert "another encounter" in response.get_json()["error"]


def test_reserved_ticket_is_claimed_by_its_token(client, api_token):
    headers = {"Authorization": f"Bearer {api_token}"}
    tickets = client.post("/api/v1/tickets", json={"count": 3}, headers=headers)
    assert tickets.status_code == 201
    second = tickets.get_json()["tickets"][1]
    body = put_encounter(
        client, api_token, str(uuidlib.uuid4()), encounter_data(ticket=second["token"])
    ).get_json()
    assert (body["number"], body["token"]) == (second["number"], second["token"])
    # A ticket can belong to one encounter only.
    again = put_encounter(
        client, api_token, str(uuidlib.uuid4()), encounter_data(ticket=second["token"])
    )
    assert again.status_code == 409


def test_unknown_ticket_is_refused(client, api_token):
    response = put_encounter(
        client, api_token, str(uuidlib.uuid4()), encounter_data(ticket="not-a-real-token")
    )
    assert response.status_code == 422
    assert response.get_json()["errors"] == [
        {"field": "ticket", "message": "no reserved ticket has this token"}
    ]


@on_both_databases
def test_declined_approach_keeps_no_personal_data(app, client, api_token):
    client_uuid = str(uuidlib.uuid4())
    response = put_encounter(client, api_token, client_uuid, encounter_data(declined=True))
    assert response.status_code == 201
    body = response.get_json()
    assert (body["status"], body["number"], body["token"], body["participant_url"]) == (
        "declined",
        None,
        None,
        None,
    )
    with app.app_context():
        encounter = db.session.scalar(select(Encounter))
        assert encounter.credit_name is None and encounter.keep is None and encounter.notes == ""


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"credit": {"name": "Ana"}}, "credit"),
        ({"notes": "wore a red hat"}, "notes"),
        (
            {
                "consent": {
                    "version": 1,
                    "keep": True,
                    "gallery": True,
                    "training": True,
                    "social": True,
                }
            },
            "consent",
        ),
        ({"ticket": "x"}, "ticket"),
    ],
)
def test_declined_approach_refuses_personal_fields(client, api_token, extra, field):
    response = put_encounter(
        client, api_token, str(uuidlib.uuid4()), encounter_data(declined=True, **extra)
    )
    assert response.status_code == 422
    assert field in [e["field"] for e in response.get_json()["errors"]]


def test_declined_approach_refuses_a_photo(app, client, api_token):
    response = put_encounter(
        client, api_token, str(uuidlib.uuid4()), encounter_data(declined=True), small_jpeg()
    )
    assert response.status_code == 422
    assert stored_files(app) == [] and count_rows(app, Encounter) == 0


def future(days: int) -> str:
    return (datetime.now(UTC) + timedelta(days=days)).isoformat()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"status": "maybe"}, "status"),
        ({"venue_type": "spaceship"}, "venue_type"),
        ({"started_at": "yesterday"}, "started_at"),
        ({"started_at": "2026-05-20T21:30:00"}, "started_at"),  # no offset: ambiguous
        ({"started_at": future(400)}, "started_at"),
        ({"time_limit_seconds": -30}, "time_limit_seconds"),
        ({"time_limit_seconds": "120"}, "time_limit_seconds"),
        ({"time_limit_seconds": True}, "time_limit_seconds"),
        ({"time_limit_seconds": 120.5}, "time_limit_seconds"),
        (
            {
                "consent": {
                    "version": 1,
                    "keep": "yes",
                    "gallery": True,
                    "training": True,
                    "social": True,
                }
            },
            "consent.keep",
        ),
        (
            {
                "consent": {
                    "version": 99,
                    "keep": True,
                    "gallery": True,
                    "training": True,
                    "social": True,
                }
            },
            "consent.version",
        ),
        (
            {
                "consent": {
                    "version": 1,
                    "keep": False,
                    "gallery": True,
                    "training": False,
                    "social": False,
                }
            },
            "consent.gallery",
        ),
        ({"credit": {"name": "   "}}, "credit.name"),
        ({"credit": {"anonymous": True, "name": "Ana"}}, "credit"),
        ({"credit": {"anonymous": 1}}, "credit"),
        ({"favourite_colour": "red"}, "favourite_colour"),
        ({"venue": "x" * 201}, "venue"),
        ({"drawing_finished_at": "2020-01-01T00:00:00+00:00"}, "drawing_finished_at"),
    ],
)
def test_invalid_data_is_refused_with_the_field_named(app, client, api_token, changes, field):
    response = put_encounter(
        client, api_token, str(uuidlib.uuid4()), {**encounter_data(), **changes}, small_jpeg()
    )
    assert response.status_code == 422
    body = response.get_json()
    assert field in [e["field"] for e in body["errors"]], body
    assert count_rows(app, Encounter) == 0 and stored_files(app) == []


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '"text"'])
def test_data_that_is_not_a_json_object_is_refused(client, api_token, raw):
    response = client.put(
        f"/api/v1/encounters/{uuidlib.uuid4()}",
        data={"data": raw},
        headers={"Authorization": f"Bearer {api_token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "data"


def test_json_body_instead_of_multipart_is_415(client, api_token):
    response = client.put(
        f"/api/v1/encounters/{uuidlib.uuid4()}",
        json=encounter_data(),
        headers={"Authorization": f"Bearer {api_token}"},
    )
    assert response.status_code == 415


def test_not_a_uuid_is_refused(client, api_token):
    response = put_encounter(client, api_token, "not-a-uuid", encounter_data())
    assert response.status_code == 422


def test_photo_over_the_size_limit_is_413_and_leaves_nothing(app, client, api_token):
    limit = app.config["MAX_PHOTO_BYTES"]
    app.config["MAX_PHOTO_BYTES"] = 10_000
    try:
        response = put_encounter(
            client, api_token, str(uuidlib.uuid4()), encounter_data(), b"\xff" * 20_000
        )
    finally:
        app.config["MAX_PHOTO_BYTES"] = limit
    assert response.status_code == 413
    assert "larger than" in response.get_json()["error"]
    assert count_rows(app, Encounter) == 0


def test_request_over_the_content_length_limit_is_413_json(app, client, api_token):
    response = put_encounter(
        client,
        api_token,
        str(uuidlib.uuid4()),
        encounter_data(),
        b"\0" * (app.config["MAX_CONTENT_LENGTH"] + 10),
    )
    assert response.status_code == 413
    assert "too large" in response.get_json()["error"]


def test_text_file_named_jpg_is_415(app, client, api_token):
    response = put_encounter(
        client, api_token, str(uuidlib.uuid4()), encounter_data(), b"hello, not a photo\n" * 40
    )
    assert response.status_code == 415
    assert "not a photo" in response.get_json()["error"]
    assert count_rows(app, Encounter) == 0 and stored_files(app) == []


def test_consent_current(client, api_token):
    body = client.get(
        "/api/v1/consent/current", headers={"Authorization": f"Bearer {api_token}"}
    ).get_json()
    assert body["version"] == 2  # a fresh database: the layered first text
    assert body["language"] == "en"
    assert "withdraw" in body["text"] and "withdraw" in body["summary"]
    assert set(body["choices"]) == {"keep", "gallery", "training", "social", "credit"}
    own = body["translations"][0]
    assert own == {k: body[k] for k in ("language", "summary", "choices", "text", "sha256")}
    canonical = json.dumps(
        {k: own[k] for k in ("language", "summary", "choices", "text")},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    assert body["sha256"] == hashlib.sha256(canonical.encode()).hexdigest()


def test_a_photo_too_small_is_422_naming_the_photo(app, client, api_token):
    response = put_encounter(
        client, api_token, str(uuidlib.uuid4()), encounter_data(), small_jpeg(size=(20, 20))
    )
    assert response.status_code == 422
    body = response.get_json()
    assert body["errors"] == [{"field": "photo", "message": body["error"]}]
    assert "too small" in body["error"]
    assert count_rows(app, Encounter) == 0 and stored_files(app) == []


def test_whole_numbers_written_with_a_point_are_whole_numbers(app, client, api_token):
    """JSON Schema (and the OpenAPI document) count 120.0 as an integer: so does the API."""
    client_uuid = str(uuidlib.uuid4())
    data = encounter_data(time_limit_seconds=120.0)
    data["consent"]["version"] = 1.0
    first = put_encounter(client, api_token, client_uuid, data)
    assert first.status_code == 201, first.get_json()
    with app.app_context():
        encounter = db.session.scalar(select(Encounter))
        assert encounter.time_limit_seconds == 120
        assert isinstance(encounter.time_limit_seconds, int)
    # The same upload spelled 120 is the same upload, not a conflict.
    again = {**data, "time_limit_seconds": 120, "consent": {**data["consent"], "version": 1}}
    assert put_encounter(client, api_token, client_uuid, again).status_code == 200


def test_ticket_count_written_with_a_point_is_a_count(client, api_token):
    response = client.post(
        "/api/v1/tickets", json={"count": 71.0}, headers={"Authorization": f"Bearer {api_token}"}
    )
    assert response.status_code == 201
    assert len(response.get_json()["tickets"]) == 71


@pytest.mark.parametrize("count_value", [0, 101, "3", None, True, 2.5, 0.0, 101.0, 1e300])
def test_ticket_count_must_be_1_to_100(client, api_token, count_value):
    response = client.post(
        "/api/v1/tickets",
        json={"count": count_value},
        headers={"Authorization": f"Bearer {api_token}"},
    )
    assert response.status_code == 422


def test_tickets_have_distinct_unguessable_tokens(client, api_token):
    tickets = client.post(
        "/api/v1/tickets", json={"count": 100}, headers={"Authorization": f"Bearer {api_token}"}
    ).get_json()["tickets"]
    tokens = {t["token"] for t in tickets}
    assert len(tokens) == 100
    assert all(len(t) >= 22 for t in tokens)
    assert [t["number"] for t in tickets] == list(range(1, 101))
