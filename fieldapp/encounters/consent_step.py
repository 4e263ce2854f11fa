"""What the consent step of the capture flow shows, in every language of the consent version.

The step must work offline (the page is cached on the phone) and switch language at one tap,
so the page carries every language at once: the version's texts (hashed, immutable) and the
step's interface words, each rendered from the gettext catalogues in that language.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from fieldapp.consent.models import ConsentVersion
from fieldapp.consent.services import texts_of
from fieldapp.consent.texts import CHOICE_KEYS, ConsentText
from fieldapp.i18n import babel_locale, page_language


def step_words(age: int, version: int) -> dict[str, str]:
    """The consent step's interface words in the current locale."""
    return {
        "language": _("Language"),
        "age_question": _("Are you %(age)s or older?", age=age),
        "age_note": _("Only your answer is kept: never your age or your birth date."),
        "adult": _("Yes, %(age)s or older", age=age),
        "minor": _("No, under %(age)s", age=age),
        "age_shown_adult": _("%(age)s or older", age=age),
        "age_shown_minor": _("Under %(age)s", age=age),
        "change": _("Change"),
        "yes": _("Yes"),
        "no": _("No"),
        "anonymous": _("Anonymous"),
        "by_name": _("My name"),
        "name_label": _("Your name, as you want it shown"),
        "full_text": _("Read the full text"),
        "version": _("Consent text, version %(version)s", version=version),
        "done": _("Done: back to the artist"),
        "unanswered": _("Answer each question first: tap Yes or No."),
        "no_name": _("Write your name, or choose Anonymous."),
        "minor_never": _("Never for a drawing by someone under %(age)s.", age=age),
        "minor_gallery": _("Shown only once a parent or guardian agrees."),
        "minor_anonymous": _("Anonymous: no name is kept for someone under %(age)s.", age=age),
        "not_kept": _("Not kept: nothing else happens to it."),
        # For a consent version written before layering (no summary, no choice lines).
        "keep": _("Keep the drawing"),
        "gallery": _("Show it in the public gallery"),
        "training": _("Use it to train machine learning"),
        "social": _("Post it on social media"),
        "credit": _("Your name"),
    }


def consent_step(session: Session, version: ConsentVersion, adult_age: int) -> dict:
    """Every language of `version` as the page's script switches to it, each language's name,
    and the text shown first (the page's language if the version has it, else its own)."""
    texts = texts_of(session, version)  # its own language first
    for_page = {}
    for text in texts:
        with force_locale(babel_locale(text.language)):
            for_page[text.language] = _for_page(text, step_words(adult_age, version.id))
    first = next((t for t in texts if t.language == page_language()), texts[0])
    return {
        "first": first,
        "names": {t.language: t.language_name for t in texts},
        "for_page": for_page,
    }


def _for_page(text: ConsentText, words: dict[str, str]) -> dict:
    """One language as the page's script switches to it."""
    choices = {
        key: text.choices.get(key) or {"label": words[key], "line": ""} for key in CHOICE_KEYS
    }
    return {
        "language": text.language,
        "sha256": text.sha256,
        "summary": text.summary,
        "choices": choices,
        "paragraphs": text.paragraphs,
        "words": words,
    }
