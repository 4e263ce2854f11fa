"""Exports of the collection: which drawings may go out, and writing them as one zip.

An export is built in one pass, one drawing at a time, into a zip on disk (never in memory):
`train/` (images + `metadata.jsonl`, a Hugging Face ImageFolder), `consent/` (every consent
text the drawings record), `README.md` (dataset card), `DATASHEET.md`, `croissant.json` and
`SHA256SUMS`. Its manifest (date, kind, options, counts, consent versions, and which drawings)
is recorded in the same database, so a later withdrawal can be traced to the exports it was in.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import tempfile
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from fieldapp.consent.models import ConsentVersion
from fieldapp.database import utcnow, write_transaction
from fieldapp.dataset import documents
from fieldapp.dataset.images import render_export_image
from fieldapp.dataset.licenses import DEFAULT_LICENSE, LICENSES
from fieldapp.dataset.models import (
    EXPORT_KINDS,
    DatasetExport,
    DatasetExportItem,
    DatasetSettings,
)
from fieldapp.encounters.models import Encounter, EncounterStatus
from fieldapp.media.models import Photo
from fieldapp.media.storage import MediaStore
from fieldapp.media.xmp import with_rights
from fieldapp.signals.services import training_allowed
from fieldapp.tickets.models import Ticket

MIN_SQUARE = 64
MAX_SQUARE = 4096
#: Attempts at an export that a withdrawal (or a change of mind) overtook while it was written.
EXPORT_ATTEMPTS = 3
_BATCH = 200
_COPY_CHUNK = 1024 * 1024


class ExportError(ValueError):
    """An export that cannot be made as asked. The message says why."""


class ExportOvertaken(ExportError):
    """A drawing in the export was withdrawn, or its consent changed, while it was written."""


@dataclass(frozen=True)
class ExportOptions:
    """What the collector chose for one export; every choice is stated in its card."""

    kind: str = "training"  # "training": keep + training only; "archive": every kept drawing
    image_size: int | None = None  # None: the stored display size; N: a white square of N px
    ink: bool = False  # only the red ink lines, on white

    def __post_init__(self):
        if self.kind not in EXPORT_KINDS:
            raise ExportError(f"Unknown export kind {self.kind!r}: training or archive.")
        if self.image_size is not None and not MIN_SQUARE <= self.image_size <= MAX_SQUARE:
            raise ExportError(f"The square size must be {MIN_SQUARE}-{MAX_SQUARE} px.")


# Settings --------------------------------------------------------------------------------


def dataset_settings(session: Session) -> DatasetSettings:
    """The collector's dataset settings (defaults, not yet saved, when never written)."""
    found = session.scalar(select(DatasetSettings).order_by(DatasetSettings.id).limit(1))
    if found is not None:
        return found
    return DatasetSettings(
        license=DEFAULT_LICENSE, pretty_name="", creator="", contact="", answers={},
        default_size=None, default_ink=False,
    )  # fmt: skip


def save_dataset_settings(session: Session, **values) -> DatasetSettings:
    """Write the settings (one row), in a write transaction."""
    if values.get("license") not in LICENSES:
        raise ExportError(f"Choose a license from the list, not {values.get('license')!r}.")
    with write_transaction(session):
        settings = session.scalar(select(DatasetSettings).order_by(DatasetSettings.id).limit(1))
        if settings is None:
            settings = DatasetSettings()
            session.add(settings)
        for name, value in values.items():
            setattr(settings, name, value)
        settings.updated_at = utcnow()
    return settings


def default_options(settings: DatasetSettings, kind: str = "training") -> ExportOptions:
    return ExportOptions(kind=kind, image_size=settings.default_size, ink=settings.default_ink)


# Which drawings --------------------------------------------------------------------------


def _eligible(kind: str):
    """The condition for a drawing to be in an export of this kind, checked at export time."""
    conditions = [
        Encounter.status == EncounterStatus.COMPLETED,
        Encounter.withdrawn_at.is_(None),
        Encounter.keep.is_(True),
    ]
    if kind == "training":
        conditions.append(Encounter.training.is_(True))
    return and_(*conditions)


def count_eligible(session: Session, kind: str) -> int:
    """How many drawings an export of this kind would hold now (photographed ones only)."""
    return session.scalar(
        select(func.count())
        .select_from(Encounter)
        .join(Photo, Photo.encounter_id == Encounter.id)
        .join(Ticket, Ticket.id == Encounter.ticket_id)
        .where(_eligible(kind))
    )


