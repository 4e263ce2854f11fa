"""The drawer's own copy (GET /p/<token>/receipt.pdf): the PDF read back by poppler, its QR
code by zbar, in English, Spanish and Chinese."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from itertools import count
from pathlib import Path

import pytest
from PIL import Image

from fieldapp.consent.services import publish_translation, publish_version
from fieldapp.encounters.models import AGE_MINOR
from fieldapp.encounters.services import encounter_by_uuid
from fieldapp.extensions import db
from tests.factories import make_encounter, number_of, small_jpeg, token_of

pyzbar = pytest.importorskip("pyzbar.pyzbar", reason="libzbar0 is needed to decode QR codes")
SCREENS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screens"
DPI = 150
A4_POINTS = (595, 842)
MARGIN = 20 * 72 / 25.4
DROID = Path("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf")
#: poppler draws STSong-Light with the font fontconfig offers for Chinese (lang zh-cn). Debian's
#: fonts-droid-fallback covers it but tells fontconfig only ja and zh-tw: this configuration,
#: given to the rasteriser alone, prefers it for zh-cn (fonts-noto-cjk would need none).
FONTS_CONF = f"""<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">
<fontconfig>
  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>
  <dir>{DROID.parent}</dir>
  <match target="pattern">
    <test name="lang" compare="contains"><string>zh-cn</string></test>
    <edit name="family" mode="prepend" binding="strong"><string>Droid Sans Fallback</string></edit>
  </match>
</fontconfig>
"""

SUMMARY = {
    "en": "We keep a photo of your drawing. You choose below what else it may be used for.",
    "es": "Guardamos una foto de tu dibujo. Abajo eliges para qué más se puede usar.",
    "zh-Hans": "我们会保存你的画作的一张照片。你可以在下面选择它还可以用于什么。",
}
TRAINING_LINE = {
    "en": "Datasets that teach machine-learning models to draw.",
    "es": "Conjuntos de datos que enseñan a dibujar a modelos de aprendizaje automático.",
    "zh-Hans": "用于训练机器学习模型绘画的数据集。",
}
FULL_TEXT = {
    "en": "You may withdraw at any time on your page.\n\nThe collector answers your questions.",
    "es": "Puedes retirarlo cuando quieras en tu página.\n\nEl coleccionista responde tus preguntas.",
    "zh-Hans": "你可以随时在你的页面上撤回。\n\n收集者会回答你的问题。",
}


LABELS = {
    "en": ["Keep it", "The gallery", "Training", "Social media", "Credit"],
    "es": ["Guardarlo", "La galería", "Entrenamiento", "Redes sociales", "Crédito"],
    "zh-Hans": ["保存", "画廊", "训练", "社交媒体", "署名"],
}


def parts(language: str, text: str | None = None) -> dict:
    """A layered consent text: every choice's line is the training line, with its key."""
    keys = ("keep", "gallery", "training", "social", "credit")
    choices = {
        key: {"label": label, "line": f"{TRAINING_LINE[language]} ({key})"}
        for key, label in zip(keys, LABELS[language], strict=True)
    }
    return {"summary": SUMMARY[language], "choices": choices, "text": text or FULL_TEXT[language]}


def layered_version(app, *, english_text: str | None = None) -> int:
    """A new layered version of our own, with its Spanish and Chinese translations."""
    with app.app_context():
        en = parts("en", english_text)
        version, _new = publish_version(
            db.session, en["text"], summary=en["summary"], choices=en["choices"]
        )
        for language in ("es", "zh-Hans"):
            publish_translation(db.session, version, language, **parts(language))
        return version.id


_colors = count(10, 7)


def photo() -> bytes:
    """A photo no other encounter of the test has."""
    return small_jpeg((next(_colors) % 256, 30, 30))


def drawer(app, version: int, language: str | None, **fields) -> tuple[str, int]:
    """An encounter whose drawer saw `version` in `language` (None: the version's own);
    its token and number. The API takes no consent language in this tree yet: the column is
    set here, in the test's own session."""
    uuid = make_encounter(
        app,
        photo=photo(),
        started_at=datetime(2026, 5, 20, 21, 30, tzinfo=UTC),
        consent={"version": version, "keep": True, "gallery": True, "training": True,
                 "social": False},
        **fields,
    )  # fmt: skip
    with app.app_context():
        encounter = encounter_by_uuid(db.session, uuid)
        encounter.consent_language = language
        db.session.commit()
    return token_of(app, uuid), number_of(app, uuid)


