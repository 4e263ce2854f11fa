"""The documents of an export, written from the log and the collector's settings:
the dataset card (`README.md`, Hugging Face), `DATASHEET.md` (Datasheets for Datasets) and
`croissant.json` (MLCommons Croissant 1.1 with its Responsible AI vocabulary).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from fieldapp.dataset.licenses import LICENSES
from fieldapp.dataset.versioning import VERSION_RULES

if TYPE_CHECKING:  # services.py imports this module
    from fieldapp.dataset.models import DatasetSettings
    from fieldapp.dataset.services import CollectionFigures, ExportOptions, ExportStats

#: Questions of *Datasheets for Datasets* (Gebru et al., 2021) that only the collector can
#: answer; he writes them once in the dataset settings. Everything else comes from the log.
DATASHEET_QUESTIONS: tuple[tuple[str, str, str], ...] = (
    ("purpose", "Why was the dataset created?",
     "The purpose, the gap it fills, the question behind it."),
    ("creators", "Who created it, on behalf of whom, and who paid for it?",
     "People, institutions, grants; or \"self-funded\"."),
    ("collection_people", "Who collected the drawings, and how were people compensated?",
     "The collector(s); what drawers received (a QR code, a drink, nothing)."),
    ("uses", "What is it meant to be used for?", "Tasks, research, art."),
    ("out_of_scope", "What should it not be used for?",
     "Uses the drawers or the collector would object to."),
    ("distribution", "How is it distributed, and under which terms beyond the license?",
     "Where it is published; any agreement a user must accept."),
    ("maintenance", "Who maintains it and how often is it updated?",
     "Who to write to; how new exports and withdrawals are announced."),
    ("other", "Anything else a user should know?", "Optional."),
)  # fmt: skip

NOT_ANSWERED = "_The collector has not answered this yet._"
TASK_CATEGORIES = ("unconditional-image-generation", "image-to-image")
RECORD_SET = "train"
_SIZE_STEPS = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"),
               (1_000_000, "100K<n<1M"), (10_000_000, "1M<n<10M"))  # fmt: skip


def size_category(count: int) -> str:
    """The Hub's `size_categories` value for a number of rows."""
    for limit, label in _SIZE_STEPS:
        if count < limit:
            return label
    return "n>1T" if count > 10**12 else "10M<n<100M"


@dataclass(frozen=True)
class ExportContext:
    settings: DatasetSettings
    options: ExportOptions
    stats: ExportStats
    figures: CollectionFigures
    created_at: datetime
    consent_versions: list
    consent_texts: list  # ConsentText: each version and language the drawings record
    metadata_sha256: str
    image_extension: str
    version: str = "1.0.0"  # semantic, from the earlier exports (dataset/versioning.py)

    @property
    def training(self) -> bool:
        return self.options.kind == "training"

    @property
    def name(self) -> str:
        return self.settings.pretty_name or "Hand-drawn portraits of one collector, with consent"

    @property
    def license(self):
        return LICENSES[self.settings.license]

    def answer(self, key: str) -> str:
        text = (self.settings.answers or {}).get(key, "").strip()
        return text or NOT_ANSWERED

    @property
    def image_description(self) -> str:
        size = (
            "the stored display size (long edge at most 2016 px)"
            if self.options.image_size is None
            else f"a {self.options.image_size}×{self.options.image_size} px square, the drawing "
            "fitted inside and padded with white"
        )
        if self.options.ink:
            return (
                f"PNG, {size}; **ink extraction**: only the red ink lines, redrawn in one red "
                "on a clean white background (the paper's light, shadows and tint divided "
                "out; pencil and paper removed)"
            )
        return (
            f"JPEG (quality 90), {size}; the framed drawing (the sheet of paper cut out of the "
            "photo and straightened), re-encoded"
        )

    @property
    def scope(self) -> str:
        if self.training:
            return (
                "only drawings whose drawer chose to **keep** the drawing in the collection "
                "**and** to allow it in **datasets for training machine-learning models**, and "
                "did not withdraw it"
            )
        return (
            "every drawing its drawer let the collection **keep** and did not withdraw, "
            "**including drawings whose drawer did not allow training**"
        )


# The dataset card (README.md) ------------------------------------------------------------


def _yaml_list(values) -> str:
    return "".join(f"\n- {json.dumps(v, ensure_ascii=False)}" for v in values)


