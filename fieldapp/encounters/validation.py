"""Reading an encounter upload's `data` JSON into checked values, with errors people can act on."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from fieldapp.consent.services import MINOR_RULES, ConsentChoices
from fieldapp.encounters.models import (
    AGE_ADULT,
    AGE_GROUPS,
    AGE_MINOR,
    VENUE_TYPES,
    EncounterStatus,
)
from fieldapp.i18n import LANGUAGES

MAX_TIME_LIMIT_SECONDS = 24 * 3600
MAX_FUTURE_SKEW = timedelta(days=1)  # a phone clock a little ahead is fine; next year is not
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
TEXT_LIMITS = {"venue": 200, "city": 100, "notes": 2000}
NAME_LIMIT = 100
MAX_ID = 2**31 - 1  # the largest id every database we run on stores
# Control characters (NUL above all: PostgreSQL refuses it in text), except tab and newlines.
_CONTROL = {chr(c) for c in range(32) if chr(c) not in "\t\n\r"} | {"\x7f"}
FIELDS = {
    "status", "ticket", "venue_type", "venue", "city", "started_at", "drawing_started_at",
    "drawing_finished_at", "time_limit_seconds", "consent", "credit", "notes", "age_group",
}  # fmt: skip
CONSENT_FIELDS = ("keep", "gallery", "training", "social")
# A declined approach keeps the venue and the time, nothing about the person: these fields may
# only be absent or empty ("", null or {}), and anything in them refuses the upload rather than
# being dropped, so that an approach wrongly marked declined is flagged on the phone instead of
# losing its drawer's choices. The OpenAPI document says the same (`DeclinedEncounterData`).
NOT_FOR_DECLINED = (
    "ticket", "drawing_started_at", "drawing_finished_at", "time_limit_seconds", "consent",
    "credit", "notes", "age_group",
)  # fmt: skip


class InvalidEncounter(ValueError):
    """The data cannot be recorded. `errors` is a list of {"field", "message"}."""

    def __init__(self, errors: list[dict[str, str]]):
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


@dataclass(frozen=True)
class EncounterData:
    """A checked encounter, as the phone described it."""

    status: EncounterStatus
    venue_type: str
    venue: str
    city: str
    started_at: datetime
    ticket: str | None = None
    drawing_started_at: datetime | None = None
    drawing_finished_at: datetime | None = None
    time_limit_seconds: int | None = None
    consent_version: int | None = None
    # The language of the consent text shown (a tag of LANGUAGES), None when the phone did not
    # say: the version's own language. Whether that version has a text in it is checked when
    # the encounter is stored (the database knows the translations).
    consent_language: str | None = None
    choices: ConsentChoices | None = None
    credit_name: str | None = None  # None: anonymous
    notes: str = ""
    # Phones that queued an encounter before age groups existed send none: those were adults.
    age_group: str = AGE_ADULT
    fingerprint: str = ""  # SHA-256 of the canonical JSON: equal uploads have equal prints


def parse_encounter_data(raw: Any, *, now: datetime | None = None) -> EncounterData:
    """Check an upload's `data` object; raise InvalidEncounter listing every problem found."""
    if not isinstance(raw, dict):
        raise InvalidEncounter([{"field": "data", "message": "must be a JSON object"}])
    reader = _Reader(raw, now or datetime.now(UTC))
    for key in sorted(set(raw) - FIELDS):
        reader.error(key, "is not a field of an encounter")
    status = reader.choice("status", [s.value for s in EncounterStatus], required=True)
    values: dict[str, Any] = {
        "venue_type": reader.choice("venue_type", VENUE_TYPES, required=True),
        "venue": reader.text("venue"),
        "city": reader.text("city"),
        "started_at": reader.moment("started_at", required=True),
    }
    if status == EncounterStatus.DECLINED:
        for key in NOT_FOR_DECLINED:
            if raw.get(key) not in (None, "", {}):
                reader.error(key, "a declined approach keeps only the venue and the time")
    elif status == EncounterStatus.COMPLETED:
        values |= _completed_fields(reader)
    if reader.errors:
        raise InvalidEncounter(reader.errors)
    assert status is not None  # required: its absence is among the errors above
    return EncounterData(status=EncounterStatus(status), fingerprint=_fingerprint(raw), **values)


def _completed_fields(reader: _Reader) -> dict[str, Any]:
    raw = reader.raw
    ticket = raw.get("ticket")
    if ticket is not None and (not isinstance(ticket, str) or not ticket):
        reader.error("ticket", "must be the token of a reserved ticket, or left out")
        ticket = None
    drawing_started = reader.moment("drawing_started_at")
    drawing_finished = reader.moment("drawing_finished_at")
    if drawing_finished and not drawing_started:
        reader.error("drawing_started_at", "is needed when drawing_finished_at is given")
    if drawing_started and drawing_finished and drawing_finished < drawing_started:
        reader.error("drawing_finished_at", "is before drawing_started_at")
    version, language, choices = _consent(reader)
    credit_name = _credit(reader)
    age_group = reader.choice("age_group", AGE_GROUPS) or AGE_ADULT
    if age_group == AGE_MINOR:
        _minor_limits(reader, choices, credit_name)
    return {
        "ticket": ticket,
        "drawing_started_at": drawing_started,
        "drawing_finished_at": drawing_finished,
        "time_limit_seconds": _time_limit(reader),
        "consent_version": version,
        "consent_language": language,
        "choices": choices,
        "credit_name": credit_name,
        "notes": reader.text("notes"),
        "age_group": age_group,
    }


