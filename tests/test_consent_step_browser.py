"""The consent step as the drawer meets it on the artist's phone, at 360 × 640, in Chromium and
real WebKit: their language at one tap, their age group first, then a short summary and each
choice with its one line, all on the first screen; nothing answered for them; "Done" refused,
with the reason, until every choice is answered; a minor's choices limited, with the reason."""

from __future__ import annotations

import pytest

from tests.factories import small_jpeg
from tests.field_phone import FieldFlow, answer, check_console, open_field

pytestmark = pytest.mark.browser
ENGINES = ["chromium", pytest.param("webkit", marks=pytest.mark.webkit)]
CHOICES = ("keep", "gallery", "training", "social", "credit")
WORDS = {
    "en": ("Are you 18 or older?", "Done: back to the artist", "Answer each question first"),
    "es": ("¿Tienes 18 años o más?", "Listo: devuélvelo al artista", "Primero responde"),
    "zh-Hans": ("你年满 18 岁了吗？", "完成：交还给艺术家", "请先回答"),
}


@pytest.fixture(params=ENGINES)
def field(request, server, net_proxy) -> FieldFlow:
    flow = open_field(request, request.param, server, net_proxy)
    yield flow
    check_console(flow)


def to_consent(field: FieldFlow) -> None:
    field.phone.resize(360, 640)
    field.phone.go("/encounters/new")
    field.venue(first=True)
    field.phone.wait_visible("#consent-age")


def on_first_screen(field: FieldFlow, css: str) -> bool:
    """Every element of `css` shown, wholly inside the window (no scrolling)."""
    return field.phone.evaluate(
        """const all = [...document.querySelectorAll(arguments[0])];
           return all.length > 0 && all.every((el) => {
             const r = el.getBoundingClientRect();
             return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight;
           });""",
        css,
    )


def answered(field: FieldFlow) -> dict:
    return field.phone.evaluate(
        """const out = {};
           for (const name of ["age_group", "keep", "gallery", "training", "social"]) {
             out[name] = document.querySelector(`input[name=${name}]:checked`)?.value || null;
           }
           return out;"""
    )


@pytest.mark.parametrize("language", ["en", "es", "zh-Hans"])
def test_the_whole_consent_fits_the_first_screen_in_each_language(field, language):
    to_consent(field)
    phone = field.phone
    question, done, refusal = WORDS[language]
    if language != "en":
        phone.click(f"button.lang[data-lang={language}]")
    phone.until(
        f"document.querySelector('#consent-age legend').textContent.trim() === {question!r}"
    )
    assert phone.evaluate("return document.querySelector('[data-step=consent]').lang") == language
    # Nothing is answered for the drawer: not even their age.
    assert set(answered(field).values()) == {None}
    field.phone.screenshot(f"consent-{field.engine}-{language}-age-360x640", full_page=False)
    phone.click("label:has(#age-adult)")
    phone.wait_visible("#consent-choices")
    assert set(answered(field).values()) == {"adult", None}

    # The summary and every choice with its line and its Yes / No, without scrolling.
    assert on_first_screen(field, "#consent-summary")
    for key in CHOICES:
        assert on_first_screen(field, f"[data-choice={key}] .label"), key
        assert on_first_screen(field, f"[data-choice={key}] .line"), key
        assert on_first_screen(field, f"[data-choice={key}] .answer-button"), key
    assert phone.evaluate("return document.documentElement.scrollWidth") <= 360
    field.phone.screenshot(f"consent-{field.engine}-{language}-choices-360x640", full_page=False)

    # "Done" is refused until each choice has the drawer's own answer, and says so.
    phone.click("#consent-done")
    phone.until(f"document.getElementById('consent-problem').textContent.includes({refusal!r})")
    assert field.step() == "consent"
    assert phone.evaluate("return document.querySelectorAll('.answer.unanswered').length") == 4
    field.phone.screenshot(f"consent-{field.engine}-{language}-refused-360x640", full_page=False)
    for key in ("keep", "gallery", "training"):
        answer(phone, key, key != "training")
    phone.click("#consent-done")
    assert field.step() == "consent"  # social is still unanswered
    assert phone.evaluate("return document.querySelectorAll('.answer.unanswered').length") == 1
    answer(phone, "social", False)
    assert phone.text("#consent-done") == done
    phone.click("#consent-done")
    field.wait_step("timer")
    assert field.value("consent_language") == language