_ROW_COLUMNS = (
    Encounter.id, Ticket.number, Encounter.started_at, Encounter.utc_offset_minutes,
    Encounter.venue_type, Encounter.city, Encounter.time_limit_seconds,
    Encounter.drawing_started_at, Encounter.drawing_finished_at, Encounter.credit_name,
    Encounter.consent_version_id, Encounter.keep, Encounter.gallery, Encounter.training,
    Encounter.social, Photo.display_name,
)  # fmt: skip


def _eligible_rows(session: Session, kind: str) -> Iterator:
    """The drawings of an export as light rows, by portrait number, fetched a batch at a time."""
    query = (
        select(*_ROW_COLUMNS)
        .join(Photo, Photo.encounter_id == Encounter.id)
        .join(Ticket, Ticket.id == Encounter.ticket_id)
        .where(_eligible(kind))
        .order_by(Ticket.number)
        .execution_options(yield_per=_BATCH)
    )
    yield from session.execute(query)


# The export ------------------------------------------------------------------------------


@dataclass
class ExportStats:
    """Figures gathered while the drawings are written, for the card and the datasheet."""

    count: int = 0
    credited: int = 0
    first_date: str | None = None
    last_date: str | None = None
    venue_types: Counter = field(default_factory=Counter)
    cities: Counter = field(default_factory=Counter)
    time_limits: Counter = field(default_factory=Counter)
    drawing_seconds: list[int] = field(default_factory=list)
    versions: Counter = field(default_factory=Counter)
    choices: Counter = field(default_factory=Counter)

    def add(self, row: dict) -> None:
        self.count += 1
        self.credited += row["credit"] is not None
        self.first_date = min(filter(None, (self.first_date, row["date"])))
        self.last_date = max(filter(None, (self.last_date, row["date"])))
        self.venue_types[row["venue_type"]] += 1
        if row["city"]:
            self.cities[row["city"]] += 1
        self.time_limits[row["time_limit_seconds"]] += 1
        if row["drawing_seconds"] is not None:
            self.drawing_seconds.append(row["drawing_seconds"])
        self.versions[row["consent_version"]] += 1
        for name in ("gallery", "training", "social"):
            self.choices[name] += bool(row[f"consent_{name}"])

    @property
    def median_drawing_seconds(self) -> int | None:
        return round(statistics.median(self.drawing_seconds)) if self.drawing_seconds else None

    @property
    def total_drawing_hours(self) -> float:
        return sum(self.drawing_seconds) / 3600


@dataclass(frozen=True)
class CollectionFigures:
    """The whole log at export time: what the export is a part of."""

    approaches: int
    declined: int
    completed: int
    withdrawn: int
    kept: int
    training: int


def collection_figures(session: Session) -> CollectionFigures:
    def count(*where) -> int:
        return session.scalar(select(func.count()).select_from(Encounter).where(*where))

    completed = Encounter.status == EncounterStatus.COMPLETED
    return CollectionFigures(
        approaches=count(),
        declined=count(Encounter.status == EncounterStatus.DECLINED),
        completed=count(completed),
        withdrawn=count(completed, Encounter.withdrawn_at.is_not(None)),
        kept=count(_eligible("archive")),
        training=count(_eligible("training")),
    )


def metadata_row(row, file_name: str, version: ConsentVersion | None) -> dict:
    """One line of `metadata.jsonl`: the drawing's provenance and its drawer's choices."""
    seconds = None
    if row.drawing_started_at and row.drawing_finished_at:
        seconds = round((row.drawing_finished_at - row.drawing_started_at).total_seconds())
    local = row.started_at.astimezone(timezone(timedelta(minutes=row.utc_offset_minutes)))
    return {
        "file_name": file_name,
        "portrait_number": row.number,
        "date": local.date().isoformat(),
        "venue_type": row.venue_type,
        "city": row.city or None,
        "time_limit_seconds": row.time_limit_seconds,
        "drawing_seconds": seconds,
        "credit": row.credit_name,  # None: the drawer chose to stay anonymous
        "consent_version": version.id if version else None,
        "consent_sha256": version.sha256 if version else None,
        "consent_keep": bool(row.keep),
        "consent_gallery": bool(row.gallery),
        "consent_training": bool(row.training),
        "consent_social": bool(row.social),
    }


