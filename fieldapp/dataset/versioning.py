"""The semantic version of an export (Croissant's `version`), counted from the manifests of the
earlier exports of the same kind, so that a user holding two exports can tell from their
versions alone whether they must delete drawings from the older one.

Croissant 1.1 (section "Dataset Versioning") recommends Semantic Versioning 2.0.0 read as: PATCH,
the same data; MINOR, the same data still retrievable as it was, plus more; MAJOR, data changed
or removed. An export's data is its drawings and how their images are made: VERSION_RULES.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldapp.dataset.models import DatasetExport, DatasetExportItem

if TYPE_CHECKING:  # services.py imports this module
    from fieldapp.dataset.services import ExportOptions

#: The rules, as the dataset card states them.
VERSION_RULES = (
    "The version is MAJOR.MINOR.PATCH (Semantic Versioning 2.0.0, as Croissant 1.1 reads it), "
    "counted over the collector's earlier delivered exports of the same kind, the first being "
    "1.0.0. MAJOR goes up when a drawing of the previous export is no longer in this one "
    "(withdrawn, or its drawer's choices changed), or when the images are made differently "
    "(another size, ink extraction on or off) or under another license; MINOR when drawings "
    "were only added; PATCH otherwise (the same drawings and images; the card, a credit or "
    "a choice that does not exclude a drawing may differ)."
)


@dataclass(frozen=True)
class _Release:
    """What the version compares between two exports."""

    encounters: frozenset[int]
    making: tuple  # (image size, ink, license): how the images are made and under what terms


def next_version(version: tuple[int, int, int] | None, before: _Release | None, now: _Release):
    """The version of `now`, following an export `before` whose version was `version`."""
    if version is None or before is None:
        return (1, 0, 0)
    major, minor, patch = version
    if before.encounters - now.encounters or before.making != now.making:
        return (major + 1, 0, 0)
    if now.encounters - before.encounters:
        return (major, minor + 1, 0)
    return (major, minor, patch + 1)


def export_version(
    session: Session, options: ExportOptions, license: str, included: list[tuple[int, int]]
) -> str:
    """The version of the export being written with these options and license, holding
    `included` ((encounter id, portrait number) pairs), after every recorded export of its kind.

    Reads the manifests in a transaction of its own, ended at once: the export goes on handing
    bytes on after this, and must hold no snapshot meanwhile.
    """
    manifests = session.execute(
        select(DatasetExport.id, DatasetExport.image_size, DatasetExport.ink, DatasetExport.license)
        .where(DatasetExport.kind == options.kind)
        .order_by(DatasetExport.id)
    ).all()
    version = before = None
    for manifest_id, image_size, ink, license in manifests:
        held = frozenset(
            session.scalars(
                select(DatasetExportItem.encounter_id).where(
                    DatasetExportItem.export_id == manifest_id
                )
            )
        )
        release = _Release(held, (image_size, bool(ink), license))
        version, before = next_version(version, before, release), release
    session.commit()
    now = _Release(
        frozenset(encounter_id for encounter_id, _ in included),
        (options.image_size, options.ink, license),
    )
    major, minor, patch = next_version(version, before, now)
    return f"{major}.{minor}.{patch}"
