"""`flask --app fieldapp user create`, `token create`, `tickets sheet`, `media sweep`, `media scrub`,
`media reframe` and `media migrate`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from fieldapp.auth.models import Collector, Role
from fieldapp.auth.people import create_account
from fieldapp.auth.services import AccountError, create_api_token
from fieldapp.backup.cli import backup, restore
from fieldapp.dataset.cli import export
from fieldapp.extensions import db
from fieldapp.tickets.sheet import MAX_PAGES, PAPERS, render_sheet, reserve_sheet

user = AppGroup("user", help="Accounts: the collector and helpers.")
token = AppGroup("token", help="API tokens for the collector's devices.")
tickets = AppGroup("tickets", help="Portrait numbers reserved in advance.")
media = AppGroup("media", help="The photo files.")


@user.command("create")
@click.argument("username")
@click.option(
    "--role",
    type=click.Choice([role.value for role in Role]),
    default=Role.COLLECTOR.value,
    show_default=True,
    help="helper: records encounters and sees its own QR codes, nothing else.",
)
def user_create(username: str, role: str) -> None:
    """Create an account. The password comes from FIELDAPP_PASSWORD, else a prompt."""
    password = os.environ.get("FIELDAPP_PASSWORD")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        create_account(db.session(), username, password, role)
        db.session.commit()
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {role} {username!r}.", err=True)


@token.command("create")
@click.argument("username")
@click.option("--label", default="", help='What the token is for, e.g. "Laptop import script".')
def token_create(username: str, label: str) -> None:
    """Print a new API token for USERNAME, alone on stdout. Only its hash is stored."""
    collector = _account_named(username)
    try:
        secret = create_api_token(db.session(), collector, label=label)
    except AccountError as error:
        db.session.rollback()
        raise click.ClickException(str(error)) from None
    db.session.commit()
    click.echo(secret)


@token.command("list")
@click.argument("username")
def token_list(username: str) -> None:
    """List USERNAME's API tokens: id, label, created, last used (UTC)."""
    from fieldapp.auth.services import api_tokens_of

    tokens = api_tokens_of(db.session(), _account_named(username).id)
    if not tokens:
        click.echo(f"{username!r} has no API tokens.", err=True)
        return
    click.echo(f"{'ID':>6}  {'CREATED':16}  {'LAST USED':16}  LABEL")
    for api_token in tokens:
        used = _when(api_token.last_used_at) if api_token.last_used_at else "never"
        label = api_token.label or "(no label)"
        click.echo(f"{api_token.id:>6}  {_when(api_token.created_at):16}  {used:16}  {label}")


@token.command("revoke")
@click.argument("target")
@click.option("--all", "every", is_flag=True, help="Revoke every token of the user TARGET.")
def token_revoke(target: str, every: bool) -> None:
    """Revoke the API token TARGET (its id, from `token list`), or with --all every token of
    the user TARGET. A revoked token is refused from its next request."""
    from fieldapp.auth.services import revoke_api_token, revoke_api_tokens

    if every:
        collector = _account_named(target)
        count = revoke_api_tokens(db.session(), collector.id)
        db.session.commit()
        click.echo(f"Revoked {count} API token(s) of {target!r}.", err=True)
        return
    if not target.isdigit():
        raise click.ClickException(
            f"{target!r} is not a token id: give the number from `token list USERNAME`, "
            "or --all USERNAME."
        )
    if not revoke_api_token(db.session(), int(target)):
        raise click.ClickException(f"No API token with id {target}.")
    db.session.commit()
    click.echo(f"Revoked API token {target}.", err=True)


def _account_named(username: str) -> Collector:
    collector = db.session.scalar(select(Collector).where(Collector.username == username))
    if collector is None:
        raise click.ClickException(f"No collector or helper named {username!r}.")
    return collector


def _when(moment) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


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
    labels = reserve_sheet(db.session(), pages=pages, base_url=base_url, collector_id=None)
    out.write_bytes(render_sheet(labels, PAPERS[paper]))
    click.echo(f"Reserved #{labels[0].number}-#{labels[-1].number}; wrote {out}.", err=True)


@media.command("sweep")
def media_sweep() -> None:
    """Delete photo files no drawing uses (left by a crash between writing and committing)."""
    from fieldapp.media.services import media_store, sweep_orphans
    from fieldapp.media.storage import StorageUnavailable

    try:
        removed = sweep_orphans(db.session(), media_store())
    except StorageUnavailable as error:
        raise click.ClickException(
            f"The media store does not answer ({error.strerror}); nothing more was removed. "
            "Run the same command again once it does."
        ) from None
    click.echo(f"Removed {len(removed)} unused photo file(s).", err=True)


#: Left in the media store by a scrub that finished: files written since are clean already.
SCRUBBED_MARK = ".scrubbed-v1"


