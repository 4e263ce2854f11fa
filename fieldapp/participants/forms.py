"""The forms a participant uses on their page: change choices, withdraw. CSRF-protected."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_wtf import FlaskForm

from fieldapp.consent.forms import ChoicesForm
from fieldapp.consent.services import NAME_LIMIT

__all__ = ["CHOICE_WORDS", "ChoicesForm", "ChoicesShown", "WithdrawForm"]


class WithdrawForm(FlaskForm):
    """The confirmation step of a withdrawal: the button is the only field."""


@dataclass(frozen=True)
class ChoiceWords:
    """The labels of ChoicesForm's fields, read from the form class once: the page renders the
    form as plain HTML with the very words (and field names) the form validates."""

    toggles: tuple[tuple[str, str], ...]  # (field name, label): gallery, training, social
    credit_options: tuple[tuple[str, str], ...]  # (value, label)
    credit_name: str
    name_limit: int = NAME_LIMIT

    @classmethod
    def of(cls, form_class: type[ChoicesForm]) -> ChoiceWords:
        return cls(
            toggles=tuple(
                (name, getattr(form_class, name).args[0])
                for name in ("gallery", "training", "social")
            ),
            credit_options=tuple(
                (choice.value, choice.label) for choice in form_class.credit.kwargs["choices"]
            ),
            credit_name=form_class.credit_name.args[0],
        )


CHOICE_WORDS = ChoiceWords.of(ChoicesForm)


@dataclass(frozen=True)
class ChoicesShown:
    """What the choices form on the participant page shows: values, and errors after a POST.

    A GET renders it from the encounter without instantiating WTForms (a fifth of the page's
    time, bench/load.py); a refused POST renders it from the validated form.
    """

    values: dict
    form_errors: list[str] = field(default_factory=list)
    credit_errors: list[str] = field(default_factory=list)
    credit_name_errors: list[str] = field(default_factory=list)

    @classmethod
    def of_encounter(cls, encounter) -> ChoicesShown:
        return cls(ChoicesForm.data_of(encounter))

    @classmethod
    def of_form(cls, form: ChoicesForm) -> ChoicesShown:
        return cls(
            values={
                "gallery": form.gallery.data,
                "training": form.training.data,
                "social": form.social.data,
                "credit": form.credit.data,
                "credit_name": form.credit_name.data or "",
            },
            form_errors=list(form.form_errors),
            credit_errors=list(form.credit.errors),
            credit_name_errors=list(form.credit_name.errors),
        )