def card_front_matter(ctx: ExportContext) -> str:
    """The card's YAML header, valid for the Hugging Face Hub."""
    tags = ["art", "drawings", "portraits", "consent", "provenance"]
    if not ctx.training:
        tags.append("not-for-training")
    return (
        "---\n"
        f"license: {ctx.license.hub}\n"
        f"pretty_name: {json.dumps(ctx.name, ensure_ascii=False)}\n"
        f"task_categories:{_yaml_list(TASK_CATEGORIES)}\n"
        f"size_categories:{_yaml_list([size_category(ctx.stats.count)])}\n"
        f"annotations_creators:{_yaml_list(['expert-generated'])}\n"
        f"source_datasets:{_yaml_list(['original'])}\n"
        f"tags:{_yaml_list(tags)}\n"
        "configs:\n"
        "- config_name: default\n"
        "  data_files:\n"
        "  - split: train\n"
        '    path: "train/**"\n'
        "---\n"
    )


def dataset_card(ctx: ExportContext) -> str:
    """README.md: the Hub card's front matter and the card template's sections, answered."""
    s = ctx.stats
    parts = [card_front_matter(ctx), f"# {ctx.name}\n"]
    if not ctx.training:
        parts.append(
            "> **NOT FOR TRAINING.** This is the collector's archive: it holds drawings whose "
            "drawers did **not** allow their use for training machine-learning models. Do not "
            "train, fine-tune or evaluate any model on it, and do not publish it as a dataset. "
            "The training export is a separate file.\n"
        )
    parts.append(
        f"{s.count:,} hand-drawn portraits of one person, each drawn in red ink by a different "
        "stranger who agreed, in person, to what happens to it. Every image can be traced to "
        "the exact consent text its drawer read and the choices they made.\n"
    )
    parts.append(
        _section(
            "Dataset Details",
            [
                (
                    "Dataset Description",
                    f"An artist (the collector) asked strangers at bars, parties, fairs and conferences "
                    f"to draw his portrait: shoulders up, in red ink, on paper, under a time limit he "
                    f"set. This export holds {ctx.scope}. Exported {ctx.created_at:%Y-%m-%d %H:%M} UTC.\n\n"
                    f"- **Curated by:** {ctx.settings.creator or 'the collector'}\n"
                    f"- **License:** {ctx.license.name} (`{ctx.license.spdx}`, {ctx.license.url}); each "
                    "drawing's own choice is also embedded in its image as XMP (`plus:DataMining`, and "
                    "`dc:creator` only for credited drawers)\n"
                    f"- **Images:** {ctx.image_description}\n"
                    f"- **Version:** {ctx.version}. {VERSION_RULES}",
                ),
                (
                    "Dataset Sources",
                    "Collected in person with fieldapp, which records each encounter, "
                    "its consent and its photo as it happens; this file was generated from that log.",
                ),
            ],
        )
    )
    parts.append(
        _section(
            "Uses",
            [
                (
                    "Direct Use",
                    ctx.answer("uses")
                    if ctx.training
                    else "Backup and audit by the collector only. Not for training (see above).",
                ),
                (
                    "Out-of-Scope Use",
                    ctx.answer("out_of_scope") + "\n\nAny use of a drawing after "
                    "its drawer withdrew it (see *Maintenance*). Identifying or profiling the drawers.",
                ),
            ],
        )
    )
    parts.append(
        _section(
            "Dataset Structure",
            [
                ("", _structure_text(ctx)),
            ],
        )
    )
    parts.append(
        _section(
            "Dataset Creation",
            [
                ("Curation Rationale", ctx.answer("purpose")),
                ("Source Data", ""),
                ("Data Collection and Processing", _collection_text(ctx)),
                (
                    "Who are the source data producers?",
                    f"{s.count:,} people, each of whom drew one portrait. {s.credited:,} chose to be "
                    f"credited by name (the `credit` column); the other {s.count - s.credited:,} chose to "
                    "stay anonymous, and their name was never stored. "
                    + ctx.answer("collection_people"),
                ),
                (
                    "Annotations",
                    "No crowd work and no labelling after the fact: every column was "
                    "recorded by the collector in the field at the moment of the encounter (venue type, "
                    "city, time limit, the on-screen timer's drawing time) or chosen by the drawer "
                    "(consent choices, credit).",
                ),
                ("Personal and Sensitive Information", _personal_text()),
            ],
        )
    )
    parts.append(_section("Bias, Risks, and Limitations", [("", _limitations_text(ctx))]))
    parts.append(
        _section(
            "Recommendations",
            [
                (
                    "",
                    "Keep the `credit` column with any image you reuse, and credit drawers who chose "
                    "it. Check the collector's withdrawal notices before each new use (see *Maintenance*).",
                )
            ],
        )
    )
    parts.append(_section("Maintenance and withdrawals", [("", _maintenance_text(ctx))]))
    parts.append(
        _section(
            "Dataset Card Authors",
            [
                (
                    "",
                    f"Generated by fieldapp from the collection log for "
                    f"{ctx.settings.creator or 'the collector'}.",
                )
            ],
        )
    )
    parts.append(_section("Dataset Card Contact", [("", ctx.settings.contact or NOT_ANSWERED)]))
    return "\n".join(parts)


