"""Printable ticket sheets: the PDF, rasterised by poppler, every QR read back by zbar, on the
labels and on the drawers' take-home stubs."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image
from sqlalchemy import select

from fieldapp.extensions import db
from fieldapp.tickets.models import Ticket
from fieldapp.tickets.sheet import (
    LABELS_PER_PAGE,
    PAPERS,
    STUB_LINE,
    label_box,
    printed_link,
    stub_box,
    wrap_link,
)
from tests.conftest import csrf_token_from
from tests.factories import count_rows

pyzbar = pytest.importorskip("pyzbar.pyzbar", reason="libzbar0 is needed to decode QR codes")
SCREENS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screens"
DPI = 150
PAGE_POINTS = {"a4": (595, 842), "letter": (612, 792)}


@pytest.fixture(scope="session")
def poppler():
    """Debian's poppler-utils: a real PDF rasteriser, independent of the code that wrote it."""
    if not shutil.which("pdftoppm"):
        if os.environ.get("CI"):
            pytest.fail("pdftoppm is missing: `make test` installs poppler-utils as root")
        pytest.skip("pdftoppm is missing (apt-get install poppler-utils)")


def rasterise(pdf: bytes, folder: Path) -> list[Image.Image]:
    """Every page of the PDF as a 150 dpi PNG, drawn by pdftoppm."""
    source = folder / "sheet.pdf"
    source.write_bytes(pdf)
    poppler_run("pdftoppm", "-r", str(DPI), "-png", source, folder / "page")
    return [Image.open(path) for path in sorted(folder.glob("page-*.png"))]


def page_sizes(pdf: bytes, folder: Path) -> list[tuple[float, float]]:
    """Each page's size in points, as pdfinfo reads it."""
    source = folder / "sizes.pdf"
    source.write_bytes(pdf)
    pages = int(re.search(r"Pages:\s+(\d+)", _pdfinfo(source)).group(1))
    output = _pdfinfo(source, "-f", "1", "-l", str(pages))
    return [
        (float(w), float(h))
        for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", output)
    ]


def _pdfinfo(path: Path, *args: str) -> str:
    return poppler_run("pdfinfo", *args, path)


def label_text(source: Path, box: tuple[float, float, float, float], page: int, height: float):
    """The text pdftotext finds inside one label's box."""
    x, y, w, h = box
    crop = [str(round(v)) for v in (x, height - y - h, w, h)]
    args = ["-f", str(page), "-l", str(page), "-x", crop[0], "-y", crop[1], "-W", crop[2]]
    return poppler_run("pdftotext", "-r", "72", *args, "-H", crop[3], "-raw", source, "-")


def poppler_run(tool: str, *args) -> str:
    """Run one of poppler-utils' tools (found on PATH) and return its output."""
    command = [shutil.which(tool), *map(str, args)]
    return subprocess.run(command, check=True, capture_output=True, text=True).stdout


def decoded(image: Image.Image) -> list:
    return [r for r in pyzbar.decode(image) if r.type == "QRCODE"]


def reserved_tickets(app) -> list[Ticket]:
    with app.app_context():
        return list(db.session.scalars(select(Ticket).order_by(Ticket.number)))


def post_sheet(client, *, paper: str, pages: int, csrf: bool = True):
    form = client.get("/tickets/sheet")
    data = {"paper": paper, "pages": str(pages)}
    if csrf:
        data["csrf_token"] = csrf_token_from(form.text)
    return client.post("/tickets/sheet", data=data)


