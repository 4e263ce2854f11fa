"""The collector's consent settings form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from fieldapp.consent.services import MAX_CONSENT_TEXT


class ConsentTextForm(FlaskForm):
    text = TextAreaField(
        "Consent text shown to the next participant",
        [DataRequired("The consent text is empty."), Length(max=MAX_CONSENT_TEXT)],
        description="Leave a blank line between paragraphs. Saving publishes a new version; "
        "versions already shown never change.",
    )