@pytest.fixture(scope="session")
def poppler():
    if not shutil.which("pdftoppm"):
        if os.environ.get("CI"):
            pytest.fail("pdftoppm is missing: `make test` installs poppler-utils as root")
        pytest.skip("pdftoppm is missing (apt-get install poppler-utils)")


@pytest.fixture(scope="session")
def chinese_fonts(tmp_path_factory):
    """The environment in which pdftoppm draws Chinese: poppler-data's CMaps and a CJK font."""
    if not (DROID.exists() and Path("/usr/share/poppler/cMap/Adobe-GB1").is_dir()):
        if os.environ.get("CI"):
            pytest.fail(
                "poppler-data or fonts-droid-fallback is missing: `make test` installs them"
            )
        pytest.skip("poppler-data and fonts-droid-fallback are needed to draw Chinese")
    conf = tmp_path_factory.mktemp("fontconfig") / "fonts.conf"
    conf.write_text(FONTS_CONF)
    return {**os.environ, "FONTCONFIG_FILE": str(conf)}


def run(tool: str, *args, env=None) -> str:
    command = [shutil.which(tool), *map(str, args)]
    return subprocess.run(command, check=True, capture_output=True, text=True, env=env).stdout


def read_pdf(pdf: bytes, folder: Path, env=None) -> tuple[str, list[Image.Image]]:
    """The PDF's text (pdftotext, layout kept) and its pages as 150 dpi images (pdftoppm)."""
    source = folder / "receipt.pdf"
    source.write_bytes(pdf)
    text = run("pdftotext", "-layout", source, "-")
    for old in folder.glob("page-*.png"):
        old.unlink()
    run("pdftoppm", "-r", DPI, "-png", source, folder / "page", env=env)
    return text, [Image.open(path) for path in sorted(folder.glob("page-*.png"))]


def squeezed(text: str) -> str:
    """Without any white space: wrapped Chinese lines break between characters."""
    return re.sub(r"\s+", "", text)


def words(pdf: bytes, folder: Path) -> list[tuple[int, float, float, float, float, str]]:
    """(page, xMin, yMin, xMax, yMax, word) of every word, from pdftotext -bbox."""
    source = folder / "bbox.pdf"
    source.write_bytes(pdf)
    html = run("pdftotext", "-bbox", source, "-")
    found = []
    for page, body in enumerate(re.split(r"<page ", html)[1:], start=1):
        for x0, y0, x1, y1, word in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
            body,
        ):
            found.append((page, float(x0), float(y0), float(x1), float(y1), word))
    return found


def check_layout(pdf: bytes, folder: Path) -> None:
    """Every word inside the margins, and no two words on top of each other."""
    found = words(pdf, folder)
    assert found
    for _page, x0, y0, x1, y1, word in found:
        assert x0 >= MARGIN - 1 and x1 <= A4_POINTS[0] - MARGIN + 1, f"{word!r} leaves the margins"
        assert y0 >= MARGIN - 1 and y1 <= A4_POINTS[1] - MARGIN + 4, f"{word!r} leaves the margins"
    found.sort(key=lambda w: (w[0], w[2]))  # by page, then top down
    for i, (page, x0, y0, x1, y1, word) in enumerate(found):
        for other in found[i + 1 :]:
            if other[0] != page or other[2] >= y1:  # words below this one's line: none overlap
                break
            width = min(x1, other[3]) - max(x0, other[1])
            height = min(y1, other[4]) - max(y0, other[2])
            assert width <= 0.5 or height <= 1.5, f"{word!r} overlaps {other[5]!r}"


def the_qr(image: Image.Image) -> str:
    codes = [code for code in pyzbar.decode(image) if code.type == "QRCODE"]
    assert len(codes) == 1
    return codes[0].data.decode()


def get_receipt(client, token: str, **kwargs):
    response = client.get(f"/p/{token}/receipt.pdf", **kwargs)
    assert response.status_code == 200, response.text
    return response


