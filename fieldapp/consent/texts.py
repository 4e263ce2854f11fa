"""What a drawer is shown of a consent version, in one language: the layered text and its hash.

A consent version (and each of its translations) holds three layers, all shown to the drawer
and all hashed together: a short `summary`, one `label` and one-`line` explanation per choice
(`CHOICE_KEYS`), and the full `text` one tap away. The hash is the SHA-256 of the canonical
JSON of the four parts (language included), so anyone holding an export can check it:

    sha256(json.dumps({"language", "summary", "choices", "text"}, sort_keys=True,
                      ensure_ascii=False, separators=(",", ":")).encode("utf-8"))

A version published before layering has neither summary nor choices; its hash stays the
SHA-256 of its text alone, as it was exported then.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Self

from fieldapp.i18n import LANGUAGES

#: The choices the drawer answers, in the order shown; "credit" is by name or anonymous.
CHOICE_KEYS = ("keep", "gallery", "training", "social", "credit")
LABEL_LIMIT = 60
LINE_LIMIT = 160
SUMMARY_LIMIT = 800
MAX_CONSENT_TEXT = 20_000


class ConsentTextError(ValueError):
    """A consent text that cannot be published. The message says why, in plain words."""


@dataclass(frozen=True)
class ConsentText:
    """One version of the consent in one language, exactly as the drawer saw it."""

    version_id: int
    language: str
    summary: str
    choices: dict[str, dict[str, str]] = field(default_factory=dict)
    text: str = ""
    sha256: str = ""

    @classmethod
    def from_row(cls, row: Any, version_id: int, **more: Any) -> Self:
        """From a stored version or translation (a model or a plain row of its columns)."""
        return cls(
            version_id=version_id,
            language=row.language,
            summary=row.summary,
            choices=parse_choices(row.choice_texts),
            text=row.text,
            sha256=row.sha256,
            **more,
        )

    @property
    def layered(self) -> bool:
        """A summary and one line per choice (versions before layering have only the text)."""
        return bool(self.summary and self.choices)

    @cached_property
    def choice_lines(self) -> list[tuple[str, str]]:
        """(label, line) of each choice, in the order the drawer saw them."""
        return [
            (self.choices[key]["label"], self.choices[key]["line"])
            for key in CHOICE_KEYS
            if key in self.choices
        ]

    @cached_property  # the participant page's texts are kept per process (participants)
    def paragraphs(self) -> list[str]:
        return [p for p in self.text.split("\n\n") if p.strip()]

    @property
    def language_name(self) -> str:
        return LANGUAGES.get(self.language, self.language)

    def document(self) -> dict:
        """The hashed parts, as the API and the exports give them."""
        return {
            "language": self.language,
            "summary": self.summary,
            "choices": self.choices,
            "text": self.text,
        }

    def hashed_bytes(self) -> bytes:
        """Exactly the bytes whose SHA-256 is `sha256` (see the module's docstring)."""
        return hashed_bytes(self.language, self.summary, self.choices, self.text)


def normal_text(text: str) -> str:
    """As stored: Windows/old-Mac line ends made \\n, outer blank space removed."""
    return (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def one_line(text: str) -> str:
    return " ".join((text or "").split())


def hashed_bytes(language: str, summary: str, choices: dict, text: str) -> bytes:
    """What a consent text's SHA-256 is taken of: the canonical JSON of its four parts, or
    the text alone for a version published before layering."""
    if not summary and not choices:
        return text.encode("utf-8")
    canonical = json.dumps(
        {"language": language, "summary": summary, "choices": choices, "text": text},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return canonical.encode("utf-8")


def consent_sha256(language: str, summary: str, choices: dict, text: str) -> str:
    """The fingerprint of a consent text as the drawer saw it (see the module's docstring)."""
    return hashlib.sha256(hashed_bytes(language, summary, choices, text)).hexdigest()


def parse_choices(stored: str) -> dict[str, dict[str, str]]:
    """The choice texts of a stored row ("" before layering)."""
    return json.loads(stored) if stored else {}


def dump_choices(choices: dict[str, dict[str, str]]) -> str:
    return json.dumps(choices, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def checked_parts(
    language: str, summary: str, choices: dict[str, dict[str, str]], text: str
) -> tuple[str, dict[str, dict[str, str]], str]:
    """The parts normalised as stored, or ConsentTextError saying what is missing or too long."""
    if language not in LANGUAGES:
        raise ConsentTextError(f"Unknown language {language!r}: one of {', '.join(LANGUAGES)}.")
    text = normal_text(text)
    summary = normal_text(summary)
    if not text:
        raise ConsentTextError("The full text is empty.")
    if len(text) > MAX_CONSENT_TEXT:
        raise ConsentTextError(f"The full text is longer than {MAX_CONSENT_TEXT:,} characters.")
    if not summary:
        raise ConsentTextError("The summary is empty: a few plain sentences, shown first.")
    if len(summary) > SUMMARY_LIMIT:
        raise ConsentTextError(f"The summary is longer than {SUMMARY_LIMIT} characters.")
    clean: dict[str, dict[str, str]] = {}
    for key in CHOICE_KEYS:
        given = choices.get(key) or {}
        label, line = one_line(given.get("label", "")), one_line(given.get("line", ""))
        if not label or not line:
            raise ConsentTextError(f"The choice “{key}” needs a label and a one-line explanation.")
        if len(label) > LABEL_LIMIT or len(line) > LINE_LIMIT:
            raise ConsentTextError(
                f"The choice “{key}” is too long: at most {LABEL_LIMIT} characters for its "
                f"label and {LINE_LIMIT} for its line, so it fits a phone's first screen."
            )
        clean[key] = {"label": label, "line": line}
    return summary, clean, text
