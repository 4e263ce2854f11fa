"""The OpenAPI 3.1 description of /api/v1. tests/test_openapi.py keeps it true."""

from __future__ import annotations

from functools import cache

from fieldapp.consent.services import MINOR_RULES
from fieldapp.consent.texts import CHOICE_KEYS
from fieldapp.encounters.models import AGE_GROUPS, VENUE_TYPES
from fieldapp.encounters.validation import (
    CONSENT_FIELDS,
    MAX_ID,
    MAX_TIME_LIMIT_SECONDS,
    NAME_LIMIT,
    NOT_FOR_DECLINED,
    TEXT_LIMITS,
)
from fieldapp.i18n import LANGUAGES
from fieldapp.tickets.services import MAX_TICKETS_PER_REQUEST

_MOMENT = {
    "type": ["string", "null"],
    "format": "date-time",
    "description": "ISO 8601 with a UTC offset",
}


def _json(schema_name: str) -> dict:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema_name}"}}}


def _response(description: str, schema_name: str = "Error") -> dict:
    return {"description": description, "content": _json(schema_name)}


_ERRORS = {
    "401": _response("No valid bearer token, and no session with a CSRF header."),
}

# What text_problem() refuses: control characters other than tab and line breaks.
_TEXT_PATTERN = "^[^\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f]*$"
# A name is tidied (runs of whitespace made one space) before that check: whitespace passes.
_NAME_PATTERN = "^[^\\x00-\\x08\\x0e-\\x1b\\x7f]*$"


def _text(limit: int, description: str | None = None) -> dict:
    schema = {"type": "string", "maxLength": limit, "pattern": _TEXT_PATTERN}
    return {**schema, "description": description} if description else schema


_VENUE_AND_TIME = {
    "venue_type": {"enum": list(VENUE_TYPES)},
    "venue": _text(TEXT_LIMITS["venue"], 'The occasion, e.g. "Julia\'s birthday".'),
    "city": _text(TEXT_LIMITS["city"]),
    "started_at": {**_MOMENT, "type": "string"},
}

_COMPLETED_ENCOUNTER_DATA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["status", "venue_type", "started_at", "consent", "credit"],
    "properties": {
        "status": {"const": "completed"},
        "ticket": {
            "type": ["string", "null"],
            "minLength": 1,
            "description": "Token of a reserved ticket; without it the next number is reserved.",
        },
        **_VENUE_AND_TIME,
        "drawing_started_at": _MOMENT,
        "drawing_finished_at": _MOMENT,
        "time_limit_seconds": {
            "type": ["integer", "null"],
            "minimum": 1,
            "maximum": MAX_TIME_LIMIT_SECONDS,
        },
        "consent": {
            "type": "object",
            "additionalProperties": False,
            "required": ["version", "keep", "gallery", "training", "social"],
            "properties": {
                "version": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_ID,
                    "description": "The consent text shown (GET /api/v1/consent/current).",
                },
                "language": {
                    "enum": list(LANGUAGES),
                    "description": "The language of the text shown (BCP 47): the version's own "
                    "or one of its `translations`. Absent: the version's own language. A "
                    "language the version has no text in is refused (422, `consent.language`).",
                },
                "keep": {"type": "boolean"},
                "gallery": {"type": "boolean"},
                "training": {"type": "boolean"},
                "social": {"type": "boolean"},
            },
            "oneOf": [
                {"properties": {"keep": {"const": True}}},
                {
                    "properties": {key: {"const": False} for key in CONSENT_FIELDS},
                    "description": "A drawing not kept cannot be shown or used.",
                },
            ],
        },
        "credit": {
            "oneOf": [
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["anonymous"],
                    "properties": {"anonymous": {"const": True}},
                },
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name"],
                    "properties": {
                        "name": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": NAME_LIMIT,
                            "pattern": _NAME_PATTERN,
                        }
                    },
                },
            ]
        },
        "notes": _text(TEXT_LIMITS["notes"]),
        "age_group": {
            "enum": list(AGE_GROUPS),
            "description": "The drawer's age group, as they said it (never a date of birth). "
            "Absent: adult (encounters queued before age groups were asked).",
        },
    },
    "if": {"required": ["age_group"], "properties": {"age_group": {"const": "minor"}}},
    "then": {
        "properties": {
            "consent": {"properties": {"training": {"const": False}, "social": {"const": False}}},
            "credit": {"required": ["anonymous"]},
        },
        "description": "; ".join(MINOR_RULES.values()).capitalize()
        + " (422 naming consent.training, consent.social or credit.name).",
    },
}