# The copy, in the language the drawer saw ---------------------------------------------------


@pytest.mark.parametrize(
    ("seen", "query", "accept", "labels"),
    [
        ("en", "", None, ["Your choices, as they stand on", "What you were told"]),
        ("es", "?lang=es", None, ["Tus decisiones, tal como están el", "Lo que se te dijo"]),
        ("zh-Hans", "", "zh-CN,zh;q=0.9", ["你的选择", "我们告诉你的内容"]),
        ("zh-Hans", "?lang=en", "zh-CN", ["Your choices, as they stand on", "What you were told"]),
        ("es", "", "zh-CN", ["你的选择", "我们告诉你的内容"]),
    ],
)
def test_the_copy_holds_the_text_seen_and_the_choices_in_the_page_language(
    app, client, poppler, chinese_fonts, tmp_path, seen, query, accept, labels
):
    version = layered_version(app)
    token, number = drawer(app, version, None if seen == "en" else seen, credit_name="Ana Lima")
    headers = {"Accept-Language": accept} if accept else {}
    response = get_receipt(client, token, query_string=query.lstrip("?"), headers=headers)
    assert response.mimetype == "application/pdf"
    text, images = read_pdf(response.data, tmp_path, env=chinese_fonts)
    assert len(images) == 1  # one page
    (tmp_path / "info.pdf").write_bytes(response.data)
    assert re.search(
        r"Page size:\s+595\.28 x 841\.89 pts \(A4\)", run("pdfinfo", tmp_path / "info.pdf")
    )
    assert the_qr(images[0]) == f"http://localhost/p/{token}"
    assert f"localhost/p/{token}" in squeezed(text)  # the link, printed under the number
    assert f"#{number}" in text
    with app.app_context():
        from fieldapp.consent.models import ConsentVersion
        from fieldapp.consent.services import text_in

        shown = text_in(db.session, db.session.get(ConsentVersion, version), seen)
    assert shown is not None and shown.sha256 in text
    assert re.search(rf"\b{version}\b", text)
    flat = squeezed(text)
    assert squeezed(SUMMARY[seen]) in flat
    assert squeezed(f"{TRAINING_LINE[seen]} (training)") in flat
    assert squeezed(FULL_TEXT[seen].split("\n\n")[-1]) in flat
    for label in labels:
        assert squeezed(label) in flat
    assert "Ana Lima" in text
    check_layout(response.data, tmp_path)


def test_dates_and_choices_read_as_the_page_language_writes_them(app, client, poppler, tmp_path):
    version = layered_version(app)
    token, _number = drawer(app, version, "es")
    english, _ = read_pdf(get_receipt(client, token).data, tmp_path)
    assert "20 May 2026" in english
    assert "anonymous" in english and "allowed" in english and "not allowed" in english
    spanish, _ = read_pdf(get_receipt(client, token, query_string="lang=es").data, tmp_path)
    assert "20 de mayo de 2026" in spanish
    assert "anónimo" in spanish and "permitido" in spanish and "no permitido" in spanish
    chinese, _ = read_pdf(
        get_receipt(client, token, headers={"Accept-Language": "zh-CN"}).data, tmp_path
    )
    assert "2026年5月20日" in squeezed(chinese)
    assert "匿名" in chinese and "允许" in chinese and "不允许" in chinese


def test_a_minors_gallery_waits_for_a_guardian(app, client, poppler, tmp_path):
    version = layered_version(app)
    uuid = make_encounter(
        app,
        photo=photo(),
        consent={"version": version, "keep": True, "gallery": True, "training": False,
                 "social": False},
    )  # fmt: skip
    with app.app_context():
        encounter = encounter_by_uuid(db.session, uuid)
        encounter.age_group = AGE_MINOR
        db.session.commit()
    token = token_of(app, uuid)
    text, _ = read_pdf(get_receipt(client, token).data, tmp_path)
    assert "not shown until a parent or guardian agrees" in " ".join(text.split())
    assert "never credited by name" in " ".join(text.split())
    with app.app_context():
        encounter = encounter_by_uuid(db.session, uuid)
        encounter.guardian_agreed = True
        db.session.commit()
    text, _ = read_pdf(get_receipt(client, token).data, tmp_path)
    assert "a parent or guardian agreed" in " ".join(text.split())
    assert "not shown until" not in " ".join(text.split())


