"""`flask --app fieldapp export dataset OUT.zip`, `flask --app fieldapp export signing-ca`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from fieldapp.dataset.provenance import CA_FILE, signing_dir, signing_key
from fieldapp.dataset.services import (
    ExportError,
    ExportOptions,
    count_eligible,
    dataset_settings,
    export_to_file,
    parse_size,
)
from fieldapp.extensions import db
from fieldapp.media.services import media_store

export = AppGroup("export", help="Exports of the collection.")


@export.command("dataset")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--archive",
    is_flag=True,
    help="Every kept drawing, for the collector's own backup (NOT for training).",
)
@click.option("--size", default=None, help='"display" (stored size) or N for an N px square.')
@click.option("--ink/--no-ink", default=None, help="Keep only the red ink lines, on white.")
def export_dataset(out: Path, archive: bool, size: str | None, ink: bool | None) -> None:
    """Write the dataset (consented drawings only, unless --archive) as a zip to OUT.

    Options not given come from the dataset settings (/settings/dataset).
    """
    if not out.parent.is_dir():
        raise click.ClickException(f"No folder {out.parent} to write the export in.")
    settings = dataset_settings(db.session())
    try:
        options = ExportOptions(
            kind="archive" if archive else "training",
            image_size=settings.default_size if size is None else parse_size(size),
            ink=settings.default_ink if ink is None else ink,
        )
    except ExportError as error:
        raise click.ClickException(str(error)) from None
    total = count_eligible(db.session(), options.kind)
    db.session.commit()  # the count's read transaction ends; the export takes its own
    with click.progressbar(length=total, label="Exporting drawings", file=None) as bar:
        try:
            manifest = export_to_file(
                db.session(),
                media_store(),
                out,
                options,
                made_by="command line",
                progress=bar.update,
            )
        except ExportError as error:
            raise click.ClickException(str(error)) from None
    click.echo(
        f"Wrote {out}: {manifest.item_count} drawing(s), {options.kind} export "
        f"#{manifest.id}, SHA-256 {manifest.zip_sha256}.",
        err=True,
    )


@export.command("signing-ca")
def export_signing_ca() -> None:
    """Print the CA certificate the exports' C2PA manifests are signed under (PEM).

    Give it to whoever checks your exported images, as their trust anchor. The key and its
    certificates are made now if no export made them yet.
    """
    directory = signing_dir()
    signing_key(directory)
    click.echo((directory / CA_FILE).read_text(), nl=False)
    click.echo(f"From {directory}: back this folder up (docs/DEPLOY.md).", err=True)