@dataclass
class _ZipWriter:
    """Adds files to the zip one at a time, remembering each file's SHA-256 for SHA256SUMS."""

    archive: zipfile.ZipFile
    sums: list[tuple[str, str]] = field(default_factory=list)

    def add_bytes(self, name: str, data: bytes, *, compress: bool = True) -> str:
        info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        self.archive.writestr(info, data)
        digest = hashlib.sha256(data).hexdigest()
        self.sums.append((name, digest))
        return digest

    def add_file(self, name: str, path: Path) -> str:
        digest = hashlib.sha256()
        info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        with path.open("rb") as source, self.archive.open(info, "w", force_zip64=True) as target:
            while chunk := source.read(_COPY_CHUNK):
                digest.update(chunk)
                target.write(chunk)
        self.sums.append((name, digest.hexdigest()))
        return digest.hexdigest()


_ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # fixed: the same drawings give the same bytes


def write_export(
    session: Session,
    store: MediaStore,
    target: BinaryIO,
    options: ExportOptions,
    *,
    made_by: str,
    progress: Callable[[int], None] | None = None,
) -> DatasetExport:
    """Write an export of the collection as a zip into `target`, and record its manifest.

    Images are read, re-encoded (no metadata but the drawer's rights XMP) and written one at
    a time. Raises ExportOvertaken, recording nothing, when a drawing in it was withdrawn or
    lost its consent while the zip was written: the caller then makes a new one.
    """
    settings = dataset_settings(session)
    created_at = utcnow()
    figures = collection_figures(session)
    versions = {v.id: v for v in session.scalars(select(ConsentVersion))}
    stats = ExportStats()
    included: list[tuple[int, int]] = []  # (encounter id, portrait number)
    with (
        tempfile.TemporaryDirectory(prefix="fieldapp-export-") as scratch,
        zipfile.ZipFile(target, "w", allowZip64=True) as archive,
    ):
        writer = _ZipWriter(archive)
        metadata_path = Path(scratch) / "metadata.jsonl"
        with metadata_path.open("w", encoding="utf-8") as metadata:
            for row in _eligible_rows(session, options.kind):
                try:
                    data, extension = render_export_image(
                        store.path(row.display_name), size=options.image_size, ink=options.ink
                    )
                except FileNotFoundError:
                    raise ExportOvertaken(f"The photo of #{row.number} was removed.") from None
                data = with_rights(
                    data, training_allowed=training_allowed(row), creator=row.credit_name
                )
                file_name = f"portrait-{row.number:05d}.{extension}"
                writer.add_bytes(f"train/{file_name}", data, compress=False)
                entry = metadata_row(row, file_name, versions.get(row.consent_version_id))
                metadata.write(json.dumps(entry, ensure_ascii=False) + "\n")
                stats.add(entry)
                included.append((row.id, row.number))
                if progress:
                    progress(1)
        metadata_sha256 = writer.add_file("train/metadata.jsonl", metadata_path)
        used = [versions[v] for v in sorted(v for v in stats.versions if v is not None)]
        for version in used:
            writer.add_bytes(f"consent/version-{version.id}.txt", version.text.encode() + b"\n")
        context = documents.ExportContext(
            settings=settings,
            options=options,
            stats=stats,
            figures=figures,
            created_at=created_at,
            consent_versions=used,
            metadata_sha256=metadata_sha256,
            image_extension="png" if options.ink else "jpg",
        )
        writer.add_bytes("README.md", documents.dataset_card(context).encode())
        writer.add_bytes("DATASHEET.md", documents.datasheet(context).encode())
        croissant = json.dumps(documents.croissant(context), indent=2, ensure_ascii=False)
        writer.add_bytes("croissant.json", croissant.encode())
        sums = "".join(f"{digest}  {name}\n" for name, digest in writer.sums)
        archive.writestr(zipfile.ZipInfo("SHA256SUMS", date_time=_ZIP_TIME), sums)
    return _record_manifest(
        session, options, settings, created_at, included, [v.id for v in used], made_by
    )


