"""The drawer's pages in English, Spanish and Simplified Chinese: chosen by the browser's
Accept-Language or by ?lang= (which wins and is kept in every link, with no cookie); a minor's
choices greyed out with the reason, and a forged form for a minor refused in the drawer's words."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from fieldapp.consent.models import ConsentEvent
from fieldapp.consent.services import MINOR_RULES, publish_translation, publish_version
from fieldapp.encounters.models import AGE_MINOR
from fieldapp.encounters.services import encounter_by_uuid
from fieldapp.extensions import db
from fieldapp.participants.forms import MINOR_REASONS
from tests.conftest import csrf_token_from
from tests.factories import make_encounter, number_of, small_jpeg, token_of

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
SPANISH = {"Accept-Language": "es-MX,es;q=0.9"}
CHINESE = {"Accept-Language": "zh-CN"}
#: A phrase each drawer's page shows, by language: en, es, zh-Hans.
PAGES = {
    "drawing": ("Keep this link", "Guarda este enlace", "请保存这个链接"),
    "on its way": ("is on its way", "va en camino", "正在路上"),
    "withdrawn": ("You withdrew this drawing", "Retiraste este dibujo", "你已于"),
    "choices": ("Save my choices", "Guardar mis opciones", "保存我的选择"),
    "withdrawal": ("This cannot be undone.", "Esto no se puede deshacer.", "此操作无法撤销。"),
    "unknown token": ("Nothing here", "Aquí no hay nada", "这里什么都没有"),
}


@pytest.fixture
def drawer_paths(app, client, api_token) -> dict[str, str]:
    """The address of each drawer's page, each with the data it needs."""
    drawing = token_of(app, make_encounter(app, photo=small_jpeg(), credit_name="Ana Lima"))
    withdrawn = token_of(app, make_encounter(app, photo=small_jpeg((20, 30, 200)), withdrawn=True))
    ticket = client.post(
        "/api/v1/tickets", json={"count": 1}, headers={"Authorization": f"Bearer {api_token}"}
    ).get_json()["tickets"][0]
    return {
        "drawing": f"/p/{drawing}",
        "on its way": f"/p/{ticket['token']}",
        "withdrawn": f"/p/{withdrawn}",
        "choices": f"/p/{drawing}/choices",
        "withdrawal": f"/p/{drawing}/withdraw",
        "unknown token": "/p/no-such-token-here",
    }


def html_lang(html: str) -> str:
    return re.search(r"<html lang=\"([^\"]+)\">", html).group(1)


def own_links(html: str) -> list[str]:
    """Every link and form action of the page to our own pages (not static files), but the
    language switch's."""
    html = re.sub(r'<nav class="languages".*?</nav>', "", html, flags=re.S)
    html = re.sub(r"<head>.*?</head>", "", html, flags=re.S)  # stylesheets, manifest, icons
    return re.findall(r'(?:href|action)="(/[^"]*)"', html)


def expected_status(name: str) -> int:
    return 404 if name == "unknown token" else 200


@pytest.mark.parametrize("name", PAGES)
def test_each_drawer_page_follows_the_browser_language(client, drawer_paths, name):
    english, spanish, chinese = PAGES[name]
    for headers, lang, phrase, absent in (
        ({}, "en", english, spanish),
        (SPANISH, "es", spanish, english),
        (CHINESE, "zh-Hans", chinese, english),
    ):
        page = client.get(drawer_paths[name], headers=headers)
        assert page.status_code == expected_status(name)
        assert html_lang(page.text) == lang
        assert phrase in page.text, (name, lang)
        assert absent not in page.text, (name, lang)
        # No ?lang= asked: the links carry none (the browser says it again on every page).
        assert not any("lang=" in link for link in own_links(page.text))


@pytest.mark.parametrize("name", PAGES)
def test_lang_wins_over_the_browser_and_every_link_keeps_it(client, drawer_paths, name):
    english, spanish, chinese = PAGES[name]
    page = client.get(drawer_paths[name] + "?lang=zh-Hans", headers=SPANISH)
    assert page.status_code == expected_status(name)
    assert html_lang(page.text) == "zh-Hans"
    assert chinese in page.text and spanish not in page.text
    links = own_links(page.text)
    assert links, name
    for link in links:
        assert parse_qs(urlsplit(link.replace("&amp;", "&")).query).get("lang") == ["zh-Hans"], link
    page = client.get(drawer_paths[name] + "?lang=en", headers=CHINESE)
    assert english in page.text and html_lang(page.text) == "en"


@pytest.mark.parametrize("name", PAGES)
def test_the_language_switch_names_each_language_in_itself(client, drawer_paths, name):
    page = client.get(drawer_paths[name], headers=SPANISH)
    switch = re.search(r'<nav class="languages".*?</nav>', page.text, flags=re.S).group(0)
    links = re.findall(
        r'<a href="([^"]+)" lang="([^"]+)"[^>]*?( aria-current="true")?>([^<]+)</a>', switch
    )
    assert [(lang, name) for _href, lang, _current, name in links] == [
        ("en", "English"), ("es", "Español"), ("zh-Hans", "简体中文")
    ]  # fmt: skip
    assert [lang for _href, lang, current, _name in links if current] == ["es"]
    path = drawer_paths[name]
    for href, lang, _current, _name in links:
        assert href == f"{path}?lang={lang}"
        assert html_lang(client.get(href).text) == lang