def _section(title: str, subsections) -> str:
    out = [f"## {title}\n"]
    for heading, text in subsections:
        if heading:
            out.append(f"### {heading}\n")
        if text:
            out.append(text.rstrip() + "\n")
    return "\n".join(out)


def _structure_text(ctx: ExportContext) -> str:
    ext = ctx.image_extension
    return (
        "A Hugging Face ImageFolder with one split, `train`:\n\n"
        f"- `train/portrait-NNNNN.{ext}`: the images, named by portrait number;\n"
        "- `train/metadata.jsonl`: one JSON object per image, whose `file_name` names it;\n"
        "- `consent/version-N.LANG.json` (`.txt` for a text published before layering): every "
        "consent text a drawing here records, in the language its drawer read it, as exactly "
        "the bytes whose SHA-256 is `consent_sha256` (`sha256sum consent/*` recomputes it): "
        "the canonical JSON of its language, summary, one line per choice and full text; "
        "`consent/index.json` lists them;\n"
        "- `croissant.json`: the same structure in MLCommons Croissant 1.1, with RAI fields, "
        "the use conditions and the SHA-256 of every file above;\n"
        "- `DATASHEET.md`: the datasheet; `SHA256SUMS`: a checksum of every other file "
        "(`sha256sum -c SHA256SUMS`).\n\n"
        "| Column | Meaning |\n| --- | --- |\n"
        "| `file_name` | the image, relative to `train/` |\n"
        "| `portrait_number` | the number written on the back of the paper drawing |\n"
        "| `date` | the date of the encounter, as the clock in the room showed it |\n"
        "| `venue_type` | bar, party, fair, conference, street, transit, home or other |\n"
        "| `city` | where it happened, or null |\n"
        "| `time_limit_seconds` | the time the collector gave the drawer (null: no limit) |\n"
        "| `drawing_seconds` | the drawing time measured by the on-screen timer, or null |\n"
        "| `credit` | the drawer's name **only** if they chose to be credited; else null |\n"
        "| `consent_version`, `consent_language`, `consent_sha256` | the exact consent text "
        "they read: its version, the language they read it in (BCP 47) and the SHA-256 of "
        "that text (`consent/version-N.LANG.json`) |\n"
        "| `consent_keep`, `consent_gallery`, `consent_training`, `consent_social` | what they "
        "allowed: keeping it, the public gallery, ML training, social media |\n"
        "| `age_group` | `adult` or `minor`, as the drawer said (never a date of birth); a "
        "training export holds no minor's drawing |\n"
        "| `framing` | how the image was cut from the photo: `auto` (the sheet found and "
        "straightened), `manual` (framed by the artist), `none` (no sheet found: the whole "
        "photo) |\n\n"
        "```python\nfrom datasets import load_dataset\n"
        'drawings = load_dataset("imagefolder", data_dir="train", split="train")\n```\n'
    )


