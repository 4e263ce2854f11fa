"""The participant's choices form (CSRF-protected), and the words the participant page sums
them up in."""

from __future__ import annotations

from dataclasses import dataclass

from fieldapp.consent.forms import ChoicesForm

__all__ = ["CHOICE_WORDS", "ChoicesForm"]


@dataclass(frozen=True)
class ChoiceWords:
    """The labels of ChoicesForm, read from the form class once: the participant page sums up
    the drawer's choices in the very words of the form that changes them."""

    toggles: tuple[tuple[str, str], ...]  # (field name, label): gallery, training, social
    credit_by_name: str

    def answers(self, encounter) -> list[tuple[str, bool]]:
        """(label, allowed) for each choice of an encounter, credit by name last."""
        if encounter is None:
            return []
        values = ChoicesForm.data_of(encounter)
        return [(label, bool(values[name])) for name, label in self.toggles] + [
            (self.credit_by_name, values["credit"] == "name")
        ]

    @classmethod
    def of(cls, form_class: type[ChoicesForm]) -> ChoiceWords:
        credit = dict(
            (choice.value, choice.label) for choice in form_class.credit.kwargs["choices"]
        )
        return cls(
            toggles=tuple(
                (name, getattr(form_class, name).args[0])
                for name in ("gallery", "training", "social")
            ),
            credit_by_name=credit["name"],
        )


CHOICE_WORDS = ChoiceWords.of(ChoicesForm)
