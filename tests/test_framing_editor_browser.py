"""The framing editor on the encounter page, as the artist uses it: a thumb (or a mouse) drags the
four corners onto the sheet in a photo taken on a dark table, the preview follows, and saving
makes a new display image of the sheet alone. Real Chromium (mouse at 360×640, touch at Pixel 7)
and real WebKit (Safari's engine)."""

from __future__ import annotations

import io
import json
import math
import re

import pytest
from PIL import Image, ImageDraw
from playwright.sync_api import expect

from fieldapp.auth.services import create_collector
from fieldapp.extensions import db
from fieldapp.media.sheet_detection import sheet_aspect
from tests.factories import make_encounter
from tests.helpers import BROWSER_PASSWORD, log_in, no_sideways_scroll, shoot

pytestmark = pytest.mark.browser
PASSWORD = BROWSER_PASSWORD
PHOTO_SIZE = (1200, 900)
# The sheet in the photo, as the result's top-left, top-right, bottom-right, bottom-left (pixels).
SHEET = ((350, 110), (820, 150), (860, 800), (300, 770))
# Where the artist puts the corners: a hair inside the sheet's own corners (fractions).
INSIDE = 0.012


def sheet_photo() -> bytes:
    """A white sheet seen slightly in perspective on a dark table, with a red drawing on it."""
    photo = Image.new("RGB", PHOTO_SIZE, (28, 26, 30))
    draw = ImageDraw.Draw(photo)
    draw.polygon(SHEET, fill=(250, 250, 246))

    def on_sheet(u: float, v: float) -> tuple[float, float]:
        (ax, ay), (bx, by), (cx, cy), (dx, dy) = SHEET
        top = (ax + (bx - ax) * u, ay + (by - ay) * u)
        bottom = (dx + (cx - dx) * u, dy + (cy - dy) * u)
        return (top[0] + (bottom[0] - top[0]) * v, top[1] + (bottom[1] - top[1]) * v)

    red = (200, 20, 25)
    face = [on_sheet(0.5 + 0.3 * x, 0.45 + 0.3 * y) for x, y in _ellipse()]
    draw.line(face + face[:1], fill=red, width=9)
    for u in (0.4, 0.6):
        draw.ellipse(
            [*(c - 14 for c in on_sheet(u, 0.38)), *(c + 14 for c in on_sheet(u, 0.38))], fill=red
        )
    draw.line([on_sheet(0.38, 0.58), on_sheet(0.5, 0.64), on_sheet(0.62, 0.58)], fill=red, width=8)
    draw.line([on_sheet(0.5, 0.75), on_sheet(0.5, 0.92)], fill=red, width=8)
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=92)
    return out.getvalue()


def _ellipse(steps: int = 48):
    return [
        (math.cos(2 * math.pi * i / steps), 1.2 * math.sin(2 * math.pi * i / steps))
        for i in range(steps)
    ]


def target_corners() -> list[tuple[float, float]]:
    """The sheet's corners as fractions, each moved a little towards the sheet's centre."""
    w, h = PHOTO_SIZE
    cx = sum(x for x, _ in SHEET) / 4
    cy = sum(y for _, y in SHEET) / 4
    return [((x + (cx - x) * INSIDE * 2) / w, (y + (cy - y) * INSIDE * 2) / h) for x, y in SHEET]


SHEET_ASPECT = sheet_aspect(tuple(target_corners()), *PHOTO_SIZE)


@pytest.fixture
def drawing(live_app):
    with live_app.app_context():
        create_collector(db.session, "max", PASSWORD)
        db.session.commit()
    return make_encounter(live_app, photo=sheet_photo(), credit_name="Ana Lima")


def open_editor(page, live_server, drawing) -> None:
    log_in(page, live_server)
    page.goto(f"{live_server}/encounters/{drawing}#framing")
    expect(page.locator("#framing-editor")).to_have_attribute("open", "")
    page.wait_for_function("() => document.querySelector('.framing-photo').complete")
    page.wait_for_function("() => document.querySelector('.framing-preview img').complete")


