"""The backlog import's form: the files, and what all of the batch's drawings share."""

from __future__ import annotations

from flask_wtf.file import MultipleFileField
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange

from fieldapp.consent.forms import SharingFields
from fieldapp.encounters.forms import VENUE_CHOICES


class ImportForm(SharingFields):
    """A batch of older drawings: the files, and what all of them share."""

    files = MultipleFileField("Photos, or a zip of photos")
    start_number = IntegerField(
        "First number", [InputRequired("Give the first number."), NumberRange(min=1, max=10**9)]
    )
    on = DateField("Date drawn", [InputRequired("Give the date.")])
    utc_offset = HiddenField(default="0")
    venue_type = SelectField("Venue type", choices=VENUE_CHOICES)
    venue = StringField("Occasion", [Length(max=200)])
    city = StringField("City", [Length(max=100)])
    consent_version = SelectField("Consent text they agreed to", coerce=int)

    def utc_offset_minutes(self) -> int:
        try:
            minutes = int(self.utc_offset.data or 0)
        except ValueError:
            return 0
        return minutes if -14 * 60 <= minutes <= 14 * 60 else 0
