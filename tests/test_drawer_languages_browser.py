"""The drawer keeps their link in one tap, on a 360×640 phone, in real Chromium and real WebKit
(Safari's engine); the participant page in Spanish and Chinese, shot at that size."""

from __future__ import annotations

import pytest

from tests.factories import make_encounter, number_of, small_jpeg, token_of
from tests.field_phone import ChromiumPhone

pytestmark = pytest.mark.browser
ENGINES = ["chromium", pytest.param("webkit", marks=pytest.mark.webkit)]
#: What the page says once the link is kept: copied, or selected for the drawer to copy.
SAID = {
    "es": (
        "Copiado. Pégalo en tus notas o envíatelo a ti mismo.",
        "El enlace está seleccionado: cópialo y pégalo en tus notas.",
    ),
    "zh-Hans": (
        "已复制。把它粘贴到你的备忘录里，或发给你自己。",
        "链接已选中：请复制它，再粘贴到你的备忘录里。",
    ),
}
BUTTON = {"es": "Guardar mi enlace", "zh-Hans": "保存我的链接"}


@pytest.fixture(params=ENGINES)
def phone(request, server):
    if request.param == "chromium":
        yield ChromiumPhone(request.getfixturevalue("page"), server.url)
    else:
        yield request.getfixturevalue("webkit_phone")  # fails the test on a CSP violation


@pytest.mark.parametrize("lang", ["es", "zh-Hans"])
def test_the_drawer_keeps_their_link_in_one_tap(phone, server, lang):
    drawing = make_encounter(server.app, photo=small_jpeg(), credit_name="Ana Lima")
    token, number = token_of(server.app, drawing), number_of(server.app, drawing)
    engine = "chromium" if isinstance(phone, ChromiumPhone) else "webkit"
    phone.resize(360, 640)
    phone.go(f"/p/{token}?lang={lang}")
    phone.until("document.getElementById('keep-link-button').hidden === false")
    assert phone.evaluate("return document.documentElement.lang") == lang
    assert phone.text("#keep-link-button").strip() == BUTTON[lang]
    link = phone.evaluate("return document.getElementById('keep-link-url').value")
    assert link == f"{server.url}/p/{token}"
    box = phone.evaluate(
        "const r = document.getElementById('keep-link-button').getBoundingClientRect();"
        " return [r.width, r.height];"
    )
    assert box[0] >= 280 and box[1] >= 64, box  # the whole width of its box, a thumb high
    assert phone.evaluate("return document.documentElement.scrollWidth") <= 360
    phone.screenshot(f"drawer-{lang}-{engine}-participant-360x640", full_page=False)
    phone.screenshot(f"drawer-{lang}-{engine}-participant-360x640-full")
    # Neither engine here has a share sheet for a web page: the button copies or selects.
    # Should one grow it, this test is about the other way: take it away first.
    had_share = phone.evaluate("return typeof navigator.share === 'function'")
    if had_share:
        phone.evaluate("delete Navigator.prototype.share; delete navigator.share;")
    phone.click("#keep-link-button")
    said = phone.until(
        "document.getElementById('keep-link-status').textContent.trim() || false", timeout=10
    )
    assert said in SAID[lang], said
    if said == SAID[lang][1]:  # selected: the whole link, in its field, for the drawer to copy
        selection = phone.evaluate(
            "const f = document.getElementById('keep-link-url');"
            " return [document.activeElement === f, f.selectionStart, f.selectionEnd];"
        )
        assert selection == [True, 0, len(link)]
    elif engine == "chromium":  # copied: what the clipboard holds now is the link
        phone.page.context.grant_permissions(["clipboard-read"], origin=server.url)
        assert phone.evaluate_async("return await navigator.clipboard.readText()") == link
    phone.screenshot(f"drawer-{lang}-{engine}-kept-link-360x640", full_page=False)
    assert str(number) in phone.text("h1")


def test_the_other_drawer_pages_fit_a_small_phone(page, server):
    """A minor's choices (greyed out, with the reasons), the withdrawal and the 404, at 360×640
    in Chromium: nothing wider than the screen, every target a thumb's size."""
    from fieldapp.encounters.models import AGE_MINOR
    from fieldapp.encounters.services import encounter_by_uuid
    from fieldapp.extensions import db

    drawing = make_encounter(server.app, photo=small_jpeg())
    with server.app.app_context():
        encounter_by_uuid(db.session, drawing).age_group = AGE_MINOR
        db.session.commit()
    token = token_of(server.app, drawing)
    phone = ChromiumPhone(page, server.url)
    phone.resize(360, 640)
    for name, path in (
        ("minor-choices-es", f"/p/{token}/choices?lang=es"),
        ("withdrawal-zh-Hans", f"/p/{token}/withdraw?lang=zh-Hans"),
        ("not-found-es", "/p/no-such-token?lang=es"),
    ):
        phone.go(path)
        assert phone.evaluate("return document.documentElement.scrollWidth") <= 360, name
        small = phone.evaluate(
            "return [...document.querySelectorAll('main a, main button, nav.languages a')]"
            ".filter((e) => e.getBoundingClientRect().height < 44).map((e) => e.textContent)"
        )
        assert small == [], (name, small)
        phone.screenshot(f"drawer-{name}-chromium-360x640")
    phone.go(f"/p/{token}/choices?lang=es")
    assert phone.evaluate("return document.getElementById('training').disabled") is True
    assert phone.visible("#why-training")