def _collection_text(ctx: ExportContext) -> str:
    s, f = ctx.stats, ctx.figures
    period = f"from {s.first_date} to {s.last_date}" if s.first_date else "(no drawings yet)"
    venues = ", ".join(f"{name} {n:,}" for name, n in s.venue_types.most_common()) or "none"
    limits = (
        ", ".join(
            f"{_limit(limit)}: {n:,}"
            for limit, n in sorted(
                s.time_limits.items(), key=lambda kv: (kv[0] is None, kv[0] or 0)
            )
        )
        or "none"
    )
    median = s.median_drawing_seconds
    versions = (
        ", ".join(
            f"version {t.version_id} in {t.language} "
            f"({s.texts[t.version_id, t.language]:,} drawings, SHA-256 `{t.sha256[:16]}…`)"
            for t in ctx.consent_texts
        )
        or "none"
    )
    return (
        f"Drawings made {period}, in person, one drawer at a time. Venues: {venues}. "
        f"Cities: {len(s.cities):,}. Time limits given: {limits}. "
        + (
            f"Median drawing time {median} s; {s.total_drawing_hours:.1f} hours of drawing in all. "
            if median is not None
            else ""
        )
        + f"\n\nThe collector approached {f.approaches:,} people: {f.declined:,} declined "
        f"(logged as labor, with no personal data), {f.completed:,} drew. "
        f"{f.withdrawn:,} drawers later withdrew their drawing: it was deleted and is in no "
        f"export. {f.kept:,} drawings are kept, of which {f.training:,} may be used for "
        "training.\n\n"
        + minors_text(ctx)
        + "\n\nBefore drawing, each drawer read a consent text on the collector's phone and chose "
        "what they allow; each got a QR code to a page where they can change their mind or "
        f"withdraw at any time. Consent texts used here: {versions}.\n\n"
        "Processing: " + preprocessing_text(ctx)
    )


#: How each drawing was framed (Photo.framing), as the preprocessing text counts them.
FRAMING_WORDS = {
    "auto": "framed automatically",
    "manual": "framed by the artist, who set the sheet's four corners on the photo",
    "none": "with no sheet found: the image is the whole photo",
    None: "stored before framing was recorded: the image is the whole photo",
}


def framing_text(framings: Counter) -> str:
    """How many drawings were framed each way, e.g. "3 drawings framed automatically, 1
    drawing framed by the artist, ..."."""
    parts = [
        f"{framings[key]:,} drawing{'s' if framings[key] != 1 else ''} {words}"
        for key, words in FRAMING_WORDS.items()
        if framings.get(key)
    ]
    return "; ".join(parts) or "no drawings"


def preprocessing_text(ctx: ExportContext) -> str:
    """What was done to a photo before its image is in this export: framing, scrubbing, and
    this export's size and ink options (the card, the datasheet and croissant.json say it)."""
    return (
        "each photo was turned upright by its EXIF orientation and re-encoded from its pixels, "
        "so no camera metadata (EXIF, GPS) survives. Then the drawing was framed: where its "
        "sheet of paper was found, the sheet's four corners located, the perspective corrected "
        "and the sheet cropped at its own aspect ratio. In this export: "
        f"{framing_text(ctx.stats.framings)}. The whole upright photo stays in the collector's "
        "archive and is never exported. For this export each drawing's display image was "
        f"decoded again and written as {ctx.image_description}, with the drawer's training "
        "choice and, only if they chose credit, their name embedded as XMP."
    )


def minors_text(ctx: ExportContext) -> str:
    """How minors were handled, and what that left out of this export."""
    s, f = ctx.stats, ctx.figures
    held = (
        f"This training export holds no minor's drawing: the {f.minors_kept:,} kept drawings "
        "by minors were left out of it, whatever was chosen."
        if ctx.training
        else f"This archive holds {s.minors:,} drawings by minors (`age_group` = `minor`); "
        "none of them may be used for training."
    )
    return (
        "Minors: drawers were asked only their age group (adult or minor), never their age or "
        "date of birth. A minor's drawing is never credited by name, never used to train "
        "machine-learning models and never posted on social media, whatever is ticked; it is "
        "shown in the public gallery only once a parent or guardian agreed, which the "
        f"collector records with who agreed and how. {held}"
    )


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _limit(seconds: int | None) -> str:
    if seconds is None:
        return "no limit"
    return f"{seconds // 60} min" if seconds % 60 == 0 else f"{seconds} s"


def _personal_text() -> str:
    return (
        "The images are drawings, not photographs of people: they depict the collector, who "
        "consents. A drawer's name appears only where they chose to be credited by name; "
        "anonymous drawers' names were never stored. No contact details, faces of drawers, "
        "exact places or times of day are included: only the date, the venue type and the "
        "city. The free-text occasion and the collector's notes are never exported."
    )


