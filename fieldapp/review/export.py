"""The log as CSV for a spreadsheet: the current filters, streamed, withdrawals honoured."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from sqlalchemy.orm import Session

from fieldapp.consent.services import text_seen
from fieldapp.consent.texts import ConsentText
from fieldapp.encounters.models import Encounter
from fieldapp.review.log import LogFilters, is_status, log_page

COLUMNS = (
    "number", "date", "time", "utc_offset", "status", "venue_type", "occasion", "city",
    "time_limit_seconds", "drawing_seconds", "consent_version", "consent_language",
    "consent_sha256", "keep", "gallery", "training", "social", "age_group", "guardian_agreed",
    "credit", "notes", "photo", "uuid",
)  # fmt: skip
BATCH = 500
# A spreadsheet runs a cell that starts with one of these as a formula (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralised(value: object) -> object:
    """A text cell a spreadsheet would run as a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class TextsSeen:
    """The exact consent text of each encounter, read once per (version, language)."""

    def __init__(self, session: Session):
        self.session = session
        self.known: dict[tuple[int, str | None], ConsentText | None] = {}

    def of(self, encounter: Encounter) -> ConsentText | None:
        if encounter.consent_version_id is None:
            return None
        key = (encounter.consent_version_id, encounter.consent_language)
        if key not in self.known:
            self.known[key] = text_seen(self.session, encounter)
        return self.known[key]


def row_of(encounter: Encounter, seen: ConsentText | None = None) -> list:
    """One encounter as a CSV row, with the exact consent text its drawer saw (`seen`: its
    version, language and SHA-256). A withdrawn drawing is only its tombstone."""
    local = encounter.local_started_at
    status = is_status(encounter)
    if status == "withdrawn":
        return [encounter.number, local.date().isoformat(), "", "", status] + [""] * (
            len(COLUMNS) - 5
        )
    completed = encounter.is_completed
    yes_no = {True: "yes", False: "no", None: ""}
    row = [
        encounter.number or "",
        local.date().isoformat(),
        local.strftime("%H:%M"),
        local.strftime("%z"),
        status,
        encounter.venue_type,
        encounter.venue,
        encounter.city,
        encounter.time_limit_seconds or "",
        encounter.drawing_seconds if encounter.drawing_seconds is not None else "",
        encounter.consent_version_id or "",
        seen.language if seen else "",
        seen.sha256 if seen else "",
        yes_no[encounter.keep],
        yes_no[encounter.gallery],
        yes_no[encounter.training],
        yes_no[encounter.social],
        encounter.age_group if completed else "",
        yes_no[encounter.guardian_agreed] if completed and encounter.is_minor else "",
        (encounter.credit_name or "anonymous") if completed else "",
        encounter.notes,
        "yes" if encounter.photo else "no",
        encounter.uuid,
    ]
    return [neutralised(cell) for cell in row]


def csv_lines(session: Session, filters: LogFilters) -> Iterator[str]:
    """The CSV, header first, a keyset batch at a time (memory stays flat however long)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    texts = TextsSeen(session)
    cursor = None
    while True:
        page = log_page(session, filters, after=cursor, per_page=BATCH)
        for encounter in page.encounters:
            writer.writerow(row_of(encounter, texts.of(encounter)))
        yield out.getvalue()
        out.seek(0)
        out.truncate()
        if page.next_cursor is None:
            return
        cursor = page.next_cursor
