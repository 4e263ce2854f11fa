"""The OpenAPI document is valid, lists exactly the API's routes, and matches real responses."""

from __future__ import annotations

import json
import re
import uuid as uuidlib

import jsonschema
import pytest
from openapi_spec_validator import validate

from fieldapp.encounters.validation import InvalidEncounter, parse_encounter_data
from tests.factories import encounter_data, put_encounter, small_jpeg


@pytest.fixture
def spec(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_document_is_valid_openapi(spec):
    validate(spec)


def test_document_lists_every_api_route_and_method(app, spec):
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/api/"):
            path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule)
            served |= {(path, m.lower()) for m in rule.methods - {"HEAD", "OPTIONS"}}
    documented = {(path, method) for path, item in spec["paths"].items() for method in item}
    assert served == documented


def check(spec, path, method, response):
    declared = spec["paths"][path][method]["responses"][str(response.status_code)]
    schema = declared["content"]["application/json"]["schema"]
    jsonschema.validate(
        response.get_json(),
        {**schema, "components": spec["components"]},
        format_checker=jsonschema.FormatChecker(),
    )
    # $ref resolution: wrap the components so "#/components/..." resolves in the instance schema.


def test_real_responses_match_their_schemas(client, spec, api_token):
    headers = {"Authorization": f"Bearer {api_token}"}
    check(
        spec,
        "/api/v1/consent/current",
        "get",
        client.get("/api/v1/consent/current", headers=headers),
    )
    check(
        spec,
        "/api/v1/tickets",
        "post",
        client.post("/api/v1/tickets", json={"count": 2}, headers=headers),
    )
    check(
        spec,
        "/api/v1/tickets",
        "post",
        client.post("/api/v1/tickets", json={"count": 0}, headers=headers),
    )
    client_uuid = str(uuidlib.uuid4())
    path = "/api/v1/encounters/{uuid}"

    def put(data, photo=None):
        return put_encounter(client, api_token, client_uuid, data, photo)

    data = encounter_data()
    for response in (
        put(data, small_jpeg()),
        put(data),
        put({**data, "city": "Elsewhere"}),
        put({"status": "x"}),
    ):
        check(spec, path, "put", response)
    check(spec, path, "get", client.get(f"/api/v1/encounters/{client_uuid}", headers=headers))
    check(spec, path, "get", client.get(f"/api/v1/encounters/{uuidlib.uuid4()}", headers=headers))
    check(spec, path, "get", client.get(f"/api/v1/encounters/{client_uuid}"))  # 401


