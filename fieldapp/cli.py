"""`flask --app fieldapp user create`, `token create`, `tickets sheet` and `media sweep`."""

from __future__ import annotations

import os
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from fieldapp.auth.models import Collector
from fieldapp.auth.services import AccountError, create_api_token, create_collector
from fieldapp.backup.cli import backup, restore
from fieldapp.dataset.cli import export
from fieldapp.extensions import db
from fieldapp.tickets.sheet import MAX_PAGES, PAPERS, render_sheet, reserve_sheet

user = AppGroup("user", help="Collector accounts.")
token = AppGroup("token", help="API tokens for the collector's devices.")
tickets = AppGroup("tickets", help="Portrait numbers reserved in advance.")
media = AppGroup("media", help="The photo files.")


@user.command("create")
@click.argument("username")
def user_create(username: str) -> None:
    """Create a collector account. The password comes from FIELDAPP_PASSWORD, else a prompt."""
    password = os.environ.get("FIELDAPP_PASSWORD")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        create_collector(db.session, username, password)
        db.session.commit()
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    click.echo(f"Created collector {username!r}.", err=True)


@token.command("create")
@click.argument("username")
def token_create(username: str) -> None:
    """Print a new API token for USERNAME, alone on stdout. Only its hash is stored."""
    collector = db.session.scalar(select(Collector).where(Collector.username == username))
    if collector is None:
        raise click.ClickException(f"No collector named {username!r}.")
    secret = create_api_token(db.session, collector)
    db.session.commit()
    click.echo(secret)


@tickets.command("sheet")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--paper", type=click.Choice(sorted(PAPERS)), default="a4", show_default=True)
@click.option("--pages", type=click.IntRange(1, MAX_PAGES), default=1, show_default=True)
def tickets_sheet(out: Path, paper: str, pages: int) -> None:
    """Reserve a sheet of tickets and write it as a PDF to OUT (links from FIELDAPP_PUBLIC_URL)."""
    base_url = current_app.config["PUBLIC_URL"]
    if not base_url:
        raise click.ClickException(
            "Set FIELDAPP_PUBLIC_URL (e.g. https://drawings.example.org): the QR codes need it."
        )
    if not out.parent.is_dir():  # check before the numbers are taken
        raise click.ClickException(f"No folder {out.parent} to write the sheet in.")
    labels = reserve_sheet(db.session, pages=pages, base_url=base_url, collector_id=None)
    out.write_bytes(render_sheet(labels, PAPERS[paper]))
    click.echo(f"Reserved #{labels[0].number}-#{labels[-1].number}; wrote {out}.", err=True)


@media.command("sweep")
def media_sweep() -> None:
    """Delete photo files no drawing uses (left by a crash between writing and committing)."""
    from fieldapp.media.services import media_store, sweep_orphans

    removed = sweep_orphans(db.session, media_store())
    click.echo(f"Removed {len(removed)} unused photo file(s).", err=True)


def register(app: Flask) -> None:
    app.cli.add_command(user)
    app.cli.add_command(token)
    app.cli.add_command(tickets)
    app.cli.add_command(export)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
    app.cli.add_command(media)