def test_the_full_text_is_one_tap_away_in_the_language_chosen(field):
    to_consent(field)
    phone = field.phone
    phone.click("button.lang[data-lang=es]")
    phone.click("label:has(#age-adult)")
    phone.click("#full-text summary")
    phone.until(
        "document.getElementById('consent-paragraphs').innerText.includes('Gracias por dibujarme')"
    )
    assert phone.evaluate("return document.getElementById('full-text').open") is True


def test_a_minor_cannot_allow_training_social_media_or_a_name(field):
    to_consent(field)
    phone = field.phone
    phone.click("label:has(#age-minor)")
    phone.wait_visible("#consent-choices")
    assert phone.text("#age-shown-text") == "Under 18"
    # Training, social media and a name are answered "no" (anonymous) and cannot be changed.
    state = answered(field)
    assert state["training"] == "no" and state["social"] == "no" and state["keep"] is None
    for key in ("training", "social"):
        assert phone.evaluate(
            f"return document.querySelector('[data-choice={key}] input[value=yes]').disabled"
        )
        assert "Never for a drawing by someone under 18" in phone.text(f"#why-not-{key}")
    assert phone.evaluate(
        "return document.querySelector('[data-choice=credit] input[value=name]').disabled"
    )
    assert "Shown only once a parent or guardian agrees" in phone.text("#why-not-gallery")
    for key in CHOICES[:4]:  # the reasons take the place of the locked choices' explanations
        assert on_first_screen(field, f"[data-choice={key}] .answer-button"), key
    assert on_first_screen(field, "#why-not-credit")  # anonymous, and it says so: no dead button
    assert "Anonymous: no name is kept for someone under 18" in phone.text("#why-not-credit")
    field.phone.screenshot(f"consent-{field.engine}-minor-360x640", full_page=False)

    # The age was wrong after all: the "no" given for them is taken back, they answer it.
    phone.click("#age-change")
    phone.click("label:has(#age-adult)")
    state = answered(field)
    assert state["age_group"] == "adult" and state["training"] is None and state["social"] is None
    assert not phone.evaluate(
        "return document.querySelector('[data-choice=training] input[value=yes]').disabled"
    )


def test_a_drawing_not_kept_asks_nothing_more(field):
    to_consent(field)
    phone = field.phone
    phone.click("label:has(#age-adult)")
    answer(phone, "keep", False)
    state = answered(field)
    assert (state["gallery"], state["training"], state["social"]) == ("no", "no", "no")
    phone.click("#consent-done")
    field.wait_step("timer")


def test_a_minor_answering_in_spanish_reaches_the_server_as_they_answered(
    field, net_proxy, tmp_path
):
    """Through the outbox and the test proxy, after a bar's wifi that connects and never
    answers: the language shown and the age group are what the server records, with the
    limits a minor's drawing keeps."""
    photo = tmp_path / "drawing.jpg"
    photo.write_bytes(small_jpeg())
    to_consent(field)
    net_proxy.set_mode("hang")
    phone = field.phone
    phone.click("button.lang[data-lang=es]")
    phone.click("label:has(#age-minor)")
    answer(phone, "keep", True)
    answer(phone, "gallery", True)
    phone.click("#consent-done")
    field.draw(timed=False)
    field.take_photo(photo)
    field.tap_text("Show the QR code")
    phone.wait_visible("#handoff")
    # Kept on the phone, as answered, while the network hangs.
    data = phone.evaluate_async("return (await FieldStore.listRecords())[0].data;")
    assert data["age_group"] == "minor" and data["consent"]["language"] == "es"
    assert field.server_count() == 0
    net_proxy.set_mode("pass")
    field.wait_for_empty_outbox()
    net_proxy.release_hung()
    assert (
        field.server_count(
            "age_group = 'minor' AND consent_language = 'es' AND keep AND gallery"
            " AND NOT training AND NOT social AND credit_name IS NULL AND NOT guardian_agreed"
        )
        == 1
    )