def _limitations_text(ctx: ExportContext) -> str:
    return (
        "One subject (the collector), drawn by people who were where he went: bars, parties, "
        "fairs and conferences in the cities he visited, mostly adults out at night (minors' "
        "drawings are never in a training export). Drawing "
        "skill, time pressure and alcohol vary and are not recorded beyond the time limit. "
        "A drawer who declined is not represented at all. "
        + (
            "Only drawers who allowed training are in this export, which may differ from "
            "those who did not. "
            if ctx.training
            else ""
        )
        + ctx.answer("other")
    )


def _maintenance_text(ctx: ExportContext) -> str:
    return (
        "Drawers may withdraw their drawing at any time. A withdrawn drawing is deleted from "
        "the collection and never appears in a later export — but copies of **this** file "
        "already made still hold it. **If you hold a copy, remove every withdrawn drawing "
        "from it (and from anything derived from it)** when the collector publishes a "
        "withdrawal notice or a newer export: compare `portrait_number`s with the newest "
        "export, and delete those that are no longer in it.\n\n"
        + ctx.answer("maintenance")
        + f"\n\nContact: {ctx.settings.contact or NOT_ANSWERED}"
    )


# The datasheet (DATASHEET.md) ------------------------------------------------------------


def datasheet(ctx: ExportContext) -> str:
    """DATASHEET.md: the seven sections of Datasheets for Datasets, answered."""
    s, f = ctx.stats, ctx.figures
    qa = [
        (
            "Motivation",
            [
                ("For what purpose was the dataset created?", ctx.answer("purpose")),
                (
                    "Who created the dataset, on behalf of whom, and who funded it?",
                    ctx.answer("creators"),
                ),
            ],
        ),
        (
            "Composition",
            [
                (
                    "What do the instances represent?",
                    "Each instance is one hand-drawn portrait of the collector, in red ink on paper, "
                    "by one stranger, photographed and framed to its sheet of paper, with the facts "
                    "of its encounter and its drawer's consent choices.",
                ),
                (
                    "How many instances are there?",
                    f"{s.count:,} ({'training export' if ctx.training else 'archive export'}: "
                    f"{ctx.scope}).",
                ),
                (
                    "Is it a sample of a larger set?",
                    f"It is every drawing of the collection meeting its consent condition at export "
                    f"time: {f.completed:,} drawings were made, {f.withdrawn:,} withdrawn, "
                    f"{f.kept:,} kept, {f.training:,} allowed for training.",
                ),
                (
                    "What data does each instance consist of? Is there a label?",
                    "An image and the columns listed in README.md (*Dataset Structure*). There is no "
                    "target label; the columns are provenance.",
                ),
                (
                    "Is any information missing?",
                    "`city` is null where the collector did not note it; `drawing_seconds` where the "
                    "timer was not used; `credit` for every anonymous drawer, by design.",
                ),
                ("Are there recommended splits?", "One split, `train`: it is small."),
                (
                    "Is the dataset self-contained?",
                    "Yes: images, metadata, consent texts and checksums are all in this file.",
                ),
                (
                    "Does it contain confidential data, or data that might be offensive?",
                    "No confidential data. Drawings are by strangers and were not reviewed for "
                    "content beyond the collector's eye.",
                ),
                ("Does it identify people, or contain sensitive data?", _personal_text()),
            ],
        ),
        (
            "Collection process",
            [
                ("How was the data acquired, over what timeframe, by whom?", _collection_text(ctx)),
                (
                    "Who was involved, and how were they compensated?",
                    ctx.answer("collection_people"),
                ),
                (
                    "Were the people concerned notified, and did they consent? How can they revoke?",
                    "Yes, in person, before drawing, with the consent text in `consent/`, in the "
                    "language they chose (its version, language and SHA-256 are on every row). "
                    "Each drawer holds a QR link to their drawing's "
                    "page, where they can change what they allow or withdraw it at any time; every "
                    "change is an event in the collector's log, never an overwrite.",
                ),
                (
                    "Were any of the people concerned minors? How were they handled?",
                    minors_text(ctx),
                ),
                ("Was an ethical review conducted?", ctx.answer("other")),
            ],
        ),
        (
            "Preprocessing, cleaning, labelling",
            [
                ("What preprocessing was done?", _sentence(preprocessing_text(ctx))),
                (
                    "Was the raw data saved?",
                    "The collector keeps the full-size photos, whole and upright, without "
                    "metadata; they are never part of an export.",
                ),
            ],
        ),
        (
            "Uses",
            [
                ("What tasks is it meant for?", ctx.answer("uses")),
                ("What should it not be used for?", ctx.answer("out_of_scope")),
                (
                    "Is there anything about its composition that might impact future uses?",
                    _limitations_text(ctx),
                ),
            ],
        ),
        (
            "Distribution",
            [
                (
                    "How and under which license is it distributed?",
                    f"{ctx.license.name} (`{ctx.license.spdx}`, {ctx.license.url}). "
                    + ctx.answer("distribution"),
                ),
                (
                    "Do other restrictions apply?",
                    "A drawing withdrawn by its drawer must be deleted from every copy (see "
                    "*Maintenance*)."
                    + (
                        ""
                        if ctx.training
                        else " **This archive export is not for training or publication.**"
                    ),
                ),
            ],
        ),
        (
            "Maintenance",
            [
                (
                    "Who maintains it, and how can they be contacted?",
                    f"{ctx.settings.creator or 'The collector'}. Contact: "
                    f"{ctx.settings.contact or NOT_ANSWERED}",
                ),
                (
                    "Will it be updated? How will withdrawals be handled?",
                    f"This is version {ctx.version}. {VERSION_RULES}\n\n{_maintenance_text(ctx)}",
                ),
            ],
        ),
    ]
    out = [f"# Datasheet: {ctx.name}\n",
           f"Answers to the questions of *Datasheets for Datasets* (Gebru et al., 2021), "
           f"written from the collection log on {ctx.created_at:%Y-%m-%d} and from the "
           "collector's own answers.\n"]  # fmt: skip
    for title, questions in qa:
        out.append(f"## {title}\n")
        for question, answer in questions:
            out.append(f"**{question}**\n\n{answer}\n")
    return "\n".join(out)


