"""Exports of the collection: which drawings may go out, and writing them as one zip.

An export is made in one pass, one drawing at a time, and handed on as it is made (a download
starts with the first drawing; the command line writes a file): `train/` (images, then
`metadata.jsonl`, a Hugging Face ImageFolder), `consent/` (every consent text the drawings
record), `README.md` (dataset card), `DATASHEET.md`, `croissant.json` and `SHA256SUMS` — the
files that need every drawing come after the images. Its manifest (date, kind, options, counts,
consent versions, and which drawings) is recorded in the same database once the whole zip was
delivered, so a later withdrawal can be traced to the exports it was in.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import statistics
import tempfile
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO, cast

from sqlalchemy import Table, and_, func, select
from sqlalchemy.orm import Session

from fieldapp.consent.models import ConsentVersion
from fieldapp.consent.services import texts_of
from fieldapp.consent.texts import ConsentText
from fieldapp.database import utcnow, write_transaction
from fieldapp.dataset import documents, provenance
from fieldapp.dataset.images import render_export_image
from fieldapp.dataset.licenses import DEFAULT_LICENSE, LICENSES
from fieldapp.dataset.models import (
    EXPORT_KINDS,
    DatasetExport,
    DatasetExportItem,
    DatasetSettings,
)
from fieldapp.dataset.streaming_zip import StreamingZip
from fieldapp.dataset.versioning import export_version
from fieldapp.encounters.models import AGE_MINOR, Encounter, EncounterStatus
from fieldapp.media.models import Photo
from fieldapp.media.storage import MediaStore
from fieldapp.media.xmp import with_rights
from fieldapp.signals.services import training_allowed
from fieldapp.tickets.models import Ticket

MIN_SQUARE = 64
MAX_SQUARE = 4096
#: Attempts at a file export (the command line) that a withdrawal overtook while it was written;
#: a download cannot start again once its first bytes are out (see stream_export()).
EXPORT_ATTEMPTS = 3
_BATCH = 200

log = logging.getLogger(__name__)


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
        # A minor's drawing is never trained on, whatever its choices say.
        conditions += [Encounter.training.is_(True), Encounter.age_group != AGE_MINOR]
    return and_(*conditions)


def count_eligible(session: Session, kind: str) -> int:
    """How many drawings an export of this kind would hold now (photographed ones only)."""
    return session.scalars(
        select(func.count())
        .select_from(Encounter)
        .join(Photo, Photo.encounter_id == Encounter.id)
        .join(Ticket, Ticket.id == Encounter.ticket_id)
        .where(_eligible(kind))
    ).one()


_ROW_COLUMNS = (
    Encounter.id, Ticket.number, Encounter.started_at, Encounter.utc_offset_minutes,
    Encounter.venue_type, Encounter.city, Encounter.time_limit_seconds,
    Encounter.drawing_started_at, Encounter.drawing_finished_at, Encounter.credit_name,
    Encounter.consent_version_id, Encounter.keep, Encounter.gallery, Encounter.training,
    Encounter.social, Encounter.consent_language, Encounter.age_group, Photo.display_name,
    Photo.framing,
)  # fmt: skip


def _eligible_rows(session: Session, kind: str) -> Iterator:
    """The drawings of an export as light rows, by portrait number, read a batch at a time,
    each batch in a short read transaction of its own (seeing the withdrawals before it)."""
    after = None
    while True:
        query = (
            select(*_ROW_COLUMNS)
            .join(Photo, Photo.encounter_id == Encounter.id)
            .join(Ticket, Ticket.id == Encounter.ticket_id)
            .where(_eligible(kind))
            .order_by(Ticket.number)
            .limit(_BATCH)
        )
        if after is not None:
            query = query.where(Ticket.number > after)
        batch = session.execute(query).all()
        session.commit()
        if not batch:
            return
        yield from batch
        after = batch[-1].number


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
    texts: Counter = field(default_factory=Counter)  # by (version, language)
    choices: Counter = field(default_factory=Counter)
    minors: int = 0
    framings: Counter = field(default_factory=Counter)  # by Photo.framing: auto, manual, none

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
        if row["consent_version"] is not None:
            self.texts[row["consent_version"], row["consent_language"]] += 1
        self.minors += row["age_group"] == AGE_MINOR
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
    minors_kept: int  # minors' drawings kept: every one left out of training


def collection_figures(session: Session) -> CollectionFigures:
    def count(*where) -> int:
        return session.scalars(select(func.count()).select_from(Encounter).where(*where)).one()

    completed = Encounter.status == EncounterStatus.COMPLETED
    return CollectionFigures(
        approaches=count(),
        declined=count(Encounter.status == EncounterStatus.DECLINED),
        completed=count(completed),
        withdrawn=count(completed, Encounter.withdrawn_at.is_not(None)),
        kept=count(_eligible("archive")),
        training=count(_eligible("training")),
        minors_kept=count(_eligible("archive"), Encounter.age_group == AGE_MINOR),
    )


def metadata_row(row, file_name: str, text: ConsentText | None) -> dict:
    """One line of `metadata.jsonl`: the drawing's provenance, the exact consent text its
    drawer read (version, language, SHA-256: the translation's if they read one) and their
    choices."""
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
        "consent_version": text.version_id if text else None,
        "consent_language": text.language if text else None,
        "consent_sha256": text.sha256 if text else None,
        "consent_keep": bool(row.keep),
        "consent_gallery": bool(row.gallery),
        "consent_training": bool(row.training),
        "consent_social": bool(row.social),
        "age_group": row.age_group,
        "framing": row.framing,
    }


@dataclass(frozen=True)
class _Written:
    """An archive written to its last byte, not yet recorded."""

    options: ExportOptions
    license: str
    created_at: datetime
    included: list[tuple[int, int]]  # (encounter id, portrait number)
    consent_versions: list[int]
    zip_bytes: int
    zip_sha256: str


def stream_export(
    session: Session,
    store: MediaStore,
    options: ExportOptions,
    *,
    made_by: str = "web",
    created_at: datetime | None = None,
    scratch_dir: str | None = None,
) -> Iterator[bytes]:
    """The export as zip bytes, made while they are read; recorded once read to the end.

    The first bytes come as soon as the first drawing is encoded, whatever the collection's
    size. The manifest ("delivered") is recorded only after the last bytes were taken, that
    is when the WSGI server asks for more after handing them on; a download that stops before
    (the generator closed: GeneratorExit) records nothing and leaves nothing on disk.

    Withdrawals cannot restart a download whose first bytes are out, so they are met where
    each drawing is written, and once more before the archive is finished:

    - each drawing is read again after its image is encoded, just before its bytes go out:
      one withdrawn (or no longer allowed for training) by then is left out of the zip, its
      `metadata.jsonl`, SHA256SUMS, card and manifest; its rights XMP and metadata row are
      those of that read (a credit erased meanwhile is not written);
    - a drawing withdrawn after its bytes went out, while the rest was written, makes the
      export fail before its central directory: no reader opens a zip without one, the
      client sees a broken download (the connection ends without the end of the response),
      nothing is recorded, and the next export leaves the drawing out;
    - a withdrawal after that last check, while the central directory (the archive's last
      bytes) is handed on, is one the whole archive had already met: the manifest lists the
      drawing, and past exports show it as withdrawn since, as for any later withdrawal.

    No read transaction stays open between drawings: a slow download holds no snapshot
    (SQLite's WAL could not be checkpointed; PostgreSQL could not vacuum).
    """
    created_at = created_at or utcnow()
    tally = _Tally()
    try:
        written = yield from _archive_chunks(
            session, store, options, created_at, tally, scratch_dir=scratch_dir
        )
    except GeneratorExit:
        log.warning(
            "Dataset export (%s) abandoned after %d bytes, %d drawings: the download stopped "
            "before its end. Nothing recorded.",
            options.kind, tally.byte_count, tally.drawings,
        )  # fmt: skip
        raise
    except BaseException as error:
        log.warning(
            "Dataset export (%s) failed after %d bytes, %d drawings: %s. Nothing recorded.",
            options.kind, tally.byte_count, tally.drawings, error,
        )  # fmt: skip
        raise
    manifest = _record_manifest(session, written, made_by=made_by, refuse_withdrawn=False)
    log.info(
        "Dataset export #%d delivered (%s): %d drawings, %d bytes, SHA-256 %s.",
        manifest.id, manifest.kind, manifest.item_count, manifest.zip_bytes, manifest.zip_sha256,
    )  # fmt: skip


@dataclass
class _Tally:
    """How far an export went: bytes handed on, their SHA-256 so far, drawings written."""

    byte_count: int = 0
    drawings: int = 0
    digest: hashlib._Hash = field(default_factory=hashlib.sha256)

    def out(self, data: bytes) -> bytes:
        self.byte_count += len(data)
        self.digest.update(data)
        return data


def _archive_chunks(
    session: Session,
    store: MediaStore,
    options: ExportOptions,
    created_at: datetime,
    tally: _Tally,
    *,
    scratch_dir: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> Generator[bytes, None, _Written]:
    """Write the zip, yielding each drawing's bytes as soon as they are in it; returns what
    the manifest needs. Raises ExportOvertaken before the last bytes when a drawing already
    handed on was withdrawn meanwhile (see stream_export)."""
    settings = dataset_settings(session)
    figures = collection_figures(session)
    versions = {v.id: v for v in session.scalars(select(ConsentVersion))}
    texts = {(t.version_id, t.language): t for v in versions.values() for t in texts_of(session, v)}
    _freeze(session, settings, *versions.values())
    session.commit()  # the card describes the settings as they were when the export began
    stats = ExportStats()
    included: list[tuple[int, int]] = []
    archive = StreamingZip()
    # metadata.jsonl needs every row, and goes in after the images: an anonymous file (gone
    # from the disk as soon as it is closed, even if the process is killed).
    with (
        tempfile.TemporaryFile(dir=scratch_dir, prefix="fieldapp-export-") as metadata,
        provenance.export_signer() as signer,
    ):
        for row in _eligible_rows(session, options.kind):
            if progress:
                progress(1)
            rendered = _render(store, row.display_name, options)  # the slow part, first
            current = _current_row(session, row.id, options.kind)
            if current is None:
                continue  # withdrawn (or training refused) since the batch was read
            if rendered is None or current.display_name != row.display_name:
                rendered = _render(store, current.display_name, options)  # photo replaced
                if rendered is None:
                    raise ExportError(f"The photo of #{row.number} is missing from the media.")
            pixels, extension = rendered
            # Rights and metadata as read just now: a drawer who chose anonymity meanwhile is
            # not credited.
            file_name, data = _exported_image(signer, current, pixels, extension, options)
            archive.add_bytes(f"train/{file_name}", data, compress=False)
            entry = metadata_row(current, file_name, _text_of(current, versions, texts))
            metadata.write(json.dumps(entry, ensure_ascii=False).encode() + b"\n")
            stats.add(entry)
            stats.framings[current.framing] += 1
            included.append((current.id, current.number))
            tally.drawings += 1
            yield tally.out(archive.take())
        metadata_sha256 = archive.add_file("train/metadata.jsonl", metadata)
    used = [versions[v] for v in sorted(v for v in stats.versions if v is not None)]
    used_texts = [texts[key] for key in sorted(stats.texts)]
    for text in used_texts:
        # The file holds exactly the bytes hashed: `sha256sum` of it is `consent_sha256`.
        archive.add_bytes(consent_file(text), text.hashed_bytes())
    archive.add_bytes("consent/index.json", _consent_index(used_texts, stats))
    context = documents.ExportContext(
        settings=settings,
        options=options,
        stats=stats,
        figures=figures,
        created_at=created_at,
        consent_versions=used,
        consent_texts=used_texts,
        metadata_sha256=metadata_sha256,
        image_extension="png" if options.ink else "jpg",
        version=export_version(session, options, settings.license, included),
    )
    archive.add_bytes("README.md", documents.dataset_card(context).encode())
    archive.add_bytes("DATASHEET.md", documents.datasheet(context).encode())
    croissant = json.dumps(documents.croissant(context, archive.sums), indent=2, ensure_ascii=False)
    archive.add_bytes("croissant.json", croissant.encode())
    sums = "".join(f"{digest}  {name}\n" for name, digest in archive.sums)
    archive.add_bytes("SHA256SUMS", sums.encode(), compress=False, listed=False)
    yield tally.out(archive.take())
    late = _no_longer_eligible(session, included, options.kind)
    session.commit()
    if late:
        numbers = ", ".join(f"#{n}" for n in late)
        raise ExportOvertaken(f"{numbers} withdrawn while the export was written: start again.")
    yield tally.out(archive.close())
    return _Written(
        options=options,
        license=settings.license,
        created_at=created_at,
        included=included,
        consent_versions=[v.id for v in used],
        zip_bytes=tally.byte_count,
        zip_sha256=tally.digest.hexdigest(),
    )


def _exported_image(
    signer: provenance.ExportSigner, row, pixels: bytes, extension: str, options: ExportOptions
) -> tuple[str, bytes]:
    """An exported image's file name and bytes: the rights XMP of the drawer's choices as
    `row` has them, then the C2PA manifest, signed last so its hash covers the final bytes."""
    allowed = training_allowed(row)
    data = with_rights(pixels, training_allowed=allowed, creator=row.credit_name)
    file_name = f"portrait-{row.number:05d}.{extension}"
    image = provenance.ImageProvenance(
        title=file_name,
        credit=row.credit_name,
        framing=row.framing,
        training_allowed=allowed,
        square_size=options.image_size,
        ink=options.ink,
    )
    return file_name, signer.sign(data, provenance.MIME_TYPES[extension], image)


def _text_of(
    row, versions: dict[int, ConsentVersion], texts: dict[tuple[int, str], ConsentText]
) -> ConsentText | None:
    """The exact text a drawing's drawer read: its version in their language."""
    version = versions.get(row.consent_version_id)
    if version is None:
        return None
    return texts[version.id, row.consent_language or version.language]


def consent_file(text: ConsentText) -> str:
    """The file of a consent text in an export: JSON for a layered text, else the text."""
    extension = "json" if text.layered else "txt"
    return f"consent/version-{text.version_id}.{text.language}.{extension}"


def _consent_index(texts: list[ConsentText], stats: ExportStats) -> bytes:
    """consent/index.json: each text the drawings record, its file, hash and drawings."""
    index = [
        {
            "consent_version": text.version_id,
            "consent_language": text.language,
            "consent_sha256": text.sha256,
            "file": consent_file(text).removeprefix("consent/"),
            "drawings": stats.texts[text.version_id, text.language],
        }
        for text in texts
    ]
    return json.dumps(index, indent=2, ensure_ascii=False).encode() + b"\n"


def _render(store: MediaStore, name: str, options: ExportOptions) -> tuple[bytes, str] | None:
    """The exported image of a stored file (bytes, extension); None if the file is gone."""
    try:
        stored = io.BytesIO(store.read(name))
        return render_export_image(stored, size=options.image_size, ink=options.ink)
    except FileNotFoundError:
        return None


def _freeze(session: Session, *objects) -> None:
    """Keep these rows as read now: the export ends its read transactions as it goes."""
    for obj in objects:
        if obj in session:
            session.expunge(obj)


def _current_row(session: Session, encounter_id: int, kind: str):
    """The drawing's row as it is now, or None if it may not be exported any more (a fresh
    read, its transaction ended at once)."""
    row = session.execute(
        select(*_ROW_COLUMNS)
        .join(Photo, Photo.encounter_id == Encounter.id)
        .join(Ticket, Ticket.id == Encounter.ticket_id)
        .where(Encounter.id == encounter_id, _eligible(kind))
    ).first()
    session.commit()
    return row


def _no_longer_eligible(session: Session, included: list[tuple[int, int]], kind: str) -> list[int]:
    """The numbers of drawings written into an export that may not be exported any more
    (read in the caller's transaction)."""
    late: list[int] = []
    for start in range(0, len(included), 500):
        batch = dict(included[start : start + 500])
        still = set(
            session.scalars(select(Encounter.id).where(Encounter.id.in_(batch), _eligible(kind)))
        )
        late.extend(number for encounter_id, number in batch.items() if encounter_id not in still)
    return late


def _record_manifest(
    session: Session, written: _Written, *, made_by: str, refuse_withdrawn: bool
) -> DatasetExport:
    """Record the manifest of an archive written whole.

    `refuse_withdrawn`: raise ExportOvertaken, recording nothing, if a drawing in it was
    withdrawn meanwhile (a file not yet in place can be made again); otherwise (a download
    already delivered) record it all the same, so that the drawing shows as withdrawn since.
    """
    with write_transaction(session):
        if late := _no_longer_eligible(session, written.included, written.options.kind):
            if refuse_withdrawn:
                raise ExportOvertaken("A drawing was withdrawn while the export was written.")
            log.warning(
                "Dataset export delivered with %s, withdrawn as its last bytes went out: "
                "its manifest lists them as withdrawn since.",
                ", ".join(f"#{n}" for n in late),
            )
        manifest = DatasetExport(
            created_at=written.created_at,
            kind=written.options.kind,
            image_size=written.options.image_size,
            ink=written.options.ink,
            license=written.license,
            item_count=len(written.included),
            consent_versions=written.consent_versions,
            made_by=made_by,
            zip_bytes=written.zip_bytes,
            zip_sha256=written.zip_sha256,
        )
        session.add(manifest)
        session.flush()
        if written.included:
            session.execute(
                # Typed as any FromClause; a model with a __tablename__ has a Table.
                cast(Table, DatasetExportItem.__table__).insert(),
                [
                    {"export_id": manifest.id, "encounter_id": encounter_id, "number": number}
                    for encounter_id, number in written.included
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

    Written as a download is, then made durable (fsync), recorded, and renamed into place. An
    export overtaken by a withdrawal is made again, up to EXPORT_ATTEMPTS times: nothing was
    delivered yet. The file at `path` never holds a drawing withdrawn before its manifest was
    recorded.
    """
    for attempt in range(1, EXPORT_ATTEMPTS + 1):
        fd, temp_name = tempfile.mkstemp(dir=path.parent, prefix=".export-", suffix=".zip")
        try:
            with os.fdopen(fd, "wb") as temp:
                chunks = _archive_chunks(
                    session, store, options, utcnow(), _Tally(),
                    scratch_dir=str(path.parent), progress=progress,
                )  # fmt: skip
                written = _drain(chunks, temp)
                temp.flush()
                os.fsync(temp.fileno())
            manifest = _record_manifest(session, written, made_by=made_by, refuse_withdrawn=True)
            os.replace(temp_name, path)
            return manifest
        except ExportOvertaken:
            session.rollback()
            if attempt == EXPORT_ATTEMPTS:
                raise
        finally:
            Path(temp_name).unlink(missing_ok=True)
    raise AssertionError("unreachable")


def _drain(chunks: Generator[bytes, None, _Written], target: BinaryIO) -> _Written:
    """Write every chunk into `target`; returns the generator's result."""
    while True:
        try:
            target.write(next(chunks))
        except StopIteration as end:
            return end.value


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


def export_file_name(kind: str, created_at: datetime) -> str:
    """The download's name: kind and time, e.g. drawings-training-20260603-221500.zip."""
    return f"drawings-{kind}-{created_at:%Y%m%d-%H%M%S}.zip"


def parse_size(raw: str | None) -> int | None:
    """A size option as typed: empty or "display" for the stored size, else N px."""
    if raw in (None, "", "display"):
        return None
    try:
        return int(raw)
    except ValueError:
        raise ExportError(f"The image size must be a number of pixels, not {raw!r}.") from None
