"""Whole fieldapp instances on a folder or a bucket, for the tests of moving photo files between
stores (`media migrate`, `backup`/`restore`): each its own database file and store, photos
uploaded through the API as a phone sends them, commands run through the app's CLI."""

from __future__ import annotations

import hashlib
import io
import shutil
import sqlite3
import uuid as uuidlib
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from fieldapp import create_app
from fieldapp.extensions import db
from fieldapp.media.services import SIZED, VARIANTS, media_store
from fieldapp.media.storage import MediaStore
from tests.conftest import app_config
from tests.factories import encounter_data, put_encounter, token_of

#: Every table a backup carries that these tests fill.
TABLES = ("encounters", "photos", "tickets", "consent_events", "collectors")


def plain_photo(index: int) -> bytes:
    """A 900x1200 JPEG of its own colour: its display image is offered reduced to 720 wide."""
    out = io.BytesIO()
    colour = (40 + 23 * index % 200, 200 - 17 * index % 180, 90 + 31 * index % 160)
    Image.new("RGB", (900, 1200), colour).save(out, "JPEG", quality=90)
    return out.getvalue()


class Instance:
    """One fieldapp deployment: `root/fieldapp.sqlite3`, and photos in `media_dir` or, with
    `media_url`, in that bucket of the S3 server at `endpoint`."""

    def __init__(
        self,
        root: Path,
        *,
        migrated_db: Path | None = None,
        media_url: str | None = None,
        endpoint: str | None = None,
        media_dir: Path | None = None,
        database: Path | None = None,
    ):
        root.mkdir(parents=True, exist_ok=True)
        self.root = root
        self.database = database or root / "fieldapp.sqlite3"
        if migrated_db is not None:
            shutil.copy(migrated_db, self.database)
        self.media_dir = media_dir or root / "media"
        self.app = create_app(
            app_config(
                root,
                SQLALCHEMY_DATABASE_URI=f"sqlite:///{self.database}",
                MEDIA_DIR=str(self.media_dir),
                MEDIA_URL=media_url,
                S3_ENDPOINT_URL=endpoint,
            )
        )
        self.client = self.app.test_client()
        self._api_token: str | None = None

    def same_data(self, **changes) -> Instance:
        """This instance's database, its photos in another store (after a migration)."""
        settings = {
            "media_url": self.app.config["MEDIA_URL"],
            "endpoint": self.app.config["S3_ENDPOINT_URL"],
            "media_dir": self.media_dir,
            **changes,
        }
        return Instance(self.root, database=self.database, **settings)

    @property
    def store(self) -> MediaStore:
        with self.app.app_context():
            return media_store()

    def run(self, *args: str):
        """`flask --app fieldapp ARGS` on this instance, through its CLI runner."""
        result = self.app.test_cli_runner().invoke(args=list(args))
        self.dispose()
        return result

    def dispose(self) -> None:
        with self.app.app_context():
            db.engine.dispose()

    def api_token(self) -> str:
        if self._api_token is None:
            from fieldapp.auth.models import Collector
            from fieldapp.auth.services import create_api_token, create_collector

            with self.app.app_context():
                create_collector(db.session, "phone-owner", "correct horse battery")
                db.session.commit()
                owner = db.session.scalar(
                    select(Collector).where(Collector.username == "phone-owner")
                )
                self._api_token = create_api_token(db.session, owner)
                db.session.commit()
        return self._api_token

    def upload(self, photo: bytes) -> str:
        """Send an encounter with its photo as the phone does; returns the participant token."""
        client_uuid = str(uuidlib.uuid4())
        response = put_encounter(
            self.client, self.api_token(), client_uuid, encounter_data(), photo
        )
        assert response.status_code in (200, 201), response.text
        return token_of(self.app, client_uuid)

    def drawing(self, token: str, width: int | None = None):
        """The participant page's image of the drawing (reduced to `width` when given)."""
        query = f"?w={width}" if width else ""
        return self.client.get(f"/p/{token}/drawing.jpg{query}")

    def rows(self) -> dict[str, list]:
        if not self.database.exists():
            return {}
        with sqlite3.connect(self.database) as connection:
            return {
                table: connection.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()  # noqa: S608
                for table in TABLES
            }


def store_contents(store: MediaStore) -> dict[str, str]:
    """Every photo file in the store (reduced copies included), with the SHA-256 of its bytes
    as read back from the store."""
    return {
        name: hashlib.sha256(store.read(name)).hexdigest()
        for folder in (*VARIANTS, SIZED)
        for name in store.names(folder)
    }


def pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGB").tobytes()
