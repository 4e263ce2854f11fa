"""The live screen, its JSON feed (ETag/304), and the zine printed to PDF."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.factories import make_encounter, number_of, small_jpeg

SCREENS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screens"
NOT_IN_GALLERY = {"version": 1, "keep": True, "gallery": False, "training": False, "social": False}


def test_feed_shows_only_public_data_and_answers_304_when_unchanged(app, client):
    shown = number_of(app, make_encounter(app, photo=small_jpeg(), credit_name="Ana Credited"))
    make_encounter(app, photo=small_jpeg((0, 0, 200)), consent=NOT_IN_GALLERY)
    make_encounter(app, photo=small_jpeg((0, 200, 0)), withdrawn=True)
    make_encounter(app, declined=True)
    first = client.get("/live.json")
    assert first.status_code == 200
    data = first.get_json()
    assert set(data) == {"drawings", "goal", "approaches", "collector_hours", "drawer_hours",
                         "latest"}  # fmt: skip
    assert (data["drawings"], data["approaches"], data["goal"]) == (2, 4, 10_000)
    assert [d["number"] for d in data["latest"]] == [shown]
    assert data["latest"][0]["credit"] == "Ana Credited"
    assert set(data["latest"][0]) == {"number", "credit", "url", "thumb", "width", "height"}
    assert "no-cache" in first.headers["Cache-Control"]
    etag = first.headers["ETag"]

    again = client.get("/live.json", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""

    make_encounter(app, photo=small_jpeg((200, 200, 0)))
    changed = client.get("/live.json", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    assert changed.get_json()["drawings"] == 3


def test_screen_and_zine_show_only_gallery_drawings(app, client):
    shown = number_of(app, make_encounter(app, photo=small_jpeg()))
    hidden = number_of(
        app, make_encounter(app, photo=small_jpeg((0, 0, 200)), consent=NOT_IN_GALLERY)
    )
    for url in ("/live", "/zine", "/zine?paper=letter"):
        html = client.get(url).text
        assert f"/gallery/{shown}/thumb.jpg" in html
        assert f"/gallery/{hidden}/" not in html
        assert "pool night" not in html and "New York" not in html
    assert "<script>" not in client.get("/live").text  # only the external live.js


def test_zine_paper_choice(client):
    assert "css/zine-a4.css" in client.get("/zine").text
    assert "css/zine-letter.css" in client.get("/zine?paper=LETTER").text
    assert "css/zine-a4.css" in client.get("/zine?paper=../../etc").text


@pytest.mark.browser
def test_live_screen_updates_itself_without_reload(live_app, live_server, browser):
    make_encounter(live_app, photo=small_jpeg())
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    try:
        page.goto(live_server + "/live")
        expect(page.locator("#live-drawings")).to_have_text("1")
        page.evaluate("window.__stillTheSamePage = true")
        number = number_of(live_app, make_encounter(live_app, photo=small_jpeg((30, 30, 220))))
        expect(page.locator("#live-drawings")).to_have_text("2", timeout=10_000)
        expect(page.locator("#live-latest li").first).to_contain_text(f"#{number}")
        expect(page.locator('[data-live="approaches"]')).to_have_text("2")
        assert page.evaluate("window.__stillTheSamePage") is True  # updated, not reloaded
        page.locator("#live-latest img").first.evaluate("img => img.decode()")
        SCREENS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENS / "ledger-live.png"))
    finally:
        context.close()


@pytest.mark.browser
@pytest.mark.parametrize(("paper", "size"), [("a4", "(A4)"), ("letter", "(letter)")])
def test_zine_prints_to_pdf(live_app, live_server, browser, tmp_path, paper, size):
    tools = {name: shutil.which(name) for name in ("pdfinfo", "pdftotext", "pdftoppm")}
    if not all(tools.values()):
        pytest.skip("poppler-utils is missing")
    for color in ((200, 30, 30), (30, 30, 200), (30, 160, 30)):
        make_encounter(live_app, photo=small_jpeg(color))
    make_encounter(live_app, declined=True)
    page = browser.new_page()
    try:
        page.goto(f"{live_server}/zine?paper={paper}")
        page.wait_for_load_state("networkidle")
        pdf = tmp_path / f"zine-{paper}.pdf"
        page.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    finally:
        page.close()
    info = subprocess.run(
        [tools["pdfinfo"], str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    page_size = next(line for line in info.splitlines() if line.startswith("Page size:"))
    assert page_size.endswith(size), page_size
    pages = int(next(line for line in info.splitlines() if line.startswith("Pages:")).split()[1])
    assert pages >= 4
    text = subprocess.run([tools["pdftotext"], "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout  # fmt: skip
    for section in ("Let Me Collect Myself", "The ledger", "Whose hands made the data?",
                    "Some of the drawings", "Drawings per week", "How this is counted"):  # fmt: skip
        assert section in text, section
    assert "Print this page" not in text  # the on-screen tools are not printed
    SCREENS.mkdir(parents=True, exist_ok=True)
    subprocess.run([tools["pdftoppm"], "-png", "-r", "60", str(pdf), str(SCREENS / f"ledger-zine-{paper}")],
                   check=True)  # fmt: skip
