"""The diary editor's forms (CSRF-protected)."""

from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional


class EntryForm(FlaskForm):
    entry_date = DateField("Date", validators=[InputRequired(message="Give the entry a date.")])
    title = StringField("Title (optional)", validators=[Optional(), Length(max=200)])
    body = TextAreaField(
        "Entry (Markdown)",
        validators=[
            InputRequired(message="Write something first."),
            Length(max=20_000, message="At most 20,000 characters."),
        ],
    )
    public = BooleanField("Public: show it on the diary page")


class DeleteForm(FlaskForm):
    """Nothing but the CSRF token."""