def test_a_long_text_runs_onto_more_pages_inside_the_margins(
    app, client, poppler, chinese_fonts, tmp_path
):
    paragraphs = [
        f"Paragraph {n}: "
        + "Your drawing stays yours; this collection only borrows what you allow it to. " * 6
        for n in range(1, 31)
    ]
    version = layered_version(app, english_text="\n\n".join(paragraphs))
    token, number = drawer(app, version, None)
    response = get_receipt(client, token)
    text, images = read_pdf(response.data, tmp_path, env=chinese_fonts)
    assert len(images) >= 2
    assert f"page 1 of {len(images)}" in text and f"page {len(images)} of {len(images)}" in text
    assert "Paragraph 30:" in text and "Paragraph 1:" in text
    check_layout(response.data, tmp_path)
    SCREENS.mkdir(parents=True, exist_ok=True)
    images[-1].save(SCREENS / "receipt-long-last-page.png")


def test_the_chinese_and_english_copies_as_png(app, client, poppler, chinese_fonts, tmp_path):
    """Saved for a person to look at (test-artifacts/screens): legible, nothing overlapping."""
    version = layered_version(app)
    SCREENS.mkdir(parents=True, exist_ok=True)
    token, _number = drawer(app, version, "zh-Hans", credit_name="李小龙")
    response = get_receipt(client, token, headers={"Accept-Language": "zh-CN"})
    text, images = read_pdf(response.data, tmp_path, env=chinese_fonts)
    assert "李小龙" in text
    images[0].save(SCREENS / "receipt-zh-Hans.png")
    token, _number = drawer(app, version, None, credit_name="Ana Lima")
    _text, images = read_pdf(get_receipt(client, token).data, tmp_path, env=chinese_fonts)
    images[0].save(SCREENS / "receipt-en.png")


# Withdrawn, missing, on its way ---------------------------------------------------------------


def test_a_withdrawn_drawings_copy_says_so_without_name_or_consent(app, client, poppler, tmp_path):
    version = layered_version(app)
    uuid = make_encounter(
        app,
        photo=photo(),
        credit_name="Ana Lima",
        consent={"version": version, "keep": True, "gallery": True, "training": False,
                 "social": False},
        withdrawn=True,
    )  # fmt: skip
    token, number = token_of(app, uuid), number_of(app, uuid)
    response = get_receipt(client, token, query_string="lang=es")
    text, images = read_pdf(response.data, tmp_path)
    assert len(images) == 1
    SCREENS.mkdir(parents=True, exist_ok=True)
    images[0].save(SCREENS / "receipt-withdrawn-es.png")
    assert the_qr(images[0]) == f"http://localhost/p/{token}"
    assert f"#{number}" in text
    today = datetime.now(UTC)
    from babel.dates import format_date

    assert f"Retirado el {format_date(today, 'long', locale='es')}" in " ".join(text.split())
    assert "Ana Lima" not in text
    assert SUMMARY["en"].split()[0] not in text and "SHA-256" not in text
    assert "Paragraph" not in text and squeezed(FULL_TEXT["en"][:20]) not in squeezed(text)


def test_an_unknown_token_is_a_translated_404(client):
    response = client.get("/p/this-token-does-not-exist/receipt.pdf?lang=es")
    assert response.status_code == 404
    assert "Aquí no hay nada" in response.text
    assert response.headers["Referrer-Policy"] == "no-referrer"
    english = client.get("/p/this-token-does-not-exist/receipt.pdf")
    assert english.status_code == 404 and "Nothing here" in english.text


def test_a_ticket_whose_drawing_has_not_arrived_is_a_404_that_says_it_is_on_its_way(
    client, api_token
):
    ticket = client.post(
        "/api/v1/tickets", json={"count": 1}, headers={"Authorization": f"Bearer {api_token}"}
    ).get_json()["tickets"][0]
    response = client.get(f"/p/{ticket['token']}/receipt.pdf")
    assert response.status_code == 404
    assert "on its way" in response.text and f"#{ticket['number']}" in response.text
    chinese = client.get(
        f"/p/{ticket['token']}/receipt.pdf", headers={"Accept-Language": "zh-CN,zh;q=0.9"}
    )
    assert chinese.status_code == 404 and "正在路上" in chinese.text


