"""The capture form: venue, time limit, the participant's consent, the photo."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, RadioField, SelectField, StringField
from wtforms.fields.choices import SelectChoice

from fieldapp.encounters.models import AGE_GROUPS, VENUE_TYPES

VENUE_CHOICES = [SelectChoice(v, v.capitalize()) for v in VENUE_TYPES]
TIME_LIMIT_CHOICES = [
    SelectChoice(value, label)
    for value, label in [
        ("30", "30 s"), ("60", "1 min"), ("120", "2 min"), ("180", "3 min"), ("300", "5 min"),
        ("600", "10 min"), ("none", "No limit"),
    ]
]  # fmt: skip


class VenueFields(FlaskForm):
    uuid = HiddenField()
    started_at = HiddenField()
    venue_type = SelectField("Venue type", choices=VENUE_CHOICES)
    venue = StringField("Occasion", description='e.g. "Julia\'s birthday", "pool night"')
    city = StringField("City")

    def venue_data(self) -> dict:
        return {
            "venue_type": self.venue_type.data,
            "venue": self.venue.data or "",
            "city": self.city.data or "",
            "started_at": self.started_at.data or None,
        }


class DeclinedForm(VenueFields):
    """A declined approach: the venue only."""

    def to_data(self) -> dict:
        return {"status": "declined", **self.venue_data()}


YES_NO = [SelectChoice("yes", "Yes"), SelectChoice("no", "No")]
#: The drawer's own answers: none is given for them (the page shows the consent version's words).
ANSWERED = ("keep", "gallery", "training", "social")


def _answer() -> RadioField:
    return RadioField(choices=YES_NO, validate_choice=False)


class EncounterForm(VenueFields):
    time_limit = RadioField("Time limit", choices=TIME_LIMIT_CHOICES, default="120")
    drawing_started_at = HiddenField()
    drawing_finished_at = HiddenField()
    consent_version = HiddenField()
    consent_language = HiddenField()
    age_group = RadioField(choices=[SelectChoice(a, a) for a in AGE_GROUPS], validate_choice=False)
    keep = _answer()
    gallery = _answer()
    training = _answer()
    social = _answer()
    credit = RadioField(
        "Credit",
        choices=[
            SelectChoice("anonymous", "Stay anonymous"),
            SelectChoice("name", "Credit me by name"),
        ],
        default="anonymous",
    )
    credit_name = StringField("Name to credit")
    notes = StringField("Notes (collector)")
    photo = FileField("Photo of the drawing")

    def unanswered(self) -> list[str]:
        """The drawer's questions left without an answer (nothing is answered for them)."""
        missing = [] if self.age_group.data in AGE_GROUPS else ["age_group"]
        kept = self.keep.data == "yes"
        for name in ANSWERED:
            if name != "keep" and not kept and self.keep.data == "no":
                continue  # a drawing not kept is shown and used nowhere: no need to ask
            if self[name].data not in ("yes", "no"):
                missing.append(name)
        return missing

    def to_data(self) -> dict:
        """The same `data` object the phone sends to the API, so one validator judges both."""
        limit = self.time_limit.data
        credit = (
            {"name": self.credit_name.data or ""}
            if self.credit.data == "name"
            else {"anonymous": True}
        )
        version = self.consent_version.data
        yes = {name: self[name].data == "yes" for name in ANSWERED}
        language = {"language": self.consent_language.data} if self.consent_language.data else {}
        return {
            "status": "completed",
            **self.venue_data(),
            "drawing_started_at": self.drawing_started_at.data or None,
            "drawing_finished_at": self.drawing_finished_at.data or None,
            "time_limit_seconds": int(limit) if limit and limit.isdigit() else None,
            "age_group": self.age_group.data,
            "consent": {
                "version": int(version) if version and version.isdigit() else None,
                **language,
                **yes,
            },
            "credit": credit,
            "notes": self.notes.data or "",
        }