def screen_point(page, fraction) -> tuple[float, float]:
    """Where a point of the photo (fractions) is on the screen, in CSS px."""
    box = page.locator(".framing-photo").bounding_box()
    return box["x"] + fraction[0] * box["width"], box["y"] + fraction[1] * box["height"]


def handle_centre(page, i: int) -> tuple[float, float]:
    box = page.locator(f".framing-handle[data-corner='{i}']").bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def preview_state(page) -> tuple[str, float]:
    return page.evaluate(
        "() => { const p = document.querySelector('.framing-preview');"
        " return [p.querySelector('img').style.transform, Number(p.dataset.aspect)]; }"
    )


def display_image(page) -> tuple[str, Image.Image]:
    src = page.evaluate("document.querySelector('img.drawing').src")
    response = page.request.get(src)
    assert response.status == 200
    return src, Image.open(io.BytesIO(response.body())).convert("RGB")


def assert_sheet_alone(image: Image.Image) -> None:
    """Mostly white paper with the red drawing, and no dark table left at the borders."""
    assert image.width / image.height == pytest.approx(SHEET_ASPECT, rel=0.03)
    pixels = list(image.get_flattened_data())
    white = sum(1 for r, g, b in pixels if min(r, g, b) > 200) / len(pixels)
    red = sum(1 for r, g, b in pixels if r > 140 and g < 90 and b < 90) / len(pixels)
    assert white > 0.8, f"{white:.0%} white"
    assert red > 0.02, f"{red:.1%} red"
    w, h = image.size
    band = max(2, round(min(w, h) * 0.03))
    for box in ((0, 0, w, band), (0, h - band, w, h), (0, 0, band, h), (w - band, 0, w, h)):
        edge = image.crop(box)
        dark = sum(1 for p in edge.get_flattened_data() if max(p) < 110) / (
            edge.width * edge.height
        )
        assert dark < 0.01, f"dark table at the border {box}: {dark:.1%}"


def version_of(src: str) -> str:
    return re.search(r"[?&]v=([^&]+)", src).group(1)


def mouse_drag(page, start, end, steps: int = 12, during=None, shot=None) -> None:
    page.mouse.move(*start)
    page.mouse.down()
    for k in range(1, steps + 1):
        page.mouse.move(
            start[0] + (end[0] - start[0]) * k / steps, start[1] + (end[1] - start[1]) * k / steps
        )
        if during and k == steps // 2:
            during()
    if shot:  # the finger still down on the corner: the loupe shows it
        page.screenshot(path=f"test-artifacts/screens/{shot}.png")
    page.mouse.up()


def test_dragging_the_corners_with_a_mouse_frames_the_sheet_at_360(page, live_server, drawing):
    page.set_viewport_size({"width": 360, "height": 640})
    open_editor(page, live_server, drawing)
    assert no_sideways_scroll(page)
    for i in range(4):  # four big rings, all on the screen's width
        box = page.locator(f".framing-handle[data-corner='{i}']").bounding_box()
        assert box["width"] >= 44 and box["height"] >= 44
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360
    page.locator("#framing").scroll_into_view_if_needed()
    shoot(page, "framing-01-editor-360x640")
    old_src, _ = display_image(page)

    seen_while_dragging = []
    for i, target in enumerate(target_corners()):
        page.locator(".framing-stage").scroll_into_view_if_needed()
        before = preview_state(page)
        mouse_drag(
            page,
            handle_centre(page, i),
            screen_point(page, target),
            during=lambda before=before: seen_while_dragging.append(preview_state(page) != before),
            shot="framing-02-while-dragging-360x640" if i == 3 else None,
        )
    assert all(seen_while_dragging), "the preview did not follow the drag"
    expect(page.locator(".framing-loupe")).to_be_hidden()  # only while a finger is down
    expect(page.locator(".framing-state")).to_contain_text("Not saved yet")
    # The preview has the sheet's shape, before anything is saved.
    assert preview_state(page)[1] == pytest.approx(SHEET_ASPECT, rel=0.03)
    assert no_sideways_scroll(page)
    page.locator(".framing-stage").scroll_into_view_if_needed()
    page.screenshot(path="test-artifacts/screens/framing-02-dragged-360x640.png")

    page.get_by_role("button", name="Save framing").click()
    expect(page.get_by_text("Framing saved.")).to_be_visible()
    expect(page.locator("[data-field=framing]")).to_have_text("Framed by hand.")
    new_src, image = display_image(page)
    assert version_of(new_src) != version_of(old_src)
    assert_sheet_alone(image)
    expect(page.locator(".revisions")).to_contain_text("manual:")
    page.screenshot(path="test-artifacts/screens/framing-03-saved-360x640.png")
    shoot(page, "framing-03-saved-full-360x640")

    # Turned a quarter: the display image is turned (its sides swapped).
    page.get_by_role("button", name="Rotate 90°").click()
    page.get_by_role("button", name="Save framing").click()
    expect(page.get_by_text("Framing saved.")).to_be_visible()
    _, turned = display_image(page)
    assert turned.width / turned.height == pytest.approx(1 / SHEET_ASPECT, rel=0.03)
    assert image.size == (turned.height, turned.width)


