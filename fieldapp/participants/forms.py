"""The forms a participant uses on their page: change choices, withdraw. CSRF-protected."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, ValidationError

from fieldapp.consent.services import NAME_LIMIT


class ChoicesForm(FlaskForm):
    """What the drawer allows now, and how they are credited."""

    gallery = BooleanField("Show it in the public gallery")
    training = BooleanField("Allow it in datasets for training machine-learning models")
    social = BooleanField("Allow posting it on social media")
    credit = RadioField(
        "Credit",
        choices=[
            SelectChoice("anonymous", "Stay anonymous (your name is erased)"),
            SelectChoice("name", "Credit me by name"),
        ],
    )
    credit_name = StringField("Your name, as you want it shown", [Length(max=NAME_LIMIT)])

    def validate_credit_name(self, field) -> None:
        if self.credit.data == "name" and not (field.data or "").strip():
            raise ValidationError("Write the name to show, or choose to stay anonymous.")

    def wanted_name(self) -> str | None:
        """The name to credit, or None for anonymous."""
        return (self.credit_name.data or "").strip() if self.credit.data == "name" else None


class WithdrawForm(FlaskForm):
    """The confirmation step of a withdrawal: the button is the only field."""