def check_sheet(pdf: bytes, tickets: list[Ticket], base: str, paper: str, tmp_path: Path):
    """Label by label and stub by stub, as a phone scans them: one QR decoding to the ticket's
    link, and the ticket's number and link in the label's text; the stub says what its code
    does.

    (zbar reading all 21 codes of a page at once misses one now and then; one code per
    crop is also how a phone meets them.)
    """
    pages = len(tickets) // LABELS_PER_PAGE
    sizes = page_sizes(pdf, tmp_path)
    assert [(round(w), round(h)) for w, h in sizes] == [PAGE_POINTS[paper]] * pages
    images = rasterise(pdf, tmp_path)
    assert len(images) == pages
    source = tmp_path / "labels.pdf"
    source.write_bytes(pdf)
    scale = DPI / 72
    for index, ticket in enumerate(tickets):
        page, slot = divmod(index, LABELS_PER_PAGE)
        for box, smallest_mm in ((label_box, 24.5), (stub_box, 20)):
            x, y, w, h = box(PAPERS[paper], slot)
            top = PAPERS[paper].height - y - h
            cell = images[page].crop(
                (
                    round(x * scale),
                    round(top * scale),
                    round((x + w) * scale),
                    round((top + h) * scale),
                )
            )
            codes = decoded(cell)
            assert [code.data.decode() for code in codes] == [f"{base}/p/{ticket.token}"]
            side_mm = min(codes[0].rect.width, codes[0].rect.height) / DPI * 25.4
            assert side_mm >= smallest_mm, f"a QR code of {side_mm:.1f} mm is too small to scan"
            text = label_text(source, (x, y, w, h), page + 1, PAPERS[paper].height)
            assert f"#{ticket.number}" in text.split()
            assert printed_link(f"{base}/p/{ticket.token}") in "".join(text.split())
            if box is stub_box:
                assert " ".join(STUB_LINE.split()) in " ".join(text.split())
    return images


# The page ----------------------------------------------------------------------------------


def test_the_log_links_to_the_sheet_form(logged_in, client):
    assert 'href="/tickets/sheet"' in client.get("/encounters").text
    page = client.get("/tickets/sheet")
    assert page.status_code == 200
    assert 'name="paper"' in page.text and 'name="pages"' in page.text


@pytest.mark.parametrize(("paper", "pages"), [("a4", 1), ("letter", 2)])
def test_a_sheet_reserves_new_tickets_and_every_qr_decodes_to_its_link(
    app, logged_in, client, poppler, tmp_path, paper, pages
):
    earlier = client.post(
        "/api/v1/tickets", json={"count": 2}, headers={"X-CSRFToken": logged_in.csrf_token()}
    )
    assert earlier.status_code == 201
    response = post_sheet(client, paper=paper, pages=pages)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    tickets = reserved_tickets(app)[2:]
    assert len(tickets) == pages * LABELS_PER_PAGE
    assert [t.number for t in tickets] == list(range(3, 3 + len(tickets)))  # fresh numbers
    assert {t.reserved_by_id for t in tickets} == {reserved_tickets(app)[0].reserved_by_id}
    # Marked printed, so the review may attach them; the phone's stock is not.
    assert all(t.printed_at is not None for t in tickets)
    assert [t.printed_at for t in reserved_tickets(app)[:2]] == [None, None]
    first, last = tickets[0].number, tickets[-1].number
    assert f'filename="tickets-{first}-{last}.pdf"' in response.headers["Content-Disposition"]
    images = check_sheet(response.data, tickets, "http://localhost", paper, tmp_path)
    SCREENS.mkdir(parents=True, exist_ok=True)
    images[0].save(SCREENS / f"tickets-sheet-{paper}.png")


def test_a_forged_or_wrong_form_reserves_nothing(app, logged_in, client):
    assert post_sheet(client, paper="a4", pages=1, csrf=False).status_code == 400
    assert post_sheet(client, paper="a3", pages=1).status_code == 400
    wrong = post_sheet(client, paper="a4", pages=99)
    assert wrong.status_code == 400 and "Not a valid choice" in wrong.text
    assert count_rows(app, Ticket) == 0


# The command line --------------------------------------------------------------------------


def test_the_cli_writes_a_sheet_with_public_links(app, poppler, tmp_path):
    out = tmp_path / "sheet.pdf"
    app.config["PUBLIC_URL"] = "https://drawings.example.org"
    try:
        result = app.test_cli_runner().invoke(
            args=["tickets", "sheet", str(out), "--paper", "letter", "--pages", "1"]
        )
    finally:
        app.config["PUBLIC_URL"] = None
    assert result.exit_code == 0, result.output
    tickets = reserved_tickets(app)
    assert [t.number for t in tickets] == list(range(1, LABELS_PER_PAGE + 1))
    check_sheet(out.read_bytes(), tickets, "https://drawings.example.org", "letter", tmp_path)


