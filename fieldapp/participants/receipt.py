"""The drawer's own copy: one PDF page (more only when the full consent text needs them).

`GET /p/<token>/receipt.pdf`, in the page's language (`?lang=` or Accept-Language): the
drawing's number and date, the choices as they stand today, the exact consent text the drawer
saw (version, language, SHA-256, summary, each choice's label and line, the full text, in the
language they saw it in), and the QR code and link back to their page. A withdrawn drawing's
copy says so, with the date, and holds neither a name nor the consent text.

A4 (ISO 216, the paper of nearly every country but the US, Canada and a few others), with
20 mm margins: the content then also fits on Letter printed at actual size (it is 17 pt wider
and its content area stays inside Letter's height), and a phone shows the page whole either
way. Built by the project's own small PDF writer (fieldapp/tickets/pdf.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from flask import Blueprint, Response, render_template
from flask_babel import gettext as _

from fieldapp.consent.services import text_seen
from fieldapp.consent.texts import ConsentText
from fieldapp.database import utcnow
from fieldapp.encounters.models import Encounter
from fieldapp.extensions import db
from fieldapp.i18n import drawer_date
from fieldapp.participants.services import ParticipantView, participant_view
from fieldapp.tickets.links import link_for
from fieldapp.tickets.pdf import COURIER_ADVANCE, MONO, Page, text_width, wrap_text, write_pdf
from fieldapp.tickets.sheet import QUIET_MODULES, draw_qr, link_lines, qr_modules

bp = Blueprint("receipts", __name__, url_prefix="/p")

MM = 72 / 25.4
A4 = (595.28, 841.89)
MARGIN = 20 * MM
CONTENT_WIDTH = A4[0] - 2 * MARGIN
FOOTER_ROOM = 14.0  # above the bottom margin: the footer's line sits in it
QR_SYMBOL = 32 * MM  # the code alone; its quiet zone is the page's white around it
LINK_SIZE = 8.5


@bp.get("/<token>/receipt.pdf")
def receipt(token: str):
    """The drawer's copy as a PDF to keep on a phone or to print; no cookie, never cached."""
    view = participant_view(db.session(), token)
    if view is None:
        return _not_found(
            _("Nothing here"),
            _(
                "This link does not lead to a drawing we know. If you scanned a QR code, check "
                "that the whole code was in view and scan it again; if it still does not work, "
                "ask the person who gave it to you."
            ),
        )
    number = view.ticket.number
    if view.encounter is None and not view.is_withdrawn:
        return _not_found(
            _("On its way"),
            _(
                "Your drawing #%(number)s is on its way: the artist's phone sends it when it "
                "finds a network. Your copy will be here as soon as it has arrived: come back "
                "to this link later.",
                number=number,
            ),
        )
    link = link_for(token)
    if view.is_withdrawn:
        pages = _withdrawn(view, link)
    else:
        assert view.encounter is not None
        pages = _receipt(view.encounter, number, link)
    pdf = write_pdf(pages, title=_("Drawing #%(number)s: your copy", number=number))
    response = Response(pdf, mimetype="application/pdf")
    response.headers["Content-Disposition"] = f'inline; filename="drawing-{number}-receipt.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


def _not_found(title: str, message: str):
    return render_template("errors/error.html", title=title, message=message), 404


def _room_time(encounter: Encounter | None, moment: datetime) -> datetime:
    """`moment` on the clock of the room where the drawing was made (UTC without one)."""
    minutes = encounter.utc_offset_minutes if encounter is not None else 0
    return moment.astimezone(timezone(timedelta(minutes=minutes)))


# The copy --------------------------------------------------------------------------------