_CHOICE_TEXTS = {
    "type": "object",
    "required": list(CHOICE_KEYS),
    "additionalProperties": {
        "type": "object",
        "required": ["label", "line"],
        "properties": {"label": {"type": "string"}, "line": {"type": "string"}},
    },
    "description": "One label and one-line explanation per choice; empty for a version "
    "published before layering.",
}
_CONSENT_TEXT_PROPERTIES = {
    "language": {"enum": list(LANGUAGES)},
    "summary": {"type": "string"},
    "choices": {"oneOf": [_CHOICE_TEXTS, {"type": "object", "maxProperties": 0}]},
    "text": {"type": "string"},
    "sha256": {
        "type": "string",
        "pattern": "^[0-9a-f]{64}$",
        "description": "SHA-256 of the canonical JSON of language, summary, choices and text "
        "(fieldapp/consent/texts.py); of the text alone for a version before layering.",
    },
}

# What the validator tolerates in a declined approach's personal fields: nothing but emptiness.
_EMPTY: dict[str, object] = {
    "enum": [None, "", {}],
    "description": "A declined approach keeps no personal data: absent, or empty.",
}

_DECLINED_ENCOUNTER_DATA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["status", "venue_type", "started_at"],
    "properties": {
        "status": {"const": "declined"},
        **_VENUE_AND_TIME,
        **{key: _EMPTY for key in NOT_FOR_DECLINED},
    },
    "description": (
        "Someone asked who said no: only the venue and the time are kept. A declined upload "
        "that carries a ticket, consent, credit, notes, drawing times, a time limit or a photo "
        "is refused (422), not stored without them: the phone flags it, so an approach marked "
        "declined by mistake is put right instead of losing its drawer's choices."
    ),
}

_ENCOUNTER_DATA = {
    "oneOf": [
        {"$ref": "#/components/schemas/CompletedEncounterData"},
        {"$ref": "#/components/schemas/DeclinedEncounterData"},
    ],
    "description": "The encounter as the phone saw it; `status` says which shape it has.",
}


# Links: how one answer feeds the next request (the sync protocol, and schemathesis' stateful
# tests). A link's requestBody is merged into the generated body, as schemathesis does.
_RECORD_WITH_THE_FIRST_TICKET = {
    "operationId": "putEncounter",
    "requestBody": {"data": {"ticket": "$response.body#/tickets/0/token"}},
    "description": "A reserved ticket's token is claimed by the encounter that sends it.",
}
_ASK_WITH_THIS_CONSENT = {
    "operationId": "putEncounter",
    "requestBody": {
        "data": {
            "consent": {
                "version": "$response.body#/version",
                "language": "$response.body#/language",
            }
        }
    },
    "description": "The encounter records which consent text the drawer was shown, and in "
    "which language (here the version's own; any of its `translations` is as good).",
}
_RECORDED_LINKS = {
    "GetTheRecordedEncounter": {
        "operationId": "getEncounter",
        "parameters": {"path.uuid": "$response.body#/uuid"},
        "description": "GET answers what the PUT answered.",
    },
    "SendItAgain": {
        "operationId": "putEncounter",
        "parameters": {"path.uuid": "$request.path.uuid"},
        "requestBody": "$request.body",
        "x-schemathesis": {"merge_body": False},
        "description": "The same upload again (the phone retrying) is 200 with the same answer.",
    },
}