def test_the_cli_needs_a_public_url_and_a_folder_before_taking_numbers(app, tmp_path):
    result = app.test_cli_runner().invoke(args=["tickets", "sheet", str(tmp_path / "x.pdf")])
    assert result.exit_code != 0
    assert "FIELDAPP_PUBLIC_URL" in result.output
    app.config["PUBLIC_URL"] = "https://drawings.example.org"
    try:
        result = app.test_cli_runner().invoke(
            args=["tickets", "sheet", str(tmp_path / "missing" / "x.pdf")]
        )
    finally:
        app.config["PUBLIC_URL"] = None
    assert result.exit_code != 0 and "No folder" in result.output
    assert count_rows(app, Ticket) == 0


# Layout helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize("paper", ["a4", "letter"])
def test_each_ticket_is_a_label_over_its_stub_inside_the_margins(paper):
    sheet = PAPERS[paper]
    assert LABELS_PER_PAGE == 12  # 3 x 4: the stubs took the room of 21 labels' three rows
    boxes = [(label_box(sheet, i), stub_box(sheet, i)) for i in range(LABELS_PER_PAGE)]
    for (lx, ly, lw, lh), (sx, sy, sw, sh) in boxes:
        assert (lx, lw) == (sx, sw) and abs(sy + sh - ly) < 0.01  # the stub right under it
        assert round(lh / 72 * 25.4) == 36 and 27 <= sh / 72 * 25.4 <= 33
        assert sx >= 10 / 25.4 * 72 - 0.01 and sx + sw <= sheet.width - 10 / 25.4 * 72 + 0.01
        assert sy >= 12 / 25.4 * 72 - 0.01 and ly + lh <= sheet.height - 12 / 25.4 * 72 + 0.01


def test_links_wrap_after_slashes_and_lose_nothing():
    url = "https://drawings.example.org/p/MmviQ9JBAd4ZoQRBnZ7_pB3p"
    lines = wrap_link(printed_link(url), 20)
    assert lines == ["drawings.example.org", "/p/MmviQ9JBAd4ZoQRBn", "Z7_pB3p"]
    assert wrap_link("http://localhost/p/j4jBRgFxjZ40hUJ89VwX06nq", 18) == [
        "http://localhost/",
        "p/j4jBRgFxjZ40hUJ8",
        "9VwX06nq",
    ]
    assert "".join(lines) == "drawings.example.org/p/MmviQ9JBAd4ZoQRBnZ7_pB3p"
    assert printed_link("http://localhost/p/x") == "http://localhost/p/x"  # only https is implied


# In Chromium -------------------------------------------------------------------------------


@pytest.mark.browser
def test_the_sheet_form_on_a_phone(page, live_server, poppler, tmp_path):
    page.goto(live_server + "/setup")
    page.get_by_label("Username").fill("max")
    page.get_by_label("Password", exact=True).fill("a long field password")
    page.get_by_label("Password again").fill("a long field password")
    page.get_by_role("button", name="Create account").click()
    page.goto(live_server + "/encounters")
    page.get_by_role("link", name="Print a sheet of tickets").click()
    page.get_by_text("Letter", exact=True).click()
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "tickets-sheet-form.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("button", name="Reserve and download the PDF").click()
    pdf = Path(download.value.path()).read_bytes()
    assert pdf.startswith(b"%PDF-")
    # The live server's own database file: the tickets it reserved for this download, marked
    # printed (the phone's own offline stock may be reserved before or after them).
    with sqlite3.connect(tmp_path / "fieldapp.sqlite3") as connection:
        rows = connection.execute(
            "SELECT number, token FROM tickets WHERE printed_at IS NOT NULL ORDER BY number"
        ).fetchall()
    assert len(rows) == LABELS_PER_PAGE
    first, last = rows[0][0], rows[-1][0]
    assert download.value.suggested_filename == f"tickets-{first}-{last}.pdf"
    tickets = [SimpleNamespace(number=number, token=token) for number, token in rows]
    check_sheet(pdf, tickets, live_server, "letter", tmp_path)