@media.command("scrub")
@click.option(
    "--once",
    is_flag=True,
    help="Do nothing if a scrub has finished before (the container runs it at every start).",
)
def media_scrub(once: bool) -> None:
    """Rewrite photo files stored by older versions without their metadata (a camera's
    comment, text chunks...): pixels untouched, old files deleted after the commit."""
    from fieldapp.media.scrub import scrub_media
    from fieldapp.media.services import media_store

    store = media_store()
    if once and store.exists(SCRUBBED_MARK):
        click.echo("Photo files were scrubbed before: nothing to do.", err=True)
        return
    report = scrub_media(db.session(), store)
    click.echo(report.summary(), err=True)
    if report.problems:
        raise click.ClickException("Not scrubbed: " + ", ".join(report.problems))
    if not store.exists(SCRUBBED_MARK):
        store.replace(
            SCRUBBED_MARK, b"Every photo file was checked and written without metadata.\n"
        )


@media.command("reframe")
@click.option(
    "--all",
    "every",
    is_flag=True,
    help="Every photo not framed by hand that this version's detector has not looked at.",
)
@click.option(
    "--needs-framing",
    is_flag=True,
    help="Only the photos shown whole because no sheet was found in them.",
)
def media_reframe(every: bool, needs_framing: bool) -> None:
    """Find the sheet in stored photos and frame their display images (never a framing made
    by hand). Safe to stop and run again: it goes on where it stopped."""
    from fieldapp.media.reframe import photos_to_reframe, reframe_stored
    from fieldapp.media.services import media_store

    if every == needs_framing:
        raise click.UsageError("Say which photos: --all or --needs-framing.")
    photo_ids = photos_to_reframe(db.session(), needs_framing=needs_framing)
    if not photo_ids:
        click.echo("Every photo is framed already: nothing to do.", err=True)
        return
    with click.progressbar(length=len(photo_ids), label="Framing photos", file=None) as bar:
        report = reframe_stored(db.session(), media_store(), photo_ids, progress=bar.update)
    click.echo(report.summary(), err=True)
    if report.problems:
        raise click.ClickException("Not framed: " + ", ".join(report.problems))


@media.command("migrate")
@click.option(
    "--to",
    "to",
    required=True,
    metavar="URL",
    help="Where to copy: s3://BUCKET/PREFIX (FIELDAPP_S3_ENDPOINT_URL, AWS_* credentials), "
    "or a folder.",
)
def media_migrate(to: str) -> None:
    """Copy every photo file of the store in use to another store, checking each SHA-256.
    Copies only what is missing or damaged there: safe to stop and run again. Changes
    neither the database nor the store in use."""
    from fieldapp.media.migrate import (
        MigrationRefused,
        destination_store,
        migrate_media,
        plan_migration,
        unanswered,
    )
    from fieldapp.media.services import media_store
    from fieldapp.media.storage import MediaUrlError, StorageUnavailable

    source = media_store()
    try:
        destination = destination_store(
            to, source, endpoint_url=current_app.config.get("S3_ENDPOINT_URL")
        )
    except (MediaUrlError, MigrationRefused) as error:
        raise click.UsageError(f"Refusing --to {to}: {error}") from None
    down = unanswered(source, destination)
    if down:
        raise click.ClickException(f"Nothing was copied: {down}.")
    try:
        plan = plan_migration(db.session(), source, marks=[SCRUBBED_MARK])
    except StorageUnavailable as error:
        raise click.ClickException(
            f"Nothing was copied: the source {source.location} cannot be read ({error.strerror})."
        ) from None
    click.echo(f"Copying photo files from {source.location} to {destination.location}.", err=True)
    with click.progressbar(
        length=len(plan.names), label="Copying photo files", file=sys.stderr
    ) as bar:
        report = migrate_media(db.session(), source, destination, plan, progress=bar.update)
    click.echo(report.summary(), err=True)
    if report.stopped:
        raise click.ClickException(
            f"Stopped: {report.stopped}. Run the same command again once it answers: it goes "
            "on where it stopped."
        )
    if report.problems:
        raise click.ClickException(
            "Not copied:\n  " + "\n  ".join(report.problems) + "\nNothing was switched: the "
            "app still uses " + source.location + "."
        )
    if to.lower().startswith("s3:"):
        switch = f"set FIELDAPP_MEDIA_URL={to}"
    else:
        switch = f"unset FIELDAPP_MEDIA_URL and set FIELDAPP_MEDIA_DIR={destination.location}"
    click.echo(
        f"Every photo file is in {destination.location}. To use it: stop writes (or run this "
        f"again once they have stopped), {switch}, restart the app, then run "
        "`flask --app fieldapp media sweep`.",
        err=True,
    )


def register(app: Flask) -> None:
    app.cli.add_command(user)
    app.cli.add_command(token)
    app.cli.add_command(tickets)
    app.cli.add_command(export)
    app.cli.add_command(backup)
    app.cli.add_command(restore)
    app.cli.add_command(media)
