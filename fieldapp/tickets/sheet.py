"""Printable sheets of freshly reserved tickets: number, QR code and link on each label, and
under each label a take-home stub for the drawer.

Three columns of four tickets (12 a page) on A4 or Letter, inside margins that office printers
do not cut off. Each ticket is a label about 63 x 36 mm (the QR code on the left, at least
25 mm with its 4-module quiet zone, the portrait number large on the right and the link under
it) to stick on the back of the drawing, and below it a stub of the same width and 28-32 mm
(the same QR code, about 22 mm, the same number, one line saying what the code does, the link)
that the drawer keeps. Dashed grey lines guide scissors, between label and stub too. (Before
the stubs, 21 labels of 3 x 7 fitted a page: a stub whose code a phone reads at arm's length
leaves room for four rows.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import qrcode
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy.orm import Session

from fieldapp.database import write_transaction
from fieldapp.tickets.links import participant_url
from fieldapp.tickets.pdf import (
    COURIER_ADVANCE,
    HELVETICA_BOLD_DIGIT_ADVANCE,
    Page,
    wrap_text,
    write_pdf,
)
from fieldapp.tickets.services import reserve_tickets

MM = 72 / 25.4
COLUMNS, ROWS = 3, 4
LABELS_PER_PAGE = COLUMNS * ROWS
MAX_PAGES = 4  # 48 tickets: numbers reserved on paper are numbers the phone will skip
LABEL_HEIGHT = 36 * MM  # the rest of a ticket's height is its stub
MARGIN_X = 10 * MM  # most printers cannot print the outer 4-6 mm
MARGIN_Y = 12 * MM
PADDING = 1.5 * MM
MIN_QR_SYMBOL = 25 * MM  # the code itself, quiet zone not included
QUIET_MODULES = 4  # the quiet zone ISO/IEC 18004 asks for
LINK_SIZE = 7.0
NUMBER_MAX_SIZE = 26.0
STUB_LINE = "Your drawing \u2014 scan to see it, change your choices, or withdraw"
STUB_LINE_SIZE = 6.5
STUB_LINK_SIZE = 5.5
STUB_NUMBER_MAX_SIZE = 18.0


@dataclass(frozen=True)
class Paper:
    name: str
    width: float  # points
    height: float


PAPERS = {
    "a4": Paper("A4", 595.28, 841.89),
    "letter": Paper("Letter", 612.0, 792.0),
}


@dataclass(frozen=True)
class Label:
    number: int
    url: str


def reserve_sheet(
    session: Session, *, pages: int, base_url: str, collector_id: int | None
) -> list[Label]:
    """Reserve enough tickets to fill `pages` pages and return their labels (committed)."""
    if not 1 <= pages <= MAX_PAGES:
        raise ValueError(f"pages must be between 1 and {MAX_PAGES}")
    with write_transaction(session):
        tickets = reserve_tickets(session, pages * LABELS_PER_PAGE, collector_id, printed=True)
        return [Label(t.number, participant_url(base_url, t.token)) for t in tickets]


def render_sheet(labels: list[Label], paper: Paper) -> bytes:
    """A PDF of the labels, LABELS_PER_PAGE to a page, in order, left to right, top down."""
    pages = []
    for start in range(0, max(len(labels), 1), LABELS_PER_PAGE):
        chunk = labels[start : start + LABELS_PER_PAGE]
        page = Page(paper.width, paper.height)
        _cut_lines(page, paper)
        for index, label in enumerate(chunk):
            _draw_label(page, label, *label_box(paper, index))
            _draw_stub(page, label, *stub_box(paper, index))
        if chunk:
            _footer(page, chunk, paper)
        pages.append(page)
    numbers = f"#{labels[0].number}-#{labels[-1].number}" if labels else "none"
    return write_pdf(pages, title=f"Tickets {numbers}")


def sheet_filename(labels: list[Label]) -> str:
    return f"tickets-{labels[0].number}-{labels[-1].number}.pdf" if labels else "tickets.pdf"


def _ticket_size(paper: Paper) -> tuple[float, float]:
    """A ticket's width and height: its label and, under it, its stub."""
    return (paper.width - 2 * MARGIN_X) / COLUMNS, (paper.height - 2 * MARGIN_Y) / ROWS


def label_box(paper: Paper, index: int) -> tuple[float, float, float, float]:
    """(x, y, width, height) of the page's index-th label, in points; y is its bottom edge.

    Tickets run left to right, then top down; the label is a ticket's upper part.
    """
    column, row = index % COLUMNS, index // COLUMNS
    width, height = _ticket_size(paper)
    top = paper.height - MARGIN_Y - row * height
    return MARGIN_X + column * width, top - LABEL_HEIGHT, width, LABEL_HEIGHT


def stub_box(paper: Paper, index: int) -> tuple[float, float, float, float]:
    """(x, y, width, height) of the index-th ticket's stub, under its label."""
    x, label_bottom, width, _height = label_box(paper, index)
    height = _ticket_size(paper)[1] - LABEL_HEIGHT
    return x, label_bottom - height, width, height