# Croissant (croissant.json) --------------------------------------------------------------

CROISSANT_CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "arrayShape": "cr:arrayShape",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/",
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileProperty": "cr:fileProperty",
    "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sc": "https://schema.org/",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}

#: Metadata columns: name -> (Croissant data type, description).
COLUMNS = {
    "portrait_number": ("sc:Integer", "The number written on the back of the paper drawing."),
    "date": ("sc:Date", "The date of the encounter, in the room's local time."),
    "venue_type": ("sc:Text", "bar, party, fair, conference, street, transit, home or other."),
    "city": ("sc:Text", "The city, or null."),
    "time_limit_seconds": ("sc:Integer", "The time the collector gave; null: no limit."),
    "drawing_seconds": ("sc:Integer", "Drawing time measured by the on-screen timer."),
    "credit": ("sc:Text", "The drawer's name only if they chose credit; null: anonymous."),
    "consent_version": ("sc:Integer", "The version of the consent text the drawer read."),
    "consent_language": ("sc:Text", "The language the drawer read it in (BCP 47)."),
    "consent_sha256": (
        "sc:Text",
        "SHA-256 of that exact text (consent/version-N.LANG.json holds the hashed bytes).",
    ),
    "consent_keep": ("sc:Boolean", "The drawer allowed the collection to keep the drawing."),
    "consent_gallery": ("sc:Boolean", "The drawer allowed the public gallery."),
    "consent_training": ("sc:Boolean", "The drawer allowed training machine-learning models."),
    "consent_social": ("sc:Boolean", "The drawer allowed posting on social media."),
    "age_group": ("sc:Text", "adult or minor, as the drawer said; never in a training export."),
    "framing": (
        "sc:Text",
        "How the image was cut from the photo: auto (the sheet found and straightened), "
        "manual (framed by the artist) or none (no sheet found: the whole photo).",
    ),
}


#: Media types of the files an export lists, by extension.
MEDIA_TYPES = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "jsonl": "application/jsonlines",
    "json": "application/json",
    "txt": "text/plain",
    "md": "text/markdown",
}


