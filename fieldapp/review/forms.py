"""The collector's review forms: edit, renumber, attach a printed ticket, photo, import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone, tzinfo

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateTimeLocalField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from fieldapp.encounters.forms import TIME_LIMIT_CHOICES, VENUE_CHOICES
from fieldapp.encounters.history import REASON_LIMIT

MINUTE_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]


def reason_field(label: str = "Reason for the change") -> StringField:
    return StringField(
        label,
        [DataRequired("Say why: the history keeps the reason."), Length(max=REASON_LIMIT)],
        description='e.g. "typo in the city", "number written on the back is 57"',
    )


class EditForm(FlaskForm):
    """Every field of an encounter; times in the clock of the room (its UTC offset)."""

    venue_type = SelectField("Venue type", choices=VENUE_CHOICES)
    venue = StringField("Occasion", [Length(max=200)])
    city = StringField("City", [Length(max=100)])
    started_at = DateTimeLocalField("Date and time", [InputRequired()], format=MINUTE_FORMATS)
    time_limit = SelectField("Time limit")
    drawing_started_at = DateTimeLocalField("Drawing started", [Optional()], format=MINUTE_FORMATS)
    drawing_finished_at = DateTimeLocalField(
        "Drawing finished", [Optional()], format=MINUTE_FORMATS
    )
    notes = TextAreaField("Notes (collector)", [Length(max=2000)])
    credit_name = StringField("Credit name (as the drawer wrote it)", [Length(max=100)])
    reason = reason_field()
    zone: tzinfo = UTC  # the room's clock: set by for_encounter()

    @classmethod
    def for_encounter(cls, encounter, formdata=None) -> EditForm:
        zone = encounter.local_started_at.tzinfo
        local = {
            name: getattr(encounter, name).astimezone(zone).replace(tzinfo=None)
            if getattr(encounter, name)
            else None
            for name in ("started_at", "drawing_started_at", "drawing_finished_at")
        }
        limit = encounter.time_limit_seconds
        form = cls(
            formdata=formdata,
            prefix="edit",
            data={
                "venue_type": encounter.venue_type,
                "venue": encounter.venue,
                "city": encounter.city,
                "time_limit": str(limit) if limit else "none",
                "notes": encounter.notes,
                "credit_name": encounter.credit_name or "",
                **local,
            },
        )
        choices = list(TIME_LIMIT_CHOICES)
        if limit and str(limit) not in {c.value for c in choices}:
            choices.append(SelectChoice(str(limit), f"{limit} s"))
        form.time_limit.choices = choices
        if not encounter.is_completed:
            for name in (
                "time_limit",
                "drawing_started_at",
                "drawing_finished_at",
                "notes",
                "credit_name",
            ):
                delattr(form, name)
        elif encounter.credit_name is None:
            delattr(form, "credit_name")  # anonymous: no name may be written here
        form.zone = zone
        return form

    def validate(self, extra_validators=None) -> bool:
        """The fields' own checks, then: each time has a UTC time, so that it can be stored
        (0001-01-01 00:00 at +14:00 or 9999-12-31 23:59 at -12:00 has none)."""
        valid = super().validate(extra_validators)
        for name in ("started_at", "drawing_started_at", "drawing_finished_at"):
            moment = self[name].data if name in self else None
            if moment is None:
                continue
            try:
                moment.replace(tzinfo=self.zone).astimezone(UTC)
            except OverflowError:
                self.form_errors.append(f"{self[name].label.text}: check the year.")
                valid = False
        return valid

    def values(self, encounter) -> dict:
        """The submitted values as the edit service takes them (aware datetimes)."""
        zone = timezone(timedelta(minutes=encounter.utc_offset_minutes))

        def aware(name: str) -> datetime | None:
            value, stored = self[name].data, getattr(encounter, name)
            if value is None:
                return None
            if stored and stored.astimezone(zone).replace(microsecond=0, tzinfo=None) == value:
                return stored  # unchanged: the form shows whole seconds only
            return value.replace(tzinfo=zone)

        values = {
            "venue_type": self.venue_type.data,
            "venue": self.venue.data or "",
            "city": self.city.data or "",
            "started_at": aware("started_at"),
        }
        if "time_limit" in self:
            limit = self.time_limit.data
            values |= {
                "time_limit_seconds": int(limit) if limit and limit.isdigit() else None,
                "drawing_started_at": aware("drawing_started_at"),
                "drawing_finished_at": aware("drawing_finished_at"),
                "notes": self.notes.data or "",
            }
        if "credit_name" in self:
            values["credit_name"] = self.credit_name.data or ""
        return values


class RenumberForm(FlaskForm):
    number = IntegerField(
        "New number", [InputRequired("Give the new number."), NumberRange(min=1, max=10**9)]
    )
    swap = BooleanField("If another drawing has this number, swap the two numbers")
    reason = reason_field()


class AttachTicketForm(FlaskForm):
    number = IntegerField(
        "Number on the printed ticket",
        [InputRequired("Give the printed ticket's number."), NumberRange(min=1, max=10**9)],
    )
    reason = reason_field()


class PhotoForm(FlaskForm):
    photo = FileField("New photo of the drawing")
    reason = reason_field()


class FramingForm(FlaskForm):
    """The framing editor: how to frame the drawing and, for "corners", where the sheet's
    corners are (JSON fractions of the archive photo, see media.framing). The reason is
    optional: a framing is a routine fix, and the history says which one it was."""

    how = HiddenField(default="corners")
    corners = HiddenField()
    reason = StringField("Reason (optional)", [Length(max=REASON_LIMIT)])


class GuardianForm(FlaskForm):
    """The collector confirms that a minor's parent or guardian agreed to the gallery (or that
    the agreement is taken back): who agreed and how goes into the consent history."""

    agreed = SelectField(
        "A parent or guardian agreed",
        choices=[SelectChoice("yes", "Agreed"), SelectChoice("no", "Not agreed")],
        validate_choice=True,
    )
    reason = StringField(
        "Who agreed, and how",
        [DataRequired("Say who agreed and how: the history keeps it."), Length(max=REASON_LIMIT)],
        description='e.g. "her mother, in person at the fair", "father, by email on 3 June"',
    )
