"""Consent forms: the drawer's (or collector's) choices, and the consent text settings."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from fieldapp.consent.services import NAME_LIMIT
from fieldapp.consent.texts import (
    CHOICE_KEYS,
    LABEL_LIMIT,
    LINE_LIMIT,
    MAX_CONSENT_TEXT,
    SUMMARY_LIMIT,
    ConsentText,
)
from fieldapp.encounters.history import REASON_LIMIT
from fieldapp.i18n import DEFAULT_LANGUAGE, LANGUAGES


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


class LayeredTextForm(FlaskForm):
    """The three layers of one consent text: a summary, one label and line per choice, the
    full text. Every part is required: the drawer is shown all of it."""

    summary = TextAreaField(
        "Summary, shown first",
        [DataRequired("The summary is empty: a few plain sentences, shown first."),
         Length(max=SUMMARY_LIMIT)],
        description="A few plain sentences: what happens to the drawing, and that nothing is "
        "chosen for the drawer.",
    )  # fmt: skip
    text = TextAreaField(
        "Full text, one tap away",
        [DataRequired("The full text is empty."), Length(max=MAX_CONSENT_TEXT)],
        description="Leave a blank line between paragraphs.",
    )

    def choice_fields(self) -> list[tuple[str, Field, Field]]:
        """(key, label field, line field) for each choice, in the order the drawer sees them."""
        return [(key, self[f"{key}_label"], self[f"{key}_line"]) for key in CHOICE_KEYS]

    def choices(self) -> dict[str, dict[str, str]]:
        return {
            key: {"label": label.data or "", "line": line.data or ""}
            for key, label, line in self.choice_fields()
        }

    @staticmethod
    def data_of(text: ConsentText | None) -> dict:
        """The form's values for a published text (a draft to start from)."""
        if text is None:
            return {}
        data = {"summary": text.summary, "text": text.text}
        for key, parts in text.choices.items():
            data[f"{key}_label"] = parts.get("label", "")
            data[f"{key}_line"] = parts.get("line", "")
        return data


for _key in CHOICE_KEYS:
    setattr(
        LayeredTextForm,
        f"{_key}_label",
        StringField(
            f"“{_key}”: label",
            [DataRequired(f"The choice “{_key}” needs a label."), Length(max=LABEL_LIMIT)],
        ),
    )
    setattr(
        LayeredTextForm,
        f"{_key}_line",
        StringField(
            f"“{_key}”: one-line explanation",
            [DataRequired(f"The choice “{_key}” needs a one-line explanation."),
             Length(max=LINE_LIMIT)],
        ),
    )  # fmt: skip


class ConsentTextForm(LayeredTextForm):
    """A new consent version, in its own language."""

    language = SelectField(
        "Language of this version",
        choices=[SelectChoice(code, name) for code, name in LANGUAGES.items()],
        default=DEFAULT_LANGUAGE,
        validate_choice=True,
    )


class TranslationForm(LayeredTextForm):
    """The current version in another language. `version` is the version the collector was
    looking at: a newer one published meanwhile refuses the form rather than translate it."""

    version = HiddenField()