def croissant(ctx: ExportContext, sums: Sequence[tuple[str, str]]) -> dict:
    """croissant.json: Croissant 1.1 metadata, RAI fields included, of the unzipped export.

    Paths are relative to the folder the zip is extracted into; the record set `train` joins
    each metadata line to its image file by `file_name`. `sums` are the (path, SHA-256) of every
    file already in the zip: each is listed as a FileObject with its `sha256` (a FileSet has no
    checksum, so the images are listed one by one too, besides the FileSet the record set
    reads). Not listed: croissant.json itself and SHA256SUMS (which hashes it), nor the zip.
    """
    s = ctx.stats
    ext = ctx.image_extension
    mime = MEDIA_TYPES[ext]
    period = [s.first_date, s.last_date] if s.first_date else []
    fields = [
        {
            "@type": "cr:Field",
            "@id": f"{RECORD_SET}/file_name",
            "name": "file_name",
            "description": "The image file, relative to train/.",
            "dataType": "sc:Text",
            "source": {"fileObject": {"@id": "metadata"}, "extract": {"column": "file_name"}},
            "references": {"fileSet": {"@id": "images"}, "extract": {"fileProperty": "filename"}},
        },
        {
            "@type": "cr:Field",
            "@id": f"{RECORD_SET}/image",
            "name": "image",
            "description": "The drawing.",
            "dataType": "sc:ImageObject",
            "source": {"fileSet": {"@id": "images"}, "extract": {"fileProperty": "content"}},
        },
    ]
    for column, (data_type, description) in COLUMNS.items():
        fields.append({
            "@type": "cr:Field",
            "@id": f"{RECORD_SET}/{column}",
            "name": column,
            "description": description,
            "dataType": data_type,
            "source": {"fileObject": {"@id": "metadata"}, "extract": {"column": column}},
        })  # fmt: skip
    document = {
        "@context": CROISSANT_CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": "http://mlcommons.org/croissant/1.1",
        "name": ctx.name,
        "description": _plain(
            f"{s.count:,} hand-drawn portraits of one person, each in red ink by a different "
            f"stranger, with each drawer's consent; each image is the drawing's sheet of paper, "
            f"framed from a phone photo. This export holds {ctx.scope}."
            + ("" if ctx.training else " NOT FOR TRAINING: the collector's archive.")
        ),
        "license": ctx.license.url,
        "usageInfo": _usage_info(ctx, sums),
        "version": ctx.version,
        "datePublished": ctx.created_at.date().isoformat(),
        "creator": {"@type": "sc:Person", "name": ctx.settings.creator or "The collector"},
        "citeAs": f"{ctx.settings.creator or 'The collector'}. {ctx.name}. {ctx.created_at:%Y}.",
        "keywords": ["drawings", "portraits", "consent", "provenance", "red ink"],
        "isLiveDataset": False,
        # Property names as the RAI vocabulary (croissant_rai.ttl) spells them; mlcroissant
        # 1.1.1 reads two under other names (dataCollectionTimeFrame,
        # dataDataManipulationProtocol) and ignores these, which still validate.
        "rai:dataCollection": _plain(_collection_text(ctx)),
        "rai:dataCollectionType": ["Direct measurement", "Manual Human Curation"],
        "rai:dataCollectionTimeframe": period,
        "rai:dataCollectionRawData": "Phone photos of paper drawings, turned upright and "
        "stripped of all camera metadata on arrival; the collector keeps them whole and never "
        "exports them.",
        "rai:dataPreprocessingProtocol": [_plain(_sentence(preprocessing_text(ctx)))],
        "rai:dataAnnotationProtocol": "No after-the-fact annotation: every column was recorded "
        "by the collector during the encounter or chosen by the drawer.",
        "rai:dataManipulationProtocol": "Consent filter at export time: " + _plain(ctx.scope),
        "rai:personalSensitiveInformation": _personal_text(),
        "rai:dataUseCases": _plain(_use_cases(ctx)),
        "rai:dataLimitations": _limitations_text(ctx),
        "rai:dataBiases": _biases_text(ctx),
        "rai:dataSocialImpact": _social_impact_text(ctx),
        "rai:hasSyntheticData": False,
        "rai:dataReleaseMaintenancePlan": _plain(
            f"Version {ctx.version}. {VERSION_RULES} {_maintenance_text(ctx)}"
        ),
        "distribution": [
            {
                "@type": "cr:FileObject",
                "@id": "metadata",
                "name": "metadata",
                "description": "One JSON object per image.",
                "contentUrl": "train/metadata.jsonl",
                "encodingFormat": MEDIA_TYPES["jsonl"],
                "sha256": ctx.metadata_sha256,
            },
            {
                "@type": "cr:FileSet",
                "@id": "images",
                "name": "images",
                "description": "The drawings, named by portrait number.",
                "encodingFormat": mime,
                "includes": f"train/*.{ext}",
            },
            *_file_objects(sums),
        ],
        "recordSet": [
            {
                "@type": "cr:RecordSet",
                "@id": RECORD_SET,
                "name": RECORD_SET,
                "description": "One record per drawing: the image and its provenance.",
                "key": {"@id": f"{RECORD_SET}/portrait_number"},
                "field": fields,
            }
        ],
    }
    url = _url(ctx.settings.contact or "")
    if url:
        document["url"] = url
    return document