@cache
def openapi_document() -> dict:
    """The API description, built once."""
    uuid_param = {
        "name": "uuid",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
        "description": "Made by the client when the encounter starts.",
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "fieldapp API",
            "version": "1",
            "description": "How the collector's phone reserves tickets and uploads encounters. "
            "Authenticate with `Authorization: Bearer <token>` (`flask --app fieldapp token create USERNAME`), "
            "or with the logged-in session plus an `X-CSRFToken` header on writes.",
        },
        "security": [{"bearer": []}, {"session": []}],
        "paths": {
            "/api/v1/openapi.json": {
                "get": {
                    "operationId": "getOpenapiDocument",
                    "summary": "This document.",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "OpenAPI 3.1",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
            "/api/v1/session": {
                "get": {
                    "operationId": "getSession",
                    "summary": "Who is calling; for a browser session, the CSRF token for writes.",
                    "responses": {"200": _response("The caller.", "Session"), **_ERRORS},
                }
            },
            "/api/v1/progress": {
                "get": {
                    "operationId": "getProgress",
                    "summary": "The collection's count: drawings, approaches, withdrawn, the goal.",
                    "responses": {"200": _response("The count.", "Progress"), **_ERRORS},
                }
            },
            "/api/v1/consent/current": {
                "get": {
                    "operationId": "getCurrentConsent",
                    "summary": "The consent text shown to the next participant.",
                    "responses": {
                        "200": {
                            **_response("The current consent version.", "ConsentVersion"),
                            "links": {"AskWithThisConsent": _ASK_WITH_THIS_CONSENT},
                        },
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/tickets": {
                "post": {
                    "operationId": "reserveTickets",
                    "summary": "Reserve portrait numbers, each with its participant token.",
                    "requestBody": {"required": True, "content": _json("TicketRequest")},
                    "responses": {
                        "201": {
                            **_response("The reserved tickets.", "TicketList"),
                            "links": {"RecordWithTheFirstTicket": _RECORD_WITH_THE_FIRST_TICKET},
                        },
                        "413": _response("A request body over the upload limit."),
                        "422": _response("Invalid count.", "ValidationError"),
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/encounters/{uuid}": {
                "get": {
                    "operationId": "getEncounter",
                    "summary": "An encounter as stored.",
                    "parameters": [uuid_param],
                    "responses": {
                        "200": _response("The encounter.", "Encounter"),
                        "403": _response(
                            "A helper's account: encounters are read back by the collector only."
                        ),
                        "404": _response("No encounter has this UUID."),
                        "410": _response(
                            "The drawer withdrew this drawing: only a tombstone remains."
                        ),
                        **_ERRORS,
                    },
                },
                "put": {
                    "operationId": "putEncounter",
                    "summary": "Record an encounter, idempotently (the client's UUID is the key).",
                    "parameters": [uuid_param],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["data"],
                                    "properties": {
                                        "data": {"$ref": "#/components/schemas/EncounterData"},
                                        "photo": {
                                            "type": "string",
                                            "format": "binary",
                                            "description": (
                                                "JPEG, PNG, WebP or HEIC; at most "
                                                "FIELDAPP_MAX_PHOTO_BYTES (30 MB by default); "
                                                "a short edge too small to show a drawing is "
                                                "422 (field `photo`); none with a declined "
                                                "approach."
                                            ),
                                        },
                                    },
                                },
                                "encoding": {"data": {"contentType": "application/json"}},
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            **_response("Recorded now.", "Encounter"),
                            "headers": {
                                "Location": {
                                    "description": "GET it there.",
                                    "schema": {"type": "string"},
                                }
                            },
                            "links": _RECORDED_LINKS,
                        },
                        "200": {
                            **_response(
                                "Already recorded with the same data (a missing photo is attached).",
                                "Encounter",
                            ),
                            "links": _RECORDED_LINKS,
                        },
                        "400": _response(
                            "An empty photo file, or a body that is not well-formed multipart."
                        ),
                        "409": _response(
                            "This UUID, ticket or photo is already recorded with other data."
                        ),
                        "410": _response(
                            "The drawer withdrew this drawing or ticket: nothing was stored, "
                            "and the phone should delete its copy."
                        ),
                        "413": _response("The photo is over the size or pixel limit."),
                        "415": _response(
                            "Not multipart/form-data, or a photo that is not an accepted image."
                        ),
                        "422": _response(
                            "Invalid data: every problem is listed.", "ValidationError"
                        ),
                        **_ERRORS,
                    },
                },
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {"error": {"type": "string"}},
                },
                "ValidationError": {
                    "type": "object",
                    "required": ["error", "errors"],
                    "properties": {
                        "error": {"type": "string"},
                        "errors": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["field", "message"],
                                "properties": {
                                    "field": {"type": "string"},
                                    "message": {"type": "string"},
                                },
                            },
                        },
                    },
                },
                "Session": {
                    "type": "object",
                    "required": ["collector_id"],
                    "properties": {
                        "collector_id": {"type": "integer"},
                        "csrf_token": {
                            "type": "string",
                            "description": "Send it as X-CSRFToken with session-authenticated writes.",
                        },
                    },
                },
                "Progress": {
                    "type": "object",
                    "required": ["drawings", "approaches", "withdrawn", "goal", "at"],
                    "properties": {
                        "drawings": {
                            "type": "integer",
                            "description": "Drawings in the collection (withdrawn ones not counted).",
                        },
                        "approaches": {
                            "type": "integer",
                            "description": "Everyone asked: drawings, withdrawn ones and declines.",
                        },
                        "withdrawn": {"type": "integer"},
                        "goal": {"type": "integer"},
                        "at": {
                            "type": "string",
                            "format": "date-time",
                            "description": "When the server counted (UTC).",
                        },
                    },
                },
                "ConsentVersion": {
                    "type": "object",
                    "required": [
                        "version",
                        "language",
                        "summary",
                        "choices",
                        "text",
                        "sha256",
                        "translations",
                    ],  # fmt: skip
                    "properties": {
                        "version": {"type": "integer"},
                        **_CONSENT_TEXT_PROPERTIES,
                        "translations": {
                            "type": "array",
                            "minItems": 1,
                            "items": {
                                "type": "object",
                                "required": ["language", "summary", "choices", "text", "sha256"],
                                "properties": _CONSENT_TEXT_PROPERTIES,
                            },
                            "description": "Every published language of this version, its own "
                            "first; send the one shown as `consent.language`.",
                        },
                    },
                },
                "TicketRequest": {
                    "type": "object",
                    "required": ["count"],
                    "properties": {
                        "count": {
                            "type": "integer",
                            "minimum": 1,
                            "maximum": MAX_TICKETS_PER_REQUEST,
                        }
                    },
                },
                "TicketList": {
                    "type": "object",
                    "required": ["tickets"],
                    "properties": {
                        "tickets": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["number", "token", "participant_url"],
                                "properties": {
                                    "number": {"type": "integer"},
                                    "token": {"type": "string"},
                                    "participant_url": {"type": "string", "format": "uri"},
                                },
                            },
                        }
                    },
                },
                "EncounterData": _ENCOUNTER_DATA,
                "CompletedEncounterData": _COMPLETED_ENCOUNTER_DATA,
                "DeclinedEncounterData": _DECLINED_ENCOUNTER_DATA,
                "Encounter": {
                    "type": "object",
                    "required": ["uuid", "number", "token", "status", "participant_url", "photo"],
                    "properties": {
                        "uuid": {"type": "string", "format": "uuid"},
                        "number": {
                            "type": ["integer", "null"],
                            "description": "null for a declined approach",
                        },
                        "token": {"type": ["string", "null"]},
                        "status": {"enum": ["completed", "declined"]},
                        "participant_url": {"type": ["string", "null"], "format": "uri"},
                        "photo": {
                            "oneOf": [
                                {"type": "null"},
                                {
                                    "type": "object",
                                    "required": ["sha256", "width", "height", "framing"],
                                    "properties": {
                                        "sha256": {
                                            "type": "string",
                                            "description": "SHA-256 of the bytes the client sent",
                                        },
                                        "width": {"type": "integer"},
                                        "height": {"type": "integer"},
                                        "framing": {
                                            "enum": ["auto", "manual", "none"],
                                            "description": (
                                                "How the drawing is cut from the photo: the "
                                                "sheet found automatically, framed by the "
                                                "artist, or none found (the whole photo is "
                                                "shown and the drawing needs framing)"
                                            ),
                                        },
                                    },
                                },
                            ]
                        },
                    },
                },
            },
        },
    }
