"""Writing a phone's rescue zip as the outbox page saves it, for tests (browser tests too).

fieldapp-outbox.json     the manifest: {"format", "version", "exported_at", "records"}
photos/<uuid>.<ext>      one per record that has a photo
"""

from __future__ import annotations

import io
import json
import uuid as uuidlib
import zipfile
from dataclasses import dataclass, field

from tests.factories import encounter_data

MANIFEST_NAME = "fieldapp-outbox.json"
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/heic": "heic"}


@dataclass
class OutboxRecord:
    """One unsent record of the phone's outbox: the API's `data` JSON, and perhaps a photo."""

    data: dict
    uuid: str = field(default_factory=lambda: str(uuidlib.uuid4()))
    photo: bytes | None = None
    photo_type: str = "image/jpeg"
    ticket: dict | None = None  # {"number", "token"}, as POST /api/v1/tickets gave it
    state: str = "queued"
    error: dict | None = None
    created_at: str = "2026-12-06T22:01:02+01:00"

    @property
    def photo_name(self) -> str | None:
        if self.photo is None:
            return None
        return f"photos/{self.uuid}.{EXTENSIONS[self.photo_type]}"

    def manifest_entry(self) -> dict:
        return {
            "uuid": self.uuid,
            "created_at": self.created_at,
            "data": self.data,
            "photo": self.photo_name,
            "photo_type": self.photo_type if self.photo is not None else None,
            "ticket": self.ticket,
            "state": self.state,
            "error": self.error,
        }


def outbox_record(
    *, ticket: dict | None = None, photo: bytes | None = None, declined: bool = False, **fields
) -> OutboxRecord:
    """A record as the phone keeps it; with a ticket, its token is in the data as in uploads."""
    data = encounter_data(declined=declined, **fields)
    if ticket is not None:
        data["ticket"] = ticket["token"]
        ticket = {"number": ticket["number"], "token": ticket["token"]}
    return OutboxRecord(data=data, photo=photo, ticket=ticket)


def manifest_of(records: list[OutboxRecord]) -> dict:
    """The manifest the phone writes for these records."""
    return {
        "format": "fieldapp-outbox",
        "version": 1,
        "exported_at": "2026-12-06T23:10:00+01:00",
        "records": [r.manifest_entry() for r in records],
    }


def outbox_zip(
    records: list[OutboxRecord] = (),
    *,
    manifest: dict | list | bytes | None = None,
    extra: dict[str, bytes] | None = None,
    compression: int = zipfile.ZIP_STORED,
) -> bytes:
    """The rescue zip of `records` (STORE, as the phone writes it, unless told otherwise).

    `manifest` replaces the manifest (JSON, or raw bytes); `extra` adds members as they are.
    """
    if manifest is None:
        manifest = manifest_of(list(records))
    raw = manifest if isinstance(manifest, bytes) else json.dumps(manifest).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        archive.writestr(MANIFEST_NAME, raw)
        for record in records:
            if record.photo is not None:
                archive.writestr(record.photo_name, record.photo)
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()
