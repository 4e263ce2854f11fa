"""Consent forms: the drawer's (or collector's) choices, and the consent text settings."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from fieldapp.consent.services import NAME_LIMIT
from fieldapp.consent.texts import MAX_CONSENT_TEXT
from fieldapp.encounters.history import REASON_LIMIT


class SharingFields(FlaskForm):
    """The uses a drawer allows for a kept drawing: the same words at capture and afterwards, in
    the drawer's language (lazy: translated when the page is rendered)."""

    gallery = BooleanField(lazy_gettext("Show it in the public gallery"))
    training = BooleanField(
        lazy_gettext("Allow it in datasets for training machine-learning models")
    )
    social = BooleanField(lazy_gettext("Allow posting it on social media"))


class ChoicesForm(SharingFields):
    """What the drawer allows now, and how they are credited."""

    credit = RadioField(
        lazy_gettext("Credit"),
        choices=[
            SelectChoice("anonymous", lazy_gettext("Stay anonymous (your name is erased)")),
            SelectChoice("name", lazy_gettext("Credit me by name")),
        ],
    )
    credit_name = StringField(
        lazy_gettext("Your name, as you want it shown"), [Length(max=NAME_LIMIT)]
    )
    credit_name_limit = NAME_LIMIT  # the field's maxlength in the page

    def validate_credit_name(self, field) -> None:
        if self.credit.data == "name" and not (field.data or "").strip():
            raise ValidationError(_("Write the name to show, or choose to stay anonymous."))

    def wanted_name(self) -> str | None:
        """The name to credit, or None for anonymous."""
        return (self.credit_name.data or "").strip() if self.credit.data == "name" else None

    def choices(self) -> dict:
        """The submitted choices, as `update_choices` takes them."""
        return {
            "gallery": self.gallery.data,
            "training": self.training.data,
            "social": self.social.data,
            "credit_name": self.wanted_name(),
        }

    @staticmethod
    def data_of(encounter) -> dict:
        """The form's values for an encounter's current consent."""
        return {
            "gallery": encounter.gallery,
            "training": encounter.training,
            "social": encounter.social,
            "credit": "name" if encounter.credit_name else "anonymous",
            "credit_name": encounter.credit_name or "",
        }


class CorrectionForm(ChoicesForm):
    """The collector corrects a drawer's consent (a mistake in the field, a request by mail)."""

    reason = StringField(
        "Reason for the correction",
        [DataRequired("Say why: the history keeps it."), Length(max=REASON_LIMIT)],
        description='e.g. "ticked social by mistake", "drawer asked by email on 3 June"',
    )


class ConsentTextForm(FlaskForm):
    text = TextAreaField(
        "Consent text shown to the next participant",
        [DataRequired("The consent text is empty."), Length(max=MAX_CONSENT_TEXT)],
        description="Leave a blank line between paragraphs. Saving publishes a new version; "
        "versions already shown never change.",
    )
