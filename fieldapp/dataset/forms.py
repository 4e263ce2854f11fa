"""The dataset settings and the export options."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from fieldapp.dataset.documents import DATASHEET_QUESTIONS
from fieldapp.dataset.licenses import LICENSES
from fieldapp.dataset.services import MAX_SQUARE, MIN_SQUARE, ExportError, parse_size

MAX_ANSWER = 4000


def _validate_size(_form, field) -> None:
    try:
        size = parse_size((field.data or "").strip())
    except ExportError as error:
        raise ValidationError(str(error)) from None
    if size is not None and not MIN_SQUARE <= size <= MAX_SQUARE:
        raise ValidationError(f"Give {MIN_SQUARE}-{MAX_SQUARE} px, or leave it empty.")


class _SizeAndInk(FlaskForm):
    size = StringField(
        "Square image size, in px",
        [Optional(), _validate_size],
        description="Empty: the stored display size (long edge 2016 px). A number, e.g. 512: "
        "a square of that size, the photo fitted inside and padded with white.",
    )
    ink = BooleanField("Ink extraction: only the red ink lines, on clean white")

    def image_size(self) -> int | None:
        return parse_size((self.size.data or "").strip())


class DatasetSettingsForm(_SizeAndInk):
    license = SelectField(
        "License (SPDX id)",
        choices=[SelectChoice(spdx, f"{spdx} — {lic.name}") for spdx, lic in LICENSES.items()],
    )
    pretty_name = StringField("Dataset name", [Length(max=120)])
    creator = StringField("Curated by (name for citations)", [Length(max=120)])
    contact = StringField("Contact (e-mail or web page)", [Length(max=200)])

    def answers(self) -> dict[str, str]:
        return {
            key: (self[f"answer_{key}"].data or "").strip() for key, _, _ in DATASHEET_QUESTIONS
        }


for _key, _question, _help in DATASHEET_QUESTIONS:
    setattr(
        DatasetSettingsForm,
        f"answer_{_key}",
        TextAreaField(_question, [Length(max=MAX_ANSWER)], description=_help),
    )


class ExportForm(_SizeAndInk):
    kind = RadioField(
        "What goes in",
        choices=[
            SelectChoice("training", "Dataset: only drawings whose drawer allowed training"),
            SelectChoice(
                "archive", "Archive: every kept drawing, for my own backup (not for training)"
            ),
        ],
        default="training",
    )
