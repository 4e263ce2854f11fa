"""`flask --app fieldapp backup OUT` and `flask --app fieldapp restore IN`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import with_appcontext

from fieldapp.backup.services import BackupError
from fieldapp.backup.services import backup as take_backup
from fieldapp.backup.services import restore as put_back
from fieldapp.extensions import db
from fieldapp.media.services import media_store


@click.command("backup")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup(out: Path) -> None:
    """Write a consistent snapshot of the database and every media file to the tar OUT."""
    try:
        summary = take_backup(db.engine, media_store(), out)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Wrote {out}: {summary.encounters} encounter(s), {summary.media_files} media file(s), "
        f"{summary.bytes:,} bytes.",
        err=True,
    )


@click.command("restore")
@click.argument("archive", metavar="IN", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def restore(archive: Path) -> None:
    """Restore the backup IN into this instance, which must be empty; every hash is checked."""
    db.session.remove()
    try:
        summary = put_back(db.engine, media_store(), archive)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        f"Restored {summary.encounters} encounter(s) and {summary.media_files} media file(s) "
        f"from {archive}.",
        err=True,
    )
