"""Writing the diary and showing it: Markdown rendered with markdown-it-py, cleaned with nh3.

Rendering happens when an entry is shown, not when it is saved, so that a `#123` link reflects
the drawing's consent now: a link to its gallery page while it is in the gallery, plain text
once its drawer took it out or withdrew it. The link text is only ever the number: an
auto-link never shows a drawer's name (the collector is told not to type an uncredited one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import nh3
from flask import url_for
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapp.database import write_transaction
from fieldapp.diary.models import DiaryEntry
from fieldapp.gallery.services import gallery_photo

PER_PAGE = 10
MAX_LINKED_NUMBERS = 50  # per entry: the rest stay plain text
PORTRAIT_NUMBER = re.compile(r"#(\d{1,9})(?![\w-])")

ALLOWED_TAGS = {
    "p", "br", "hr", "em", "strong", "del", "s", "code", "pre", "blockquote",
    "ul", "ol", "li", "h2", "h3", "h4", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}


@dataclass(frozen=True)
class DiaryPage:
    entries: list[DiaryEntry]
    page: int
    pages: int


def _portrait_number_rule(state, silent: bool) -> bool:
    """`#123` (not inside a word or a link) becomes a link to the drawing if it is public."""
    if state.src[state.pos] != "#" or state.linkLevel > 0:
        return False
    if state.pos > 0 and (state.src[state.pos - 1].isalnum() or state.src[state.pos - 1] == "&"):
        return False
    match = PORTRAIT_NUMBER.match(state.src, state.pos)
    if match is None:
        return False
    if not silent:
        href = state.env.get("portrait_links", {}).get(int(match.group(1)))
        if href:
            link = state.push("link_open", "a", 1)
            link.attrs = {"href": href}
        text = state.push("text", "", 0)
        text.content = match.group(0)
        if href:
            state.push("link_close", "a", -1)
    state.pos = match.end()
    return True


def _markdown() -> MarkdownIt:
    # "html": False: raw HTML in an entry is shown as text, never passed through.
    # No images: a picture from elsewhere would tell its host who reads the diary.
    md = MarkdownIt("commonmark", {"html": False, "linkify": False})
    md.enable(["table", "strikethrough"]).disable("image")
    md.inline.ruler.before("emphasis", "portrait_number", _portrait_number_rule)
    return md


_MD = _markdown()


def _public_links(session: Session, body: str) -> dict[int, str]:
    numbers = {int(n) for n in PORTRAIT_NUMBER.findall(body)}
    links = {}
    for number in sorted(numbers)[:MAX_LINKED_NUMBERS]:
        if gallery_photo(session, number) is not None:
            links[number] = url_for("gallery.item", number=number)
    return links


def render_markdown(session: Session, body: str) -> Markup:
    """The entry as safe HTML: Markdown without raw HTML, then nh3 keeps only plain tags,
    http(s)/mailto links (with rel=nofollow noopener) and relative links of our own."""
    html = _MD.render(body, {"portrait_links": _public_links(session, body)})
    cleaned = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="nofollow noopener noreferrer",
    )
    return Markup(cleaned)  # noqa: S704 (nh3 has just cleaned it)


def public_page(session: Session, page: int = 1) -> DiaryPage:
    """Public entries, newest first, PER_PAGE a page (page numbers from 1)."""
    total = session.scalars(select(func.count()).where(DiaryEntry.public.is_(True))).one()
    pages = max(1, -(-total // PER_PAGE))
    page = min(max(page, 1), pages)
    entries = session.scalars(
        select(DiaryEntry)
        .where(DiaryEntry.public.is_(True))
        .order_by(DiaryEntry.entry_date.desc(), DiaryEntry.id.desc())
        .offset((page - 1) * PER_PAGE)
        .limit(PER_PAGE)
    ).all()
    return DiaryPage(list(entries), page, pages)


def all_entries(session: Session) -> list[DiaryEntry]:
    """Every entry, public or private, newest first (the collector's list)."""
    return list(
        session.scalars(
            select(DiaryEntry).order_by(DiaryEntry.entry_date.desc(), DiaryEntry.id.desc())
        )
    )


def save_entry(
    session: Session,
    entry: DiaryEntry | None,
    *,
    entry_date: date,
    title: str,
    body: str,
    public: bool,
) -> DiaryEntry:
    """Create an entry (entry=None) or change one."""
    with write_transaction(session):
        if entry is None:
            entry = DiaryEntry()
            session.add(entry)
        entry.entry_date = entry_date
        entry.title = title.strip()
        entry.body = body
        entry.public = public
    return entry


def delete_entry(session: Session, entry: DiaryEntry) -> None:
    with write_transaction(session):
        session.delete(entry)
