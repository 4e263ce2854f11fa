"""The OpenAPI 3.1 description of /api/v1. tests/test_openapi.py keeps it true."""

from __future__ import annotations

from functools import cache

from fieldapp.encounters.models import VENUE_TYPES
from fieldapp.encounters.validation import MAX_TIME_LIMIT_SECONDS, NAME_LIMIT, TEXT_LIMITS
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

_ENCOUNTER_DATA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["status", "venue_type", "started_at"],
    "properties": {
        "status": {"enum": ["completed", "declined"]},
        "ticket": {
            "type": ["string", "null"],
            "description": "Token of a reserved ticket; without it the next number is reserved.",
        },
        "venue_type": {"enum": list(VENUE_TYPES)},
        "venue": {
            "type": "string",
            "maxLength": TEXT_LIMITS["venue"],
            "description": 'The occasion, e.g. "Julia\'s birthday".',
        },
        "city": {"type": "string", "maxLength": TEXT_LIMITS["city"]},
        "started_at": {**_MOMENT, "type": "string"},
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
                "version": {"type": "integer", "minimum": 1},
                "keep": {"type": "boolean"},
                "gallery": {"type": "boolean"},
                "training": {"type": "boolean"},
                "social": {"type": "boolean"},
            },
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
                        "name": {"type": "string", "minLength": 1, "maxLength": NAME_LIMIT}
                    },
                },
            ]
        },
        "notes": {"type": "string", "maxLength": TEXT_LIMITS["notes"]},
    },
    "description": "A declined approach carries only status, venue_type, venue, city and started_at.",
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
                    "summary": "Who is calling; for a browser session, the CSRF token for writes.",
                    "responses": {"200": _response("The caller.", "Session"), **_ERRORS},
                }
            },
            "/api/v1/progress": {
                "get": {
                    "summary": "The collection's count: drawings, approaches, withdrawn, the goal.",
                    "responses": {"200": _response("The count.", "Progress"), **_ERRORS},
                }
            },
            "/api/v1/consent/current": {
                "get": {
                    "summary": "The consent text shown to the next participant.",
                    "responses": {
                        "200": _response("The current consent version.", "ConsentVersion"),
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/tickets": {
                "post": {
                    "summary": "Reserve portrait numbers, each with its participant token.",
                    "requestBody": {"required": True, "content": _json("TicketRequest")},
                    "responses": {
                        "201": _response("The reserved tickets.", "TicketList"),
                        "413": _response("A request body over the upload limit."),
                        "422": _response("Invalid count.", "ValidationError"),
                        **_ERRORS,
                    },
                }
            },
            "/api/v1/encounters/{uuid}": {
                "get": {
                    "summary": "An encounter as stored.",
                    "parameters": [uuid_param],
                    "responses": {
                        "200": _response("The encounter.", "Encounter"),
                        "404": _response("No encounter has this UUID."),
                        "410": _response(
                            "The drawer withdrew this drawing: only a tombstone remains."
                        ),
                        **_ERRORS,
                    },
                },
                "put": {
                    "summary": "Record an encounter, idempotently (the client's UUID is the key).",
                    "parameters": [uuid_param],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {
                                    "type": "object",
                                    "required": ["data"],
                                    "properties": {
                                        "data": {"$ref": "#/components/schemas/EncounterData"},
                                        "photo": {
                                            "type": "string",
                                            "format": "binary",
                                            "description": (
                                                "JPEG, PNG, WebP or HEIC; at most "
                                                "FIELDAPP_MAX_PHOTO_BYTES (30 MB by default)."
                                            ),
                                        },
                                    },
                                },
                                "encoding": {"data": {"contentType": "application/json"}},
                            }
                        },
                    },
                    "responses": {
                        "201": _response("Recorded now.", "Encounter"),
                        "200": _response(
                            "Already recorded with the same data (a missing photo is attached).",
                            "Encounter",
                        ),
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
                    "required": ["version", "text", "sha256"],
                    "properties": {
                        "version": {"type": "integer"},
                        "text": {"type": "string"},
                        "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
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
                                    "required": ["sha256", "width", "height"],
                                    "properties": {
                                        "sha256": {
                                            "type": "string",
                                            "description": "SHA-256 of the bytes the client sent",
                                        },
                                        "width": {"type": "integer"},
                                        "height": {"type": "integer"},
                                    },
                                },
                            ]
                        },
                    },
                },
            },
        },
    }