def _record_manifest(session, options, settings, created_at, included, versions, made_by):
    with write_transaction(session):
        for start in range(0, len(included), 500):
            ids = [encounter_id for encounter_id, _ in included[start : start + 500]]
            still = session.scalar(
                select(func.count())
                .select_from(Encounter)
                .where(Encounter.id.in_(ids), _eligible(options.kind))
            )
            if still != len(ids):
                raise ExportOvertaken("A drawing was withdrawn while the export was written.")
        manifest = DatasetExport(
            created_at=created_at,
            kind=options.kind,
            image_size=options.image_size,
            ink=options.ink,
            license=settings.license,
            item_count=len(included),
            consent_versions=versions,
            made_by=made_by,
        )
        session.add(manifest)
        session.flush()
        if included:
            session.execute(
                DatasetExportItem.__table__.insert(),
                [
                    {"export_id": manifest.id, "encounter_id": encounter_id, "number": number}
                    for encounter_id, number in included
                ],
            )
    return manifest


def export_to_file(
    session: Session,
    store: MediaStore,
    path: Path,
    options: ExportOptions,
    *,
    made_by: str,
    progress: Callable[[int], None] | None = None,
) -> DatasetExport:
    """Write an export to `path` (through a temporary file beside it, renamed when whole).

    An export overtaken by a withdrawal is made again, up to EXPORT_ATTEMPTS times; the file
    at `path` never holds a drawing withdrawn before its manifest was recorded.
    """
    for attempt in range(1, EXPORT_ATTEMPTS + 1):
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".export-", suffix=".zip")
        try:
            with os.fdopen(fd, "w+b") as temp:
                manifest = write_export(
                    session, store, temp, options, made_by=made_by, progress=progress
                )
                _seal(session, manifest, temp)
            os.replace(temp_name, path)
            return manifest
        except ExportOvertaken:
            session.rollback()
            if attempt == EXPORT_ATTEMPTS:
                raise
        finally:
            Path(temp_name).unlink(missing_ok=True)
    raise AssertionError("unreachable")


def export_to_temporary(
    session: Session, store: MediaStore, options: ExportOptions, *, directory: str | None = None
) -> tuple[DatasetExport, BinaryIO]:
    """An export in an anonymous temporary file (gone when closed), rewound, for streaming."""
    for attempt in range(1, EXPORT_ATTEMPTS + 1):
        # Not a `with`: on success the open file is handed to the response, which closes it.
        temp = tempfile.TemporaryFile(dir=directory, suffix=".zip")  # noqa: SIM115
        try:
            manifest = write_export(session, store, temp, options, made_by="web")
            _seal(session, manifest, temp)
        except ExportOvertaken:
            temp.close()
            session.rollback()
            if attempt == EXPORT_ATTEMPTS:
                raise
            continue
        except BaseException:
            temp.close()
            raise
        temp.seek(0)
        return manifest, temp
    raise AssertionError("unreachable")


def _seal(session: Session, manifest: DatasetExport, zip_file: BinaryIO) -> None:
    """Record the finished zip's size and SHA-256 on its manifest."""
    zip_file.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := zip_file.read(_COPY_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    with write_transaction(session):
        manifest = session.get(DatasetExport, manifest.id)
        manifest.zip_bytes = size
        manifest.zip_sha256 = digest.hexdigest()


# Past exports ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PastExport:
    manifest: DatasetExport
    withdrawn_numbers: list[int]


def past_exports(session: Session) -> list[PastExport]:
    """Every export, newest first, each with the numbers of its drawings withdrawn since."""
    manifests = list(session.scalars(select(DatasetExport).order_by(DatasetExport.id.desc())))
    withdrawn: dict[int, list[int]] = {}
    rows = session.execute(
        select(DatasetExportItem.export_id, DatasetExportItem.number)
        .join(Encounter, Encounter.id == DatasetExportItem.encounter_id)
        .where(Encounter.withdrawn_at.is_not(None))
        .order_by(DatasetExportItem.number)
    )
    for export_id, number in rows:
        withdrawn.setdefault(export_id, []).append(number)
    return [PastExport(m, withdrawn.get(m.id, [])) for m in manifests]


def export_file_name(manifest: DatasetExport) -> str:
    """The download's name: kind and time, e.g. drawings-training-20260603-221500.zip."""
    stamp = manifest.created_at.strftime("%Y%m%d-%H%M%S")
    return f"drawings-{manifest.kind}-{stamp}.zip"


def parse_size(raw: str | None) -> int | None:
    """A size option as typed: empty or "display" for the stored size, else N px."""
    if raw in (None, "", "display"):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ExportError(f"The image size must be a number of pixels, not {raw!r}.") from None
