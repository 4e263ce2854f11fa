"""The confirmation steps of a withdrawal: the drawer's, and the collector's on their request."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from fieldapp.encounters.history import REASON_LIMIT


class ParticipantWithdrawForm(FlaskForm):
    """The drawer's confirmation: the button is the only field."""


class CollectorWithdrawForm(FlaskForm):
    """The collector's confirmation, with how the drawer asked (kept in the consent history)."""

    reason = StringField(
        "How did the drawer ask?",
        [DataRequired("Say how they asked: the history keeps it."), Length(max=REASON_LIMIT)],
        description='For example "asked in person at the fair" or "by email on 6 December". '
        "Not their name: it is erased everywhere else.",
    )
