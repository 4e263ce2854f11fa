"""`flask --app fieldapp user create` and `token create`."""

from __future__ import annotations

import os

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from fieldapp.auth.models import Collector
from fieldapp.auth.services import AccountError, create_api_token, create_collector
from fieldapp.extensions import db

user = AppGroup("user", help="Collector accounts.")
token = AppGroup("token", help="API tokens for the collector's devices.")


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


def register(app: Flask) -> None:
    app.cli.add_command(user)
    app.cli.add_command(token)