def _receipt(encounter: Encounter, number: int, link: str) -> list[Page]:
    flow = _Flow()
    _header(flow, number, encounter.local_started_at, link)
    today = _room_time(encounter, utcnow())
    flow.heading(_("Your choices, as they stand on %(date)s", date=drawer_date(today)))
    for label, value in _choices(encounter):
        flow.row(label, value)
    if encounter.is_minor:
        flow.space(2)
        flow.paragraph(
            _(
                "This is a minor's drawing: it is never used to train machine-learning models, "
                "never posted on social media and never credited by name."
            ),
            size=9,
            gray=0.3,
        )
    flow.space(2)
    flow.paragraph(
        _(
            "You can change these choices, or withdraw the drawing, whenever you like on your "
            "page: scan the code or open the link above. A change applies from then on."
        ),
        size=9,
        gray=0.3,
    )
    seen = text_seen(db.session(), encounter)
    flow.space(8)
    flow.heading(_("What you were told"))
    if seen is None:
        flow.paragraph(_("No consent text was recorded with this drawing."))
    else:
        _consent(flow, seen)
    return flow.finish(number)


def _choices(encounter: Encounter) -> list[tuple[str, str]]:
    def allowed(value: bool | None) -> str:
        return _("allowed") if value else _("not allowed")

    gallery = allowed(encounter.gallery)
    if encounter.gallery and encounter.is_minor:
        gallery = (
            _("allowed: a parent or guardian agreed")
            if encounter.guardian_agreed
            else _("allowed, but not shown until a parent or guardian agrees")
        )
    credit = (
        _("by name: %(name)s", name=encounter.credit_name)
        if encounter.credit_name
        else _("anonymous")
    )
    return [
        (_("Keeping a photo of the drawing"), allowed(encounter.keep)),
        (_("The public gallery"), gallery),
        (_("Datasets for training machine-learning models"), allowed(encounter.training)),
        (_("Social media"), allowed(encounter.social)),
        (_("Credit"), credit),
    ]


def _consent(flow: _Flow, seen: ConsentText) -> None:
    flow.paragraph(
        _(
            "Consent text version %(version)s, in %(language)s, exactly as you saw it:",
            version=seen.version_id,
            language=seen.language_name,
        )
    )
    flow.mono(_("SHA-256 fingerprint:"), seen.sha256)
    flow.paragraph(
        _("Any change to the text, however small, would change this fingerprint."),
        size=8,
        gray=0.35,
    )
    flow.space(6)
    if seen.layered:
        flow.paragraph(seen.summary, size=10.5)
        flow.space(4)
        for label, line in seen.choice_lines:
            flow.paragraph(label, bold=True, after=1)
            flow.paragraph(line, indent=10, after=5)
        flow.space(4)
        flow.heading(_("The full text"), size=11)
    for paragraph in seen.paragraphs:
        flow.paragraph(paragraph, size=9.5, after=6)


def _withdrawn(view: ParticipantView, link: str) -> list[Page]:
    flow = _Flow()
    encounter = view.encounter
    started = encounter.local_started_at if encounter is not None else None
    _header(flow, view.ticket.number, started, link)
    assert view.ticket.withdrawn_at is not None
    withdrawn_on = drawer_date(_room_time(encounter, view.ticket.withdrawn_at))
    flow.heading(_("Withdrawn on %(date)s", date=withdrawn_on), size=16)
    flow.paragraph(
        _(
            "You withdrew this drawing on %(date)s. Every photo of it was deleted from the "
            "site, with your name, the occasion and the city, and it is left out of every "
            "dataset made from then on. What remains is its number, its date and the word "
            "“withdrawn”, so that the artist's count stays honest.",
            date=withdrawn_on,
        )
    )
    flow.paragraph(
        _("Copies that someone downloaded before you withdrew are out of our reach."),
        size=9,
        gray=0.3,
    )
    return flow.finish(view.ticket.number)


def _header(flow: _Flow, number: int, started: datetime | None, link: str) -> None:
    """Number, date and link on the left; the QR code of the link top right."""
    page = flow.page
    matrix = qr_modules(link)
    module = QR_SYMBOL / len(matrix)
    qr_left = A4[0] - MARGIN - QR_SYMBOL
    qr_bottom = flow.y - QR_SYMBOL
    draw_qr(page, matrix, qr_left, qr_bottom, module)
    column = qr_left - QUIET_MODULES * module - MARGIN
    flow.paragraph(_("Drawing #%(number)s", number=number), size=24, bold=True, width=column)
    flow.paragraph(_("Your own copy"), size=12, gray=0.35, width=column, after=8)
    if started is not None:
        flow.row(_("Date of the drawing"), drawer_date(started), width=column)
    flow.paragraph(_("Your page:"), size=9, width=column, after=1)
    for line in link_lines(link, column, LINK_SIZE):
        flow.y -= LINK_SIZE * 1.3
        page.text(MARGIN, flow.y + 2, line, font=MONO, size=LINK_SIZE)
    flow.space(4)
    flow.paragraph(
        _(
            "Scan the code or open the link to see your drawing, change your choices or withdraw it."
        ),
        size=9,
        gray=0.3,
        width=column,
    )
    flow.y = min(flow.y, qr_bottom - QUIET_MODULES * module) - 6
    page.line(MARGIN, flow.y, A4[0] - MARGIN, flow.y, width=0.5, gray=0.6, dash=())
    flow.y -= 14


