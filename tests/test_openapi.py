"""The OpenAPI document is valid, lists exactly the API's routes, and matches real responses."""

from __future__ import annotations

import re
import uuid as uuidlib

import jsonschema
import pytest
from openapi_spec_validator import validate

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


def test_example_upload_matches_the_request_schema(spec):
    schema = spec["components"]["schemas"]["EncounterData"]
    jsonschema.validate(encounter_data(), schema)
    jsonschema.validate(encounter_data(declined=True), schema)