def touch_drag(page, start, end, steps: int = 12, during=None) -> None:
    """A finger's drag, as Chromium gets it from a touchscreen (CDP touch events: Playwright's
    touchscreen can only tap)."""
    cdp = page.context.new_cdp_session(page)

    def touch(kind: str, point) -> None:
        points = (
            []
            if kind == "touchEnd"
            else [{"x": point[0], "y": point[1], "radiusX": 12, "radiusY": 12}]
        )
        cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

    touch("touchStart", start)
    for k in range(1, steps + 1):
        touch(
            "touchMove",
            (
                start[0] + (end[0] - start[0]) * k / steps,
                start[1] + (end[1] - start[1]) * k / steps,
            ),
        )
        if during and k == steps // 2:
            during()
    touch("touchEnd", end)
    cdp.detach()


def test_a_thumb_frames_the_sheet_on_a_pixel_7(page, live_server, drawing):
    open_editor(page, live_server, drawing)
    assert page.evaluate("navigator.maxTouchPoints") > 0
    assert no_sideways_scroll(page)
    old_src, _ = display_image(page)
    page.locator(".framing-stage").scroll_into_view_if_needed()
    scrolled = page.evaluate("scrollY")
    seen_while_dragging = []
    for i, target in enumerate(target_corners()):
        before = preview_state(page)
        touch_drag(
            page,
            handle_centre(page, i),
            screen_point(page, target),
            during=lambda before=before: seen_while_dragging.append(preview_state(page) != before),
        )
    assert all(seen_while_dragging), "the preview did not follow the finger"
    assert page.evaluate("scrollY") == scrolled, "the page scrolled under the finger"
    assert preview_state(page)[1] == pytest.approx(SHEET_ASPECT, rel=0.03)
    page.screenshot(path="test-artifacts/screens/framing-04-thumb-pixel7.png")

    page.get_by_role("button", name="Save framing").tap()
    expect(page.get_by_text("Framing saved.")).to_be_visible()
    new_src, image = display_image(page)
    assert version_of(new_src) != version_of(old_src)
    assert_sheet_alone(image)
    expect(page.locator(".revisions")).to_contain_text("manual:")
    shoot(page, "framing-05-saved-pixel7")