# Layout --------------------------------------------------------------------------------------


class _Flow:
    """Text flowing down A4 pages inside the margins; a new page when the next line needs it."""

    pages: list[Page]
    page: Page
    y: float  # the top of the next line

    def __init__(self) -> None:
        self.pages = []
        self._new_page()

    def _new_page(self) -> None:
        self.page = Page(*A4)
        self.pages.append(self.page)
        self.y = A4[1] - MARGIN

    def _line_room(self, height: float) -> None:
        if self.y - height < MARGIN + FOOTER_ROOM:
            self._new_page()

    def space(self, height: float) -> None:
        self.y -= height

    def paragraph(
        self,
        text: str,
        *,
        size: float = 10,
        bold: bool = False,
        gray: float = 0,
        indent: float = 0,
        width: float | None = None,
        after: float = 3,
    ) -> None:
        """Wrapped lines, 1.4 times the size apart (Chinese wants the room)."""
        width = (width or CONTENT_WIDTH) - indent
        for line in wrap_text(text, width, size, bold=bold):
            self._line_room(size * 1.4)
            self.y -= size * 1.4
            if line:
                self.page.rich_text(
                    MARGIN + indent, self.y + size * 0.35, line, size=size, bold=bold, gray=gray
                )
        self.y -= after

    def heading(self, text: str, *, size: float = 13) -> None:
        self._line_room(size * 1.4 * 2)  # never alone at the foot of a page
        self.paragraph(text, size=size, bold=True, after=5)

    def row(self, label: str, value: str, *, width: float | None = None, size: float = 10) -> None:
        """A label and its value side by side, each wrapped in its own column."""
        width = width or CONTENT_WIDTH
        label_width = min(200.0, width * 0.45)
        labels = wrap_text(label, label_width - 8, size)
        values = wrap_text(value, width - label_width, size, bold=True)
        height = max(len(labels), len(values)) * size * 1.4
        self._line_room(height)
        for column, lines, bold in ((0.0, labels, False), (label_width, values, True)):
            y = self.y
            for line in lines:
                y -= size * 1.4
                self.page.rich_text(
                    MARGIN + column, y + size * 0.35, line, size=size, bold=bold, gray=0
                )
        self.y -= height + 3

    def mono(self, label: str, code: str, *, size: float = 8.5) -> None:
        """A label, then a code (a hash) in Courier on the line below."""
        self.paragraph(label, size=9, after=0)
        per_line = max(int(CONTENT_WIDTH // (COURIER_ADVANCE * size)), 1)
        for start in range(0, len(code), per_line):
            self._line_room(size * 1.4)
            self.y -= size * 1.4
            self.page.text(
                MARGIN, self.y + size * 0.3, code[start : start + per_line], font=MONO, size=size
            )
        self.y -= 3

    def finish(self, number: int) -> list[Page]:
        """The pages, each with its footer: the number, and "page n of m" when there are more."""
        total = len(self.pages)
        for index, page in enumerate(self.pages, start=1):
            left = _("Drawing #%(number)s: your copy", number=number)
            page.rich_text(MARGIN, MARGIN, left, size=7.5, gray=0.4)
            if total > 1:
                right = _("page %(page)s of %(pages)s", page=index, pages=total)
                x = A4[0] - MARGIN - text_width(right, 7.5)
                page.rich_text(x, MARGIN, right, size=7.5, gray=0.4)
        return self.pages