def _minor_limits(reader: _Reader, choices: ConsentChoices | None, credit_name: str | None) -> None:
    """A minor's drawing is never trained on, posted or credited by name: each is refused."""
    if choices is not None and choices.training:
        reader.error("consent.training", MINOR_RULES["training"])
    if choices is not None and choices.social:
        reader.error("consent.social", MINOR_RULES["social"])
    if credit_name is not None:
        reader.error("credit.name", MINOR_RULES["credit"])


def whole_number(value: Any) -> int | None:
    """`value` as an int if it is a JSON integer, else None.

    JSON Schema counts 120.0 as an integer (it is one, written with a point), and so do we; a
    boolean is not a number here, though Python says True == 1.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _time_limit(reader: _Reader) -> int | None:
    raw_value = reader.raw.get("time_limit_seconds")
    if raw_value is None:
        return None
    value = whole_number(raw_value)
    if value is None:
        reader.error("time_limit_seconds", "must be a whole number of seconds, or null for none")
    elif not 1 <= value <= MAX_TIME_LIMIT_SECONDS:
        reader.error("time_limit_seconds", f"must be between 1 and {MAX_TIME_LIMIT_SECONDS}")
    else:
        return value
    return None


def _consent(reader: _Reader) -> tuple[int | None, str | None, ConsentChoices | None]:
    consent = reader.raw.get("consent")
    if not isinstance(consent, dict):
        reader.error("consent", "is required: {version, keep, gallery, training, social}")
        return None, None, None
    for key in sorted(set(consent) - {"version", "language", *CONSENT_FIELDS}):
        reader.error(f"consent.{key}", "is not a consent choice")
    version = whole_number(consent.get("version"))
    if version is None or not 1 <= version <= MAX_ID:
        reader.error("consent.version", "must be the number of the consent text shown")
        version = None
    language = consent.get("language")
    if language is not None and (not isinstance(language, str) or language not in LANGUAGES):
        reader.error(
            "consent.language",
            f"must be the language of the consent text shown: one of {', '.join(LANGUAGES)}",
        )
        language = None
    flags: dict[str, Any] = {}  # as sent; booleans once checked below
    for key in CONSENT_FIELDS:
        flags[key] = consent.get(key)
        if not isinstance(flags[key], bool):
            reader.error(f"consent.{key}", "must be true or false")
    if any(not isinstance(v, bool) for v in flags.values()):
        return version, language, None
    choices = ConsentChoices(**flags)
    if not choices.keep:
        for key in ("gallery", "training", "social"):
            if flags[key]:
                reader.error(
                    f"consent.{key}",
                    "needs consent.keep: a drawing not kept cannot be shown or used",
                )
    return version, language, choices


def _credit(reader: _Reader) -> str | None:
    credit = reader.raw.get("credit")
    if isinstance(credit, dict) and set(credit) == {"anonymous"} and credit["anonymous"] is True:
        return None
    if isinstance(credit, dict) and set(credit) == {"name"} and isinstance(credit["name"], str):
        name = " ".join(credit["name"].split())
        if problem := text_problem(name):
            reader.error("credit.name", problem)
        elif not name:
            reader.error("credit.name", "is empty: give a name, or choose anonymous")
        elif len(name) > NAME_LIMIT:
            reader.error("credit.name", f"is longer than {NAME_LIMIT} characters")
        return name or None
    reader.error("credit", 'must be {"anonymous": true} or {"name": "..."}')
    return None


class _Reader:
    def __init__(self, raw: dict, now: datetime):
        self.raw = raw
        self.now = now
        self.errors: list[dict[str, str]] = []

    def error(self, field: str, message: str) -> None:
        self.errors.append({"field": field, "message": message})

    def choice(self, key: str, allowed, *, required: bool = False) -> str | None:
        value = self.raw.get(key)
        if value is None and not required:
            return None
        if value not in allowed:
            self.error(key, f"must be one of: {', '.join(allowed)}")
            return None
        return value

    def text(self, key: str) -> str:
        value = self.raw.get(key)
        if value is None:
            return ""
        if not isinstance(value, str):
            self.error(key, "must be text")
            return ""
        value = value.strip()
        if problem := text_problem(value):
            self.error(key, problem)
        elif len(value) > TEXT_LIMITS[key]:
            self.error(key, f"is longer than {TEXT_LIMITS[key]} characters")
        return value

    def moment(self, key: str, *, required: bool = False) -> datetime | None:
        value = self.raw.get(key)
        if value is None:
            if required:
                self.error(key, "is required (ISO 8601 with a UTC offset)")
            return None
        try:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else None
            if moment is not None and moment.tzinfo is not None:
                moment.astimezone(UTC)  # 9999-12-31T23:59-14:00 has no UTC time
        except (ValueError, OverflowError):
            moment = None
        if moment is None or moment.tzinfo is None:
            self.error(
                key,
                "must be an ISO 8601 date and time with a UTC offset, e.g. 2026-05-20T21:30:00+02:00",
            )
            return None
        if moment > self.now + MAX_FUTURE_SKEW:
            self.error(key, "is in the future: check the phone's clock")
        elif moment < EARLIEST:
            self.error(key, "is before the year 2000")
        return moment


def text_problem(value: str) -> str | None:
    """Why a piece of text cannot be stored as it is, or None."""
    if any(ch in _CONTROL for ch in value):
        return "contains control characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text"
    return None


def _fingerprint(raw: dict) -> str:
    canonical = json.dumps(
        _whole_floats_as_ints(raw), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _whole_floats_as_ints(value: Any) -> Any:
    """The same JSON with 120.0 written 120, so that both spellings are the same upload."""
    if isinstance(value, dict):
        return {key: _whole_floats_as_ints(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_whole_floats_as_ints(item) for item in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value
