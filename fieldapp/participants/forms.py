"""The participant's choices form (CSRF-protected), and the words the participant page sums
them up in."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext

from fieldapp.consent.forms import ChoicesForm

__all__ = ["CHOICE_WORDS", "MINOR_REASONS", "ChoicesForm", "minor_refusals"]

#: Why a minor's drawing allows less: consent.services.MINOR_RULES (which the service enforces),
#: as a sentence in the drawer's language. A test keeps the English the same.
MINOR_REASONS = {
    "training": lazy_gettext("A minor's drawing is never used to train machine-learning models."),
    "social": lazy_gettext("A minor's drawing is never posted on social media."),
    "credit": lazy_gettext("A minor is never credited by name."),
}
#: A minor's gallery choice, until the collector has confirmed a parent's or guardian's agreement.
GUARDIAN_NOTE = lazy_gettext(
    "Your drawing shows in the gallery only once a parent or guardian has agreed."
)


def minor_refusals(encounter, form: ChoicesForm) -> list[str]:
    """The reasons, in the drawer's language, why a minor's form asks for what is refused
    (training, social media, credit by name); none for an adult."""
    if encounter is None or not encounter.is_minor:
        return []
    asked = {
        "training": bool(form.training.data),
        "social": bool(form.social.data),
        "credit": form.credit.data == "name",
    }
    return [str(MINOR_REASONS[name]) for name, wanted in asked.items() if wanted]


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