def test_the_whole_photo_turned_and_reset_to_automatic(page, live_server, drawing):
    open_editor(page, live_server, drawing)
    for i, target in enumerate(target_corners()):
        mouse_drag(page, handle_centre(page, i), screen_point(page, target))
    page.get_by_role("button", name="Rotate 90°").click()
    page.get_by_role("button", name="Use the whole photo").click()
    # The whole photo, still turned: the preview is the photo on its side.
    assert preview_state(page)[1] == pytest.approx(PHOTO_SIZE[1] / PHOTO_SIZE[0], rel=0.01)
    page.get_by_role("button", name="Save framing").click()
    expect(page.get_by_text("Framing saved.")).to_be_visible()
    _, image = display_image(page)
    assert image.width / image.height == pytest.approx(PHOTO_SIZE[1] / PHOTO_SIZE[0], rel=0.02)
    expect(page.locator(".revisions")).to_contain_text("manual: whole photo")

    # Undo a stray change: Cancel puts the stored framing back.
    stored = preview_state(page)
    mouse_drag(page, handle_centre(page, 0), screen_point(page, (0.3, 0.3)))
    assert preview_state(page) != stored
    page.get_by_role("button", name="Cancel changes").click()
    assert preview_state(page) == stored
    expect(page.get_by_role("button", name="Cancel changes")).to_be_disabled()

    # Corners placed by hand are replaced only after a second, deliberate tap.
    page.get_by_role("button", name="Reset to automatic").click()
    expect(page.locator(".framing-confirm")).to_be_visible()
    page.locator(".framing-plain").scroll_into_view_if_needed()
    page.screenshot(path="test-artifacts/screens/framing-08-reset-asks-pixel7.png")
    expect(page.locator("[data-field=framing]")).to_have_text("Framed by hand.")
    page.get_by_role("button", name="Yes, reset to automatic").click()
    # main's detector may or may not find the sheet: the page says which.
    expect(page.locator(".flash")).to_have_text(
        re.compile(r"Framing saved\.|No sheet found: the whole photo is shown\. Frame it by hand\.")
    )
    expect(page.locator("[data-field=framing]")).to_have_text(
        re.compile(
            r"The sheet was found automatically\.|No sheet was found: the whole photo is shown\."
        )
    )


def test_crossed_corners_are_refused_and_change_nothing(page, live_server, drawing):
    open_editor(page, live_server, drawing)
    src, before = display_image(page)
    crossed = [[0.1, 0.1], [0.9, 0.9], [0.9, 0.1], [0.1, 0.9]]
    # Sent as the page's own form sends it, with its CSRF token (the page itself refuses first).
    page.evaluate(
        """(corners) => {
            const form = document.querySelector('.framing-save');
            form.elements['framing-how'].value = 'corners';
            form.elements['framing-corners'].value = JSON.stringify(corners);
            HTMLFormElement.prototype.submit.call(form);
        }""",
        crossed,
    )
    expect(page.get_by_role("alert")).to_have_text(
        "The corners cross: put each one on its own corner of the sheet."
    )
    # Nothing lost: the editor is open with the corners as sent, the image unchanged.
    expect(page.locator("#framing-editor")).to_have_attribute("open", "")
    expect(page.locator(".framing-state")).to_contain_text("The corners cross")
    assert display_image(page)[0] == src
    token = page.locator(".framing-save input[name=framing-csrf_token]").input_value()
    answer = page.request.post(
        f"{live_server}/encounters/{drawing}/framing",
        form={
            "framing-how": "corners",
            "framing-corners": json.dumps(crossed),
            "framing-csrf_token": token,
        },
    )
    assert answer.status == 422
    assert "The corners cross" in answer.text()
    _, after = display_image(page)
    assert list(after.get_flattened_data()) == list(before.get_flattened_data())

    # The editor itself refuses before sending.
    page.goto(f"{live_server}/encounters/{drawing}#framing")
    mouse_drag(page, handle_centre(page, 0), handle_centre(page, 2))
    page.get_by_role("button", name="Save framing").click()
    expect(page.locator(".framing-state")).to_contain_text("The corners cross")
    assert page.url == f"{live_server}/encounters/{drawing}#framing"
    assert display_image(page)[0] == src


def test_the_editor_opens_by_itself_when_the_drawing_needs_framing(
    page, live_app, live_server, drawing
):
    blank = io.BytesIO()
    Image.new("RGB", (800, 600), (25, 25, 28)).save(blank, "JPEG")
    nothing = make_encounter(live_app, photo=blank.getvalue())
    log_in(page, live_server)
    page.goto(f"{live_server}/encounters/{nothing}")
    expect(page.get_by_text("needs framing")).to_be_visible()
    expect(page.locator("#framing-editor")).to_have_attribute("open", "")