def test_the_participant_page_sets_no_cookie_in_any_language(client, drawer_paths):
    for path in (drawer_paths["drawing"], drawer_paths["on its way"], drawer_paths["withdrawn"]):
        for query, headers in (("", SPANISH), ("?lang=zh-Hans", {}), ("?lang=es", CHINESE)):
            page = client.get(path + query, headers=headers)
            assert page.status_code == 200
            assert "Set-Cookie" not in page.headers
            assert page.headers["Referrer-Policy"] == "no-referrer"


def test_dates_and_time_limit_are_in_the_drawer_language(app, client):
    token = token_of(app, make_encounter(app, photo=small_jpeg(), started_at=_may_20()))
    assert "20 May 2026" in client.get(f"/p/{token}").text
    assert "20 de mayo de 2026" in client.get(f"/p/{token}", headers=SPANISH).text
    chinese = client.get(f"/p/{token}", headers=CHINESE).text
    assert "2026年5月20日" in chinese
    assert "2 分钟" in chinese


def test_post_forms_and_their_redirects_keep_the_language(app, client, drawer_paths):
    choices = drawer_paths["choices"] + "?lang=es"
    form = client.get(choices)
    assert f'action="{choices}"' in form.text
    saved = client.post(
        choices,
        data={"csrf_token": csrf_token_from(form.text), "credit": "anonymous", "social": "y"},
    )
    assert saved.status_code == 302
    assert saved.headers["Location"] == drawer_paths["drawing"] + "?lang=es"
    page = client.get(saved.headers["Location"])
    assert "Guardado. Tus nuevas opciones valen a partir de ahora." in page.text

    withdrawal = drawer_paths["withdrawal"] + "?lang=zh-Hans"
    confirm = client.get(withdrawal)
    assert f'action="{withdrawal}"' in confirm.text
    done = client.post(withdrawal, data={"csrf_token": csrf_token_from(confirm.text)})
    assert done.headers["Location"] == drawer_paths["drawing"] + "?lang=zh-Hans"
    tombstone = client.get(done.headers["Location"])
    assert "你的画作已撤回。它的照片已从本网站删除。" in tombstone.text
    assert html_lang(tombstone.text) == "zh-Hans"


def test_a_drawer_form_that_expired_says_so_in_their_language(app, client, drawer_paths):
    expired = client.post(drawer_paths["withdrawal"], data={}, headers=SPANISH)
    assert expired.status_code == 400
    assert "Este formulario caducó" in expired.text
    assert html_lang(expired.text) == "es"


def test_the_collector_pages_stay_english(client, logged_in):
    page = client.get("/", headers=SPANISH)
    assert html_lang(page.text) == "en"
    assert 'class="languages"' not in page.text


def test_what_you_were_told_is_in_the_language_the_drawer_was_shown(app, client):
    client_uuid = make_encounter(app, photo=small_jpeg())
    with app.app_context():
        keys = ("keep", "gallery", "training", "social", "credit")
        version, _ = publish_version(
            db.session, "First paragraph.\n\nSecond paragraph.", summary="Your drawing, your rules.",
            choices={key: {"label": f"Label {key}", "line": f"Line of {key}."} for key in keys},
        )  # fmt: skip
        translation = publish_translation(
            db.session, version, "es", summary="Resumen: tu dibujo, tus reglas.",
            choices={key: {"label": f"Etiqueta {key}", "line": f"Línea de {key}."} for key in keys},
            text="Primer párrafo del texto completo.\n\nSegundo párrafo.",
        )  # fmt: skip
        encounter = encounter_by_uuid(db.session, client_uuid)
        encounter.consent_version_id = version.id
        encounter.consent_language = "es"
        db.session.commit()
        sha256, version_id = translation.sha256, version.id
    page = client.get(f"/p/{token_of(app, client_uuid)}").text  # an English browser
    told = re.search(r'<details class="what-you-agreed">.*?</details>', page, flags=re.S).group(0)
    assert f"version {version_id}, in Español" in told
    assert '<div class="consent-text" lang="es">' in told
    order = [
        told.index("Resumen: tu dibujo, tus reglas."),
        *(told.index(f"<strong>Etiqueta {key}</strong>: Línea de {key}.")
          for key in ("keep", "gallery", "training", "social", "credit")),
        told.index("<p>Primer párrafo del texto completo.</p>"),
        told.index("<p>Segundo párrafo.</p>"),
    ]  # fmt: skip
    assert order == sorted(order)
    assert sha256 in told