def _file_objects(sums: Sequence[tuple[str, str]]) -> list[dict]:
    """A FileObject with its SHA-256 for each file of the zip but metadata.jsonl (listed as
    `metadata`, which the record set reads)."""
    return [
        {
            "@type": "cr:FileObject",
            "@id": path,
            "name": path,
            "contentUrl": path,
            "encodingFormat": MEDIA_TYPES[path.rsplit(".", 1)[-1]],
            "sha256": digest,
        }
        for path, digest in sums
        if path != "train/metadata.jsonl"
    ]


def _usage_info(ctx: ExportContext, sums: Sequence[tuple[str, str]]) -> list[dict]:
    """schema.org usageInfo (Croissant 1.1, "Data Use Conditions"): the license, and what the
    drawers' consent allows, pointing at the consent texts they read (their FileObjects)."""
    texts = [{"@id": path} for path, _ in sums if path.startswith("consent/")]
    return [
        {
            "@type": "sc:CreativeWork",
            "name": ctx.license.name,
            "url": ctx.license.url,
            "description": f"The license of the dataset ({ctx.license.spdx}).",
        },
        {
            "@type": "sc:CreativeWork",
            "name": "The drawers' consent",
            "description": _plain(_consent_conditions(ctx)),
            "url": "consent/index.json",
            "hasPart": texts,
        },
    ]


def _consent_conditions(ctx: ExportContext) -> str:
    """What the data may be used for, by the drawers' consent, beyond the license."""
    if ctx.training:
        allowed = (
            "Every drawing here may be used to train, fine-tune and evaluate machine-learning "
            "models: its drawer allowed it, in person, in the consent text named on its row "
            "(consent_version, consent_language, consent_sha256; the texts are in consent/). "
        )
    else:
        allowed = (
            "NOT for training, fine-tuning or evaluating any model, nor for publication: this "
            "is the collector's archive and holds drawings whose drawers refused training. "
            "Backup and audit by the collector only. "
        )
    return (
        allowed + "Show a drawing publicly or post it on social media only where its row's "
        "consent_gallery or consent_social allows it; credit a drawer only by the credit "
        "column. Remove every drawing its drawer withdraws (see the maintenance plan). Never "
        "identify or profile the drawers."
    )


def _use_cases(ctx: ExportContext) -> str:
    if not ctx.training:
        return "Backup and audit by the collector only; not for training."
    return (
        "Training and evaluating generative and image-to-image models on hand-drawn portraits "
        "of one subject, by drawers who each allowed it. " + ctx.answer("uses")
    )


def _biases_text(ctx: ExportContext) -> str:
    return (
        "Sampling: the drawers are the people who were where the collector went (bars, "
        "parties, fairs, conferences, in the cities listed in the collection text), who "
        "agreed to draw, and, in a training export, who allowed training; people who declined "
        "are not represented. One subject, drawn under time limits the collector set. Framing "
        "may crop or distort a drawing whose sheet edges were hard to find; the preprocessing "
        "text counts how each drawing was framed."
    )


def _social_impact_text(ctx: ExportContext) -> str:
    return (
        "Shows that a dataset of people's creative work can be collected with informed, "
        "revocable, per-person consent, every image traceable to the exact text its drawer "
        "read. Models trained on it may imitate amateur hand drawing; only drawers who allowed "
        "that are in a training export. " + ctx.answer("purpose")
    )


def _plain(text: str) -> str:
    """Markdown emphasis dropped, for JSON-LD text."""
    return text.replace("**", "")


def _url(contact: str) -> str | None:
    """The dataset's web address from the collector's contact: a page, or a mailto: link."""
    contact = contact.strip()
    if contact.startswith(("http://", "https://")):
        return contact
    if "@" in contact and " " not in contact:
        return f"mailto:{contact}"
    return None