def test_without_javascript_the_plain_buttons_still_work(browser, live_server, drawing):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 640})
    page = context.new_page()
    try:
        log_in(page, live_server)
        page.goto(f"{live_server}/encounters/{drawing}")
        expect(page.locator("#framing-editor")).to_be_hidden()
        page.get_by_role("button", name="Use the whole photo").click()
        expect(page.get_by_text("Framing saved.")).to_be_visible()
        expect(page.locator("[data-field=framing]")).to_have_text("Framed by hand.")
        page.get_by_role("button", name="Reset to automatic").click()
        expect(page.locator(".flash")).to_be_visible()
        assert no_sideways_scroll(page)
    finally:
        context.close()


# Real WebKit (Safari's engine) at 360×640 ------------------------------------------------


def webkit_drag(phone, i: int, target) -> str:
    """Drag handle `i` onto `target` (fractions) with WebDriver's pointer actions; returns the
    preview's transform seen half-way, while the pointer is still down."""
    from selenium.webdriver.common.action_chains import ActionChains

    phone.evaluate("document.querySelector('.framing-stage').scrollIntoView({block: 'start'})")
    handle = phone.find(f".framing-handle[data-corner='{i}']")
    (hx, hy), (tx, ty) = phone.evaluate(
        """const [i, t] = arguments;
        const h = document.querySelector(`.framing-handle[data-corner='${i}']`).getBoundingClientRect();
        const p = document.querySelector('.framing-photo').getBoundingClientRect();
        return [[h.x + h.width / 2, h.y + h.height / 2], [p.x + t[0] * p.width, p.y + t[1] * p.height]];""",
        i,
        list(target),
    )
    dx, dy = round(tx - hx), round(ty - hy)
    ActionChains(phone.driver).move_to_element(handle).click_and_hold().move_by_offset(
        dx // 2, dy // 2
    ).perform()
    halfway = phone.evaluate(
        "return document.querySelector('.framing-preview img').style.transform"
    )
    ActionChains(phone.driver).move_by_offset(dx - dx // 2, dy - dy // 2).release().perform()
    return halfway


@pytest.mark.webkit
@pytest.mark.parametrize("webkit_driver", [(360, 640)], indirect=True)
def test_webkit_drags_a_corner_and_saves(webkit_phone, live_server, drawing):
    phone = webkit_phone
    phone.log_in(PASSWORD)
    phone.go(f"/encounters/{drawing}#framing")
    phone.until("document.querySelector('#framing-editor').open")
    phone.until("document.querySelector('.framing-photo').complete")
    assert phone.evaluate("return document.documentElement.scrollWidth <= innerWidth")
    old_src = phone.evaluate("return document.querySelector('img.drawing').src")

    for i, target in enumerate(target_corners()):
        before = phone.evaluate(
            "return document.querySelector('.framing-preview img').style.transform"
        )
        halfway = webkit_drag(phone, i, target)
        assert halfway != before, "the preview did not follow the pointer"
    aspect = phone.evaluate(
        "return Number(document.querySelector('.framing-preview').dataset.aspect)"
    )
    # Dragged by hand to within a few pixels: near the sheet's shape (an A4 within 3 % is
    # snapped to A4 exactly, by the page as by the server).
    assert aspect == pytest.approx(SHEET_ASPECT, rel=0.06)
    phone.screenshot("framing-06-webkit-360x640-dragged", full_page=False)

    phone.click_text("Save framing")
    phone.until("document.querySelector('.flash') !== null")
    assert phone.text(".flash") == "Framing saved."
    new_src = phone.evaluate("return document.querySelector('img.drawing').src")
    assert version_of(new_src) != version_of(old_src)
    # The preview showed the shape the server cut.
    phone.until("document.querySelector('img.drawing').complete")
    saved = phone.evaluate(
        "const i = document.querySelector('img.drawing'); return i.naturalWidth / i.naturalHeight"
    )
    assert saved == pytest.approx(aspect, rel=0.01)
    phone.screenshot("framing-07-webkit-360x640-saved")
    assert phone.console_errors() == []