def test_the_pamphlet_is_chosen_by_language(client):
    english = client.get("/pamphlet")
    assert html_lang(english.text) == "en"
    assert "Whose hands made the data?" in english.text
    spanish = client.get("/pamphlet", headers=SPANISH)
    assert spanish.status_code == 200
    assert html_lang(spanish.text) == "es"
    if (TEMPLATES / "pamphlet" / "pamphlet.es.html").exists():
        assert "Whose hands made the data?" not in spanish.text
    else:  # until the Spanish pamphlet is written: the English one, in a Spanish page
        assert "Whose hands made the data?" in spanish.text
    chinese = client.get("/pamphlet?lang=zh-Hans")
    assert html_lang(chinese.text) == "zh-Hans"
    if not (TEMPLATES / "pamphlet" / "pamphlet.zh-Hans.html").exists():
        assert "Whose hands made the data?" in chinese.text


# A minor's choices ------------------------------------------------------------------------


def make_minor(app, *, guardian_agreed: bool = False) -> str:
    client_uuid = make_encounter(app, photo=small_jpeg())
    with app.app_context():
        encounter = encounter_by_uuid(db.session, client_uuid)
        encounter.age_group = AGE_MINOR
        encounter.guardian_agreed = guardian_agreed
        db.session.commit()
    return client_uuid


def test_the_minor_reasons_say_what_the_service_enforces():
    for name, rule in MINOR_RULES.items():
        assert str(MINOR_REASONS[name]) == rule[0].upper() + rule[1:] + "."


def test_a_minors_choices_are_greyed_out_with_the_reason(app, client):
    token = token_of(app, make_minor(app))
    page = client.get(f"/p/{token}/choices", headers=SPANISH)
    assert page.status_code == 200
    for name in ("training", "social"):
        field = re.search(rf'<input[^>]*id="{name}"[^>]*>', page.text).group(0)
        assert "disabled" in field and "checked" not in field
    by_name = re.search(r'<input[^>]*value="name"[^>]*>', page.text).group(0)
    assert "disabled" in by_name
    assert 'id="credit_name"' not in page.text
    for phrase in (
        "El dibujo de una persona menor de edad nunca se usa para entrenar modelos",
        "El dibujo de una persona menor de edad nunca se publica en redes sociales.",
        "A una persona menor de edad nunca se le da crédito con su nombre.",
        "Tu dibujo aparece en la galería solo cuando tu madre, padre o tutor haya dado su acuerdo.",
    ):
        assert phrase in page.text
    gallery = re.search(r'<input[^>]*id="gallery"[^>]*>', page.text).group(0)
    assert "disabled" not in gallery


def test_a_minor_whose_guardian_agreed_is_not_told_to_wait(app, client):
    token = token_of(app, make_minor(app, guardian_agreed=True))
    page = client.get(f"/p/{token}/choices")
    assert "only once a parent or guardian has agreed" not in page.text
    assert "never used to train machine-learning models" in page.text


def test_an_adults_choices_are_all_open(app, client, drawer_paths):
    page = client.get(drawer_paths["choices"])
    assert "disabled" not in page.text
    assert "never used to train" not in page.text


def test_a_forged_form_for_a_minor_is_refused_in_their_language(app, client):
    client_uuid = make_minor(app)
    token = token_of(app, client_uuid)
    form = client.get(f"/p/{token}/choices?lang=zh-Hans")
    with app.app_context():
        events = db.session.scalars(select(ConsentEvent.id)).all()
    refused = client.post(
        f"/p/{token}/choices?lang=zh-Hans",
        data={"csrf_token": csrf_token_from(form.text), "training": "y", "credit": "name",
              "credit_name": "Kim", "gallery": "y"},
    )  # fmt: skip
    assert refused.status_code == 422
    assert "未保存：" in refused.text
    assert "未成年人的画作绝不会用于训练机器学习模型。" in refused.text
    assert "未成年人绝不会被署上名字。" in refused.text
    assert 'role="alert"' in refused.text
    with app.app_context():
        encounter = encounter_by_uuid(db.session, client_uuid)
        assert (encounter.training, encounter.gallery, encounter.credit_name) == (False, True, None)
        assert db.session.scalars(select(ConsentEvent.id)).all() == events
    # The refused page shows the choices as they stay: nothing ticked that is not allowed.
    training = re.search(r'<input[^>]*id="training"[^>]*>', refused.text).group(0)
    assert "checked" not in training


def test_a_minor_may_still_change_what_is_allowed(app, client):
    client_uuid = make_minor(app)
    token = token_of(app, client_uuid)
    form = client.get(f"/p/{token}/choices")
    saved = client.post(
        f"/p/{token}/choices",
        data={"csrf_token": csrf_token_from(form.text), "credit": "anonymous"},
    )
    assert saved.status_code == 302
    with app.app_context():
        assert encounter_by_uuid(db.session, client_uuid).gallery is False


def _may_20():
    from datetime import UTC, datetime

    return datetime(2026, 5, 20, 18, 0, tzinfo=UTC)


def test_the_number_is_in_every_language(app, client):
    client_uuid = make_encounter(app, photo=small_jpeg())
    number = number_of(app, client_uuid)
    page = client.get(f"/p/{token_of(app, client_uuid)}", headers=CHINESE).text
    assert f"第 {number} 号画作" in page
