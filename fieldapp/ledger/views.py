"""The ledger: the collector's page, its public version, and the goal setting."""

from __future__ import annotations

import click
from flask import Blueprint, flash, redirect, render_template, url_for

from fieldapp.auth.access import collector_required
from fieldapp.extensions import db
from fieldapp.ledger.charts import charts_for
from fieldapp.ledger.forms import GoalForm
from fieldapp.ledger.services import ledger, set_goal
from fieldapp.ledger.tallies import check_tallies, rebuild_tallies

bp = Blueprint("ledger", __name__, url_prefix="/ledger")


@bp.get("")
@collector_required
def collector():
    figures = ledger(db.session())
    form = GoalForm(formdata=None, data={"goal": figures.goal})
    return _page(figures, form)


@bp.post("/goal")
@collector_required
def goal():
    form = GoalForm()
    if form.validate_on_submit():
        set_goal(db.session(), form.goal.data)
        flash(f"Goal set to {form.goal.data:,} drawings.")
        return redirect(url_for("ledger.collector"))
    return _page(ledger(db.session()), form), 400


@bp.get("/public")
def public():
    """Aggregate figures only: no hour of day or weekday, no setting, no name, no place."""
    return _page(ledger(db.session(), public=True), None)


def _page(figures, form):
    return render_template(
        "ledger/ledger.html", figures=figures, charts=charts_for(figures), form=form
    )


@bp.cli.command("check")
def check_command():
    """Compare the ledger's running tallies with the encounters (exit 1 if they differ)."""
    problems = check_tallies(db.session())
    for problem in problems:
        click.echo(problem)
    click.echo(f"{len(problems)} difference(s)" if problems else "The ledger tallies agree.")
    if problems:
        raise SystemExit(1)


@bp.cli.command("rebuild")
def rebuild_command():
    """Recompute the ledger's running tallies from the encounters."""
    click.echo(f"{rebuild_tallies(db.session())} tallies written.")