def schema_accepts(spec, name: str, instance) -> bool:
    """Whether the document's components/schemas/<name> accepts `instance`."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return validator.is_valid(instance)


def test_example_upload_matches_the_request_schema(spec):
    assert schema_accepts(spec, "EncounterData", encounter_data())
    assert schema_accepts(spec, "EncounterData", encounter_data(declined=True))


CONSENT = {"version": 1, "keep": True, "gallery": True, "training": True, "social": True}


def _without(data: dict, key: str) -> dict:
    return {k: v for k, v in data.items() if k != key}


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(encounter_data(), id="completed"),
        pytest.param(encounter_data(declined=True), id="declined"),
        # A declined approach keeps no personal data: the schema refuses what the API refuses.
        pytest.param(encounter_data(declined=True, consent=CONSENT), id="declined-with-consent"),
        pytest.param(encounter_data(declined=True, credit={"name": "Ana"}), id="declined-credit"),
        pytest.param(encounter_data(declined=True, notes="red hat"), id="declined-with-notes"),
        pytest.param(encounter_data(declined=True, ticket="abc"), id="declined-with-ticket"),
        pytest.param(encounter_data(declined=True, time_limit_seconds=60), id="declined-limit"),
        # ... and empty personal fields are no personal data: both accept them.
        pytest.param(
            encounter_data(declined=True, notes="", ticket=None, consent={}), id="declined-empty"
        ),
        # JSON Schema's integers include 120.0.
        pytest.param(encounter_data(time_limit_seconds=120.0), id="limit-120.0"),
        pytest.param(encounter_data(consent={**CONSENT, "version": 1.0}), id="version-1.0"),
        pytest.param(encounter_data(time_limit_seconds=120.5), id="limit-120.5"),
        # A completed encounter needs its consent and credit.
        pytest.param(_without(encounter_data(), "consent"), id="completed-without-consent"),
        pytest.param(_without(encounter_data(), "credit"), id="completed-without-credit"),
        pytest.param(encounter_data(consent={**CONSENT, "keep": False}), id="not-kept-but-shown"),
        pytest.param(
            encounter_data(
                consent={
                    **CONSENT,
                    "keep": False,
                    "gallery": False,
                    "training": False,
                    "social": False,
                }
            ),
            id="not-kept",
        ),
        pytest.param(encounter_data(ticket=""), id="empty-ticket"),
        pytest.param(encounter_data(venue="pool\x00night"), id="control-character"),
        pytest.param(encounter_data(venue="pool\tnight"), id="tab"),
        pytest.param(encounter_data(credit={"name": "Ana\nMaria"}), id="name-on-two-lines"),
        pytest.param(encounter_data(credit={"name": "Ana\x1b"}), id="name-with-escape"),
        pytest.param(encounter_data(favourite_colour="red"), id="unknown-field"),
        # The consent's language and the drawer's age group.
        pytest.param(encounter_data(consent={**CONSENT, "language": "es"}), id="language"),
        pytest.param(encounter_data(consent={**CONSENT, "language": "fr"}), id="language-fr"),
        pytest.param(encounter_data(age_group="adult"), id="adult"),
        pytest.param(encounter_data(age_group="child"), id="age-group-child"),
        pytest.param(encounter_data(declined=True, age_group="minor"), id="declined-minor"),
        pytest.param(encounter_data(declined=True, age_group=""), id="declined-empty-age"),
        pytest.param(encounter_data(age_group="minor"), id="minor"),
        pytest.param(
            encounter_data(age_group="minor", consent={**CONSENT, "training": False}),
            id="minor-posted",
        ),
        pytest.param(
            encounter_data(
                age_group="minor", consent={**CONSENT, "training": False, "social": False}
            ),
            id="minor-in-the-gallery",
        ),
        pytest.param(
            encounter_data(
                age_group="minor",
                consent={**CONSENT, "training": False, "social": False},
                credit={"name": "Ana"},
            ),
            id="minor-credited",
        ),
    ],
)
def test_the_upload_schema_accepts_what_the_validator_accepts(spec, data):
    """Schema and validator agree on every rule JSON Schema can say (not the ones that need
    the clock or the database: a known ticket, a consent version that exists)."""
    try:
        parse_encounter_data(data)
        accepted = True
    except InvalidEncounter:
        accepted = False
    assert schema_accepts(spec, "EncounterData", data) == accepted


@pytest.mark.parametrize("count", [71, 71.0, 1, 100.0, 0, 101, 2.5, True, "3", None])
def test_the_ticket_schema_accepts_what_the_api_accepts(client, spec, api_token, count):
    response = client.post(
        "/api/v1/tickets", json={"count": count}, headers={"Authorization": f"Bearer {api_token}"}
    )
    assert response.status_code in (201, 422)
    assert schema_accepts(spec, "TicketRequest", {"count": count}) == (response.status_code == 201)


def test_a_photo_too_small_is_a_documented_422(client, spec, api_token):
    response = put_encounter(
        client, api_token, str(uuidlib.uuid4()), encounter_data(), small_jpeg(size=(20, 20))
    )
    assert response.status_code == 422
    check(spec, "/api/v1/encounters/{uuid}", "put", response)


def test_upload_parts_are_only_data_and_photo(client, spec, api_token):
    """The multipart schema lists its parts (additionalProperties false), as the API refuses others."""
    assert (
        spec["paths"]["/api/v1/encounters/{uuid}"]["put"]["requestBody"]["content"][
            "multipart/form-data"
        ]["schema"]["additionalProperties"]
        is False
    )
    response = client.put(
        f"/api/v1/encounters/{uuidlib.uuid4()}",
        data={"data": json.dumps(encounter_data()), "retake": "yes"},
        headers={"Authorization": f"Bearer {api_token}"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert response.get_json()["errors"][0]["field"] == "retake"


UNDOCUMENTED = ["get", "put", "post", "delete", "patch"]


def test_an_undocumented_method_is_a_405_that_says_what_is_allowed(client, spec, api_token):
    """RFC 9110: a 405 carries Allow (schemathesis' unsupported_method check); the JSON body
    stays the API's error shape."""
    headers = {"Authorization": f"Bearer {api_token}"}
    for template, item in spec["paths"].items():
        path = template.replace("{uuid}", str(uuidlib.uuid4()))
        for method in sorted(set(UNDOCUMENTED) - set(item)):
            response = client.open(path, method=method.upper(), headers=headers)
            assert response.status_code == 405, (method, path)
            allowed = {m.strip().lower() for m in response.headers.get("Allow", "").split(",")}
            assert set(item) <= allowed, (method, path, response.headers.get("Allow"))
            assert allowed - set(item) <= {"head", "options"}, (method, path)
            assert response.get_json()["error"], (method, path)