def test_the_copys_headers(app, client):
    token, number = drawer(app, layered_version(app), None)
    response = client.get(f"/p/{token}/receipt.pdf")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f'inline; filename="drawing-{number}-receipt.pdf"'
    )
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in response.headers
    assert response.data.startswith(b"%PDF-1.4")


def test_a_drawing_withdrawn_before_it_arrived_has_a_copy_saying_so(
    app, client, api_token, poppler, tmp_path
):
    from fieldapp.media.services import media_store
    from fieldapp.tickets.services import ticket_by_token
    from fieldapp.withdrawal.services import withdraw

    ticket = client.post(
        "/api/v1/tickets", json={"count": 1}, headers={"Authorization": f"Bearer {api_token}"}
    ).get_json()["tickets"][0]
    with app.app_context():
        withdraw(db.session, media_store(), ticket_by_token(db.session, ticket["token"]))
    response = get_receipt(client, ticket["token"])
    text, images = read_pdf(response.data, tmp_path)
    assert the_qr(images[0]) == f"http://localhost/p/{ticket['token']}"
    assert f"#{ticket['number']}" in text and "Withdrawn on" in text
    assert "Date of the drawing" not in text and "SHA-256" not in text


# The PDF writer's wrapping -------------------------------------------------------------------


def test_wrapping_breaks_at_spaces_and_between_chinese_characters_never_before_a_closing_mark():
    from fieldapp.tickets.pdf import text_width, wrap_text

    chinese = "我们会保存你的画作的一张照片，你可以随时撤回。它不会用于训练，除非你同意。" * 3
    for width in (60, 97, 150, 233):
        lines = wrap_text(chinese, width, 10)
        assert "".join(lines) == chinese  # nothing lost, nothing added
        assert all(text_width(line, 10) <= width for line in lines)
        assert not [line for line in lines if line[0] in "，。、："]
    spanish = "Puedes retirarlo cuando quieras: escanea el código o abre el enlace."
    lines = wrap_text(spanish, 120, 10)
    assert " ".join(lines) == spanish and all(text_width(x, 10) <= 120 for x in lines)
    assert wrap_text("ab " + "x" * 40, 50, 10)[0] == "ab"  # a word longer than a line is cut
    assert wrap_text("first\nsecond", 500, 10) == ["first", "second"]


def test_the_participant_page_links_to_the_receipt_in_its_language(app, client):
    token = token_of(app, make_encounter(app, photo=small_jpeg()))
    page = client.get(f"/p/{token}?lang=es").text
    href = re.search(r'href="([^"]*receipt\.pdf[^"]*)"', page)
    assert href and "Tu copia de lo que aceptaste (PDF)" in page
    assert href.group(1) == f"/p/{token}/receipt.pdf?lang=es"
    receipt = client.get(href.group(1))
    assert receipt.status_code == 200 and receipt.mimetype == "application/pdf"
    # A drawing still on its way has no copy yet: no link to one.
    from fieldapp.tickets.services import reserve_tickets

    with app.app_context():
        [ticket] = reserve_tickets(db.session, 1, None)
        db.session.commit()
        waiting = ticket.token
    assert "receipt.pdf" not in client.get(f"/p/{waiting}").text


def test_a_late_evening_drawing_keeps_the_rooms_date(app, client, poppler, tmp_path):
    """23:30 in New York is already the next day in UTC: the copy gives the room's day, as the
    participant page does."""
    new_york = timezone(timedelta(hours=-4))
    token = token_of(
        app,
        make_encounter(
            app, photo=photo(), started_at=datetime(2026, 5, 20, 23, 30, tzinfo=new_york)
        ),
    )
    text, _ = read_pdf(get_receipt(client, token).data, tmp_path)
    assert "20 May 2026" in text and "21 May 2026" not in text
    assert "20 May 2026" in client.get(f"/p/{token}").text