def qr_modules(url: str) -> list[list[bool]]:
    """The QR code's modules, quiet zone excluded (error correction M, like the screen's)."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
    code.add_data(url)
    code.make(fit=True)
    return code.get_matrix()


def qr_geometry(modules: int, label_height: float) -> float:
    """The module size that fills the label's height with code and quiet zone, but never
    leaves the code itself smaller than MIN_QR_SYMBOL."""
    fitted = (label_height - 2 * PADDING) / (modules + 2 * QUIET_MODULES)
    return max(fitted, MIN_QR_SYMBOL / modules)


def draw_qr(page: Page, matrix: list[list[bool]], left: float, bottom: float, module: float):
    """The QR code's dark modules, its bottom-left corner at (left, bottom), one filled path of
    horizontal runs. The quiet zone around it is the caller's to leave white."""
    n = len(matrix)
    runs = []
    for r, row in enumerate(matrix):
        top = bottom + (n - 1 - r) * module
        c = 0
        while c < n:
            if row[c]:
                end = c
                while end < n and row[end]:
                    end += 1
                runs.append((left + c * module, top, (end - c) * module, module))
                c = end
            else:
                c += 1
    page.fill_rects(runs)


def _draw_label(page: Page, label: Label, x: float, y: float, width: float, height: float):
    matrix = qr_modules(label.url)
    n = len(matrix)
    module = qr_geometry(n, height)
    quiet = QUIET_MODULES * module
    left = x + max(PADDING, quiet)
    bottom = y + (height - n * module) / 2
    draw_qr(page, matrix, left, bottom, module)

    text_x = left + n * module + quiet
    text_width = x + width - PADDING - text_x
    number = f"#{label.number}"
    size = _number_size(number, text_width, NUMBER_MAX_SIZE)
    baseline = y + height - PADDING - 0.75 * size - 2
    page.text(text_x, baseline, number, font="F1", size=size)
    line_y = baseline - 0.35 * size - LINK_SIZE
    for line in link_lines(label.url, text_width, LINK_SIZE):
        page.text(text_x, line_y, line, font="F2", size=LINK_SIZE)
        line_y -= LINK_SIZE * 1.15


def _draw_stub(page: Page, label: Label, x: float, y: float, width: float, height: float):
    """The drawer's stub: the label's QR code as large as the stub's height allows with its
    quiet zone, and beside it the number, what the code does, and the link."""
    matrix = qr_modules(label.url)
    n = len(matrix)
    module = height / (n + 2 * QUIET_MODULES)
    quiet = QUIET_MODULES * module
    draw_qr(page, matrix, x + quiet, y + quiet, module)

    text_x = x + n * module + 2 * quiet
    text_width = x + width - PADDING - text_x
    number = f"#{label.number}"
    size = _number_size(number, text_width, STUB_NUMBER_MAX_SIZE)
    line_y = y + height - quiet - 0.75 * size
    page.text(text_x, line_y, number, font="F1", size=size)
    line_y -= 0.35 * size + STUB_LINE_SIZE
    for line in wrap_text(STUB_LINE, text_width, STUB_LINE_SIZE):
        page.rich_text(text_x, line_y, line, size=STUB_LINE_SIZE)
        line_y -= STUB_LINE_SIZE * 1.2
    line_y -= STUB_LINK_SIZE * 0.4
    for line in link_lines(label.url, text_width, STUB_LINK_SIZE):
        page.text(text_x, line_y, line, font="F2", size=STUB_LINK_SIZE)
        line_y -= STUB_LINK_SIZE * 1.15


def _number_size(number: str, width: float, largest: float) -> float:
    """The font size at which "#123" fills `width` points (Helvetica-Bold), at most `largest`."""
    return min(largest, width / (len(number) * HELVETICA_BOLD_DIGIT_ADVANCE))


def link_lines(url: str, width: float, size: float) -> list[str]:
    """The link as printed, in Courier lines no wider than `width` points at `size`."""
    return wrap_link(printed_link(url), int(width // (COURIER_ADVANCE * size)))


def printed_link(url: str) -> str:
    """The link as printed: without "https://", which every browser adds by itself."""
    return url.removeprefix("https://")


def wrap_link(url: str, width: int) -> list[str]:
    """The link in lines of at most `width` characters, broken after slashes where possible.

    A piece too long for any line (the token) starts on the current line and runs on.
    """
    width = max(width, 1)
    lines: list[str] = []
    current = ""
    for piece in re.split(r"(?<=/)", url):
        while piece:
            room = width - len(current)
            if len(piece) <= room:
                current, piece = current + piece, ""
                continue
            if len(piece) > width or not current:
                current, piece = current + piece[:room], piece[room:]
            lines.append(current)
            current = ""
    if current:
        lines.append(current)
    return lines


def _cut_lines(page: Page, paper: Paper) -> None:
    paper_width, paper_height = paper.width, paper.height
    ticket_width, ticket_height = _ticket_size(paper)
    for column in range(COLUMNS + 1):
        x = MARGIN_X + column * ticket_width
        page.line(x, MARGIN_Y, x, paper_height - MARGIN_Y)
    for row in range(ROWS + 1):
        y = MARGIN_Y + row * ticket_height
        page.line(MARGIN_X, y, paper_width - MARGIN_X, y)
        if row < ROWS:  # between a row's labels and their stubs
            y += ticket_height - LABEL_HEIGHT
            page.line(MARGIN_X, y, paper_width - MARGIN_X, y)


def _footer(page: Page, labels: list[Label], paper: Paper) -> None:
    text = (
        f"fieldapp tickets #{labels[0].number}-#{labels[-1].number} - {paper.name} - "
        f"printed {date.today().isoformat()} - each link is a participant's secret"
    )
    page.text(MARGIN_X, MARGIN_Y / 2 - 3, text, font="F2", size=6, gray=0.35)
