"""Schemathesis against /api/v1/openapi.json, in-process (WSGI) with a real API token: no 500,
and every answer matches the document (status code, content type, headers, body schema), for
each operation alone and along the document's links (the stateful phase).

Deterministic: Hypothesis derandomized, no example database, bounded examples; the stateful
scenarios each start from the same database (a savepoint rolled back after each)."""

from __future__ import annotations

import re
import uuid as uuidlib
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from fieldapp.extensions import db

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
#: Bounded so that the whole module takes well under a minute on two shared cores.
EXAMPLES_PER_OPERATION = 40


def operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def fuzz(operation, mode: GenerationMode, examples: int, call) -> None:
    """Run `call(case)` on `examples` generated cases of one operation (the same every run).

    schemathesis' own pytest plugin does not run on pytest 9 yet, so Hypothesis drives it here.
    """

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,  # a failure here is reproducible
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case):
        call(case)

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_the_api_keeps_to_its_openapi_document(app, api_token, mode):
    headers = {"Authorization": f"Bearer {api_token}"}
    for operation in operations(app):
        fuzz(
            operation,
            mode,
            EXAMPLES_PER_OPERATION,
            lambda case: case.call_and_validate(headers=headers, checks=CHECKS),
        )


def test_without_a_token_every_answer_is_a_documented_401(app):
    def call(case):
        response = case.call_and_validate(checks=CHECKS)
        assert response.status_code == 401, response.text

    for operation in operations(app):
        if operation.definition.raw.get("security", True):
            fuzz(operation, GenerationMode.POSITIVE, 5, call)


#: Scenarios (each a few linked calls) the stateful test runs: bounded. Most generated uploads
#: are refused (422: their consent answers do not hold together), so few chains go on past the
#: upload; at 30, a run of the whole suite once walked no chain to its end (1 upload recorded
#: in 33), though every run of this file alone walked several. 80 walk about four times more.
STATEFUL_SCENARIOS = 80
STATEFUL_STEPS = 6
LINK_NAME = re.compile(r"\] (\w+) -> ")  # in "PUT /a -> [201] SendItAgain -> PUT /a"


def test_linked_calls_keep_to_the_document(app, api_token):
    """The stateful phase: schemathesis follows the document's links (tickets → upload, consent
    → upload, upload → GET, upload → the same upload again) and checks every answer, and what a
    PUT answered is what the GET and a retry of the same upload answer."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = {"Authorization": f"Bearer {api_token}"}
    followed: Counter[tuple[str, int]] = Counter()
    connection = db.session.session_factory.kw["bind"]  # the test's own, rolled back after it
    started = datetime.now(UTC) - timedelta(minutes=10)  # one moment: a retry sends the same

    class SyncScenario(schema.as_state_machine()):
        def setup(self):
            # Each scenario starts from the same database, so that the same calls get the same
            # answers when Hypothesis runs a scenario again (else it stops, "flaky").
            self.savepoint = connection.begin_nested()
            self.recorded: dict[str, dict] = {}  # uuid → the body its PUT answered

        def teardown(self):
            self.savepoint.rollback()

        def before_call(self, case):
            in_the_present(case, started)

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def step(self, input):
            output = super().step(input)
            if input.transition is not None:
                followed[input.transition.id, output.response.status_code] += 1
            return output

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(
                response, checks=CHECKS, transport_kwargs=kwargs or None, recorder=self.recorder
            )
            the_same_encounter_everywhere(self.recorded, case, response)

    SyncScenario.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            phases=[Phase.generate],
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    # The chains the links exist for were walked (not only refused at their first step).
    reached = {(LINK_NAME.search(link)[1], status) for link, status in followed}
    assert {("GetTheRecordedEncounter", 200), ("SendItAgain", 200)} <= reached, followed
    assert {("AskWithThisConsent", 201), ("RecordWithTheFirstTicket", 201)} <= reached, followed


def in_the_present(case, started: datetime) -> None:
    """Set an upload's moments to a few minutes ago, in order, keeping their presence and type.

    The server refuses times before 2000 or ahead of its clock (422), which JSON Schema cannot
    say; random date-times are nearly all out of range. The stateless test fuzzes them; here a
    phone with a right clock lets the chains reach what the links are for."""
    data = case.body.get("data") if isinstance(case.body, dict) else None
    if not isinstance(data, dict):
        return
    for minutes, key in enumerate(("started_at", "drawing_started_at", "drawing_finished_at")):
        try:
            datetime.fromisoformat(data[key])
        except (KeyError, TypeError, ValueError):
            continue  # absent, or not a date and time: left as it was generated
        data[key] = (started + timedelta(minutes=minutes)).isoformat()


def the_same_encounter_everywhere(recorded: dict[str, dict], case, response) -> None:
    """Once a PUT has answered 200 or 201, GET answers the same body, and so does the same PUT."""
    if case.operation.path != "/api/v1/encounters/{uuid}":
        return
    try:
        uuid = str(uuidlib.UUID(str(case.path_parameters["uuid"])))
    except ValueError:
        return
    if case.method.upper() == "PUT" and response.status_code in (200, 201):
        body = response.json()
        assert recorded.setdefault(body["uuid"], body) == body
    elif case.method.upper() == "GET" and uuid in recorded:
        assert (response.status_code, response.json()) == (200, recorded[uuid])
