"""Every free-text field, sent every payload of tests/xss_corpus.py, is inert on every page
that shows it.

To cover a new field: add a FreeTextField to FIELDS with a `store` that sends the payload
through the real route (a form post or the API) and the names of the PAGES that show it.
"""

from __future__ import annotations

import io
import json
import uuid as uuidlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from fieldapp.consent.texts import CHOICE_KEYS
from tests.conftest import csrf_token_from
from tests.factories import encounter_data, put_encounter, small_jpeg, token_of
from tests.xss_corpus import PAYLOADS, assert_inert


@dataclass
class Fieldwork:
    """A logged-in collector's client, an API token, and the encounters stored so far."""

    app: object
    client: FlaskClient
    api_token: str
    photos: int = 0

    def photo(self) -> bytes:
        """A photo no earlier encounter has (the same photo twice is refused as a conflict)."""
        self.photos += 1
        return small_jpeg(size=(300, 400 + self.photos))

    def csrf(self, url: str = "/") -> str:
        return csrf_token_from(self.client.get(url).text)

    def upload(self, **fields) -> str:
        """A completed encounter with a photo, in the gallery, through the API: its UUID."""
        client_uuid = str(uuidlib.uuid4())
        data = encounter_data(consent={**encounter_data()["consent"], "gallery": True}, **fields)
        response = put_encounter(self.client, self.api_token, client_uuid, data, self.photo())
        assert response.status_code == 201, response.get_json()
        return client_uuid

    def gallery_number(self, client_uuid: str) -> int:
        from tests.factories import number_of

        return number_of(self.app, client_uuid)


SCREENS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screens"

#: The pages that may show a stored field, for an encounter's UUID; "response" is the answer
#: to the request that sent the payload (a form shown again with its errors).
PAGES: dict[str, Callable[[Fieldwork, str], str]] = {
    "home": lambda w, u: "/",
    "capture": lambda w, u: "/encounters/new",
    "log": lambda w, u: "/encounters",
    "encounter": lambda w, u: f"/encounters/{u}",
    "handoff": lambda w, u: f"/encounters/{u}/handoff",
    "participant": lambda w, u: f"/p/{token_of(w.app, u)}",
    "participant choices": lambda w, u: f"/p/{token_of(w.app, u)}/choices",
    "gallery": lambda w, u: "/gallery",
    "gallery item": lambda w, u: f"/gallery/{w.gallery_number(u)}",
    "settings": lambda w, u: "/settings/consent",
    "diary": lambda w, u: "/diary",
    "diary manage": lambda w, u: "/diary/manage",
    "dataset settings": lambda w, u: "/settings/dataset",
    "csv": lambda w, u: "/encounters.csv",
}


@dataclass(frozen=True)
class FreeTextField:
    name: str
    #: Sends the payload through the real route; returns (encounter UUID or "", the response).
    store: Callable[[Fieldwork, str], tuple[str, object]]
    #: The pages that show the stored value.
    pages: tuple[str, ...]
    #: Refused input (a choice that is not one of the choices): only the answer is checked.
    refused: bool = False
    #: Rendered as Markdown: the text is transformed, so only inertness is checked.
    markdown: bool = False

    @property
    def shown_as_text(self) -> bool:
        return not (self.refused or self.markdown)


def api_text(name: str):
    def store(work: Fieldwork, payload: str):
        return work.upload(**{name: payload}), None

    return store


def api_credit(work: Fieldwork, payload: str):
    return work.upload(credit={"name": payload}), None


def capture_form(name: str, *, photo: bool = True):
    def store(work: Fieldwork, payload: str):
        client_uuid = str(uuidlib.uuid4())
        form = {
            "csrf_token": work.csrf("/encounters/new"), "uuid": client_uuid,
            "started_at": "2026-05-17T20:00:00+00:00", "venue_type": "bar", "venue": "pool night",
            "city": "Lyon", "time_limit": "120", "consent_version": "1", "age_group": "adult",
            "keep": "yes", "gallery": "yes", "training": "no", "social": "no", "credit": "name",
            "credit_name": "Ana", "notes": "",
        }  # fmt: skip
        form[name] = payload
        if photo:
            form["photo"] = (io.BytesIO(work.photo()), "drawing.jpg", "image/jpeg")
        response = work.client.post(
            "/encounters/new", data=form, content_type="multipart/form-data"
        )
        assert response.status_code == (302 if photo else 422), response.status_code
        return (client_uuid if photo else ""), response

    return store


def declined_form(name: str):
    def store(work: Fieldwork, payload: str):
        client_uuid = str(uuidlib.uuid4())
        form = {
            "csrf_token": work.csrf(), "uuid": client_uuid, "venue_type": "bar",
            "started_at": datetime.now(UTC).isoformat(), name: payload,
        }  # fmt: skip
        response = work.client.post("/encounters/declined", data=form)
        assert response.status_code == 302
        return client_uuid, response

    return store


def participant_credit(work: Fieldwork, payload: str):
    client_uuid = work.upload()
    url = f"/p/{token_of(work.app, client_uuid)}"
    form = {
        "csrf_token": work.csrf(f"{url}/choices"),
        "gallery": "y",
        "credit": "name",
        "credit_name": payload,
    }
    response = work.client.post(f"{url}/choices", data=form)
    assert response.status_code == 302, response.status_code
    return client_uuid, response


def correction(name: str):
    def store(work: Fieldwork, payload: str):
        client_uuid = work.upload()
        url = f"/encounters/{client_uuid}"
        form = {
            "csrf_token": work.csrf(url), "gallery": "y", "credit": "name",
            "credit_name": "Ana", "reason": "drawer asked by email",
        }  # fmt: skip
        form[name] = payload
        response = work.client.post(f"{url}/consent", data=form)
        assert response.status_code == 302, response.status_code
        return client_uuid, response

    return store


def consent_text(work: Fieldwork, payload: str):
    form = {
        "csrf_token": work.csrf("/settings/consent"),
        "language": "en",
        "summary": f"Summary. {payload}",
        "text": f"Intro.\n\n{payload}",
    }
    for key in CHOICE_KEYS:
        form[f"{key}_label"], form[f"{key}_line"] = key.capitalize(), f"{key}: {payload}"[:160]
    response = work.client.post("/settings/consent", data=form)
    assert response.status_code == 302, response.status_code
    return "", response


def ticket_sheet(name: str):
    def store(work: Fieldwork, payload: str):
        form = {"csrf_token": work.csrf("/tickets/sheet"), "paper": "a4", "pages": "1"}
        form[name] = payload
        response = work.client.post("/tickets/sheet", data=form)
        assert 400 <= response.status_code < 500, response.status_code
        return "", response

    return store


def review_edit(name: str):
    """The collector's later fix of a field on the encounter page (a reason is required)."""

    def store(work: Fieldwork, payload: str):
        client_uuid = work.upload(credit={"name": "Ana"})
        url = f"/encounters/{client_uuid}"
        form = {
            "csrf_token": work.csrf(url), "edit-venue_type": "bar", "edit-venue": "pool night",
            "edit-city": "Lyon", "edit-started_at": "2026-04-10T21:00", "edit-time_limit": "120",
            "edit-drawing_started_at": "", "edit-drawing_finished_at": "", "edit-notes": "",
            "edit-credit_name": "Ana", "edit-reason": "typo",
        }  # fmt: skip
        form[f"edit-{name}"] = payload
        response = work.client.post(f"{url}/edit", data=form)
        assert response.status_code == 302, response.status_code
        return client_uuid, response

    return store


def diary_entry(name: str):
    def store(work: Fieldwork, payload: str):
        form = {
            "csrf_token": work.csrf("/diary/new"), "entry_date": "2026-03-02", "title": "Fair",
            "body": "A night at the fair.", "public": "y",
        }  # fmt: skip
        form[name] = payload
        response = work.client.post("/diary/new", data=form)
        assert response.status_code == 302, response.status_code
        return "", response

    return store


def dataset_setting(name: str):
    def store(work: Fieldwork, payload: str):
        form = {
            "csrf_token": work.csrf("/settings/dataset"), "license": "CC-BY-4.0",
            "pretty_name": "Portraits", "creator": "Max", "contact": "max@example.org",
            "size": "", "answer_purpose": "To show consent.",
        }  # fmt: skip
        form[name] = payload
        response = work.client.post("/settings/dataset", data=form)
        assert response.status_code == 302, response.status_code
        return "", response

    return store


ENCOUNTER_PAGES = ("log", "encounter", "handoff", "participant", "gallery", "gallery item")
FIELDS = [
    FreeTextField("API venue", api_text("venue"), ("home", "capture", "log", "encounter")),
    FreeTextField("API city", api_text("city"), ("home", "capture", "log", "encounter")),
    FreeTextField("API notes", api_text("notes"), ("encounter",)),
    FreeTextField(
        "API credit name",
        api_credit,
        ("log", "encounter", "participant", "participant choices", "gallery"),
    ),
    FreeTextField("capture venue", capture_form("venue"), ("home", "log", "encounter")),
    FreeTextField("capture city", capture_form("city"), ("home", "log", "encounter")),
    FreeTextField("capture notes", capture_form("notes"), ("encounter",)),
    FreeTextField("capture credit name", capture_form("credit_name"), ("log", "gallery item")),
    FreeTextField("capture without photo", capture_form("credit_name", photo=False), ("response",)),
    FreeTextField("declined venue", declined_form("venue"), ("home", "log", "encounter")),
    FreeTextField("declined city", declined_form("city"), ("home", "log", "encounter")),
    FreeTextField(
        "participant credit",
        participant_credit,
        ("participant", "participant choices", "encounter"),
    ),
    FreeTextField("correction credit", correction("credit_name"), ("encounter", "gallery")),
    FreeTextField("correction reason", correction("reason"), ("encounter",)),
    FreeTextField("consent text", consent_text, ("settings", "capture")),
    FreeTextField("ticket sheet paper", ticket_sheet("paper"), ("response",), refused=True),
    FreeTextField("ticket sheet pages", ticket_sheet("pages"), ("response",), refused=True),
    FreeTextField("edit venue", review_edit("venue"), ("home", "log", "encounter")),
    FreeTextField("edit city", review_edit("city"), ("log", "encounter")),
    FreeTextField("edit notes", review_edit("notes"), ("encounter",)),
    FreeTextField("edit credit name", review_edit("credit_name"), ("log", "encounter", "gallery")),
    FreeTextField("edit reason", review_edit("reason"), ("encounter",)),
    FreeTextField("diary title", diary_entry("title"), ("diary", "diary manage")),
    FreeTextField("diary body", diary_entry("body"), ("diary",), markdown=True),
    FreeTextField("dataset name", dataset_setting("pretty_name"), ("dataset settings",)),
    FreeTextField("dataset answer", dataset_setting("answer_purpose"), ("dataset settings",)),
]


@pytest.fixture
def work(app, logged_in, client, api_token) -> Fieldwork:
    return Fieldwork(app, client, api_token)


@pytest.mark.parametrize("field", FIELDS, ids=[f.name for f in FIELDS])
def test_every_payload_is_inert_on_every_page_that_shows_it(work, field):
    for payload in PAYLOADS:
        client_uuid, response = field.store(work, payload)
        for page in field.pages:
            if page == "response":
                html = response.get_data(as_text=True)
            else:
                url = PAGES[page](work, client_uuid)
                answer = work.client.get(url)
                assert answer.status_code == 200, (field.name, page, url)
                html = answer.text
            assert_inert(
                html,
                payload,
                f"{field.name} on {page}",
                shown=field.shown_as_text,
                verbatim=not field.markdown,
            )
        # Every other page of that encounter is inert too, whether or not it shows the field.
        if client_uuid:
            for page in ENCOUNTER_PAGES:
                answer = work.client.get(PAGES[page](work, client_uuid))
                assert_inert(answer.text, payload, f"{field.name} on {page}", shown=False)


def test_the_checker_sees_markup_that_would_run():
    from tests.xss_corpus import markup_problems

    for payload in PAYLOADS[:17]:
        contexts = (f"<p>{payload}</p>", f'<input value="{payload}">', f"<input value='{payload}'>")
        assert any(markup_problems(html) for html in contexts) or "javascript:" in payload, payload
    assert markup_problems(
        '<p><a href="/gallery">ok</a><script src="//evil.example/x.js"></script>'
    )
    assert not markup_problems(
        '<p><a href="/gallery">ok</a><script src="/static/js/a.js"></script>'
    )


def test_api_answers_echo_the_payloads_as_json_only(work):
    for payload in PAYLOADS:
        client_uuid = work.upload(venue=payload, credit={"name": payload})
        response = work.client.get(
            f"/api/v1/encounters/{client_uuid}",
            headers={"Authorization": f"Bearer {work.api_token}"},
        )
        assert response.mimetype == "application/json"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        json.loads(response.text)


@pytest.mark.browser
def test_no_payload_runs_in_the_browser(page, live_app, live_server):
    """The corpus stored in every field of real encounters; a real browser opens every page
    that shows them and no alert, confirm or prompt ever opens."""
    from tests.conftest import AuthActions

    client = live_app.test_client()
    auth = AuthActions(live_app, client)
    auth.create_collector()
    auth.login()
    from fieldapp.auth.services import create_api_token
    from fieldapp.extensions import db

    with live_app.app_context():
        from sqlalchemy import select

        from fieldapp.auth.models import Collector

        token = create_api_token(db.session, db.session.scalar(select(Collector)))
        db.session.commit()
    work = Fieldwork(live_app, client, token)
    uuids = []
    for payload in PAYLOADS:
        client_uuid = work.upload(venue=payload, city=payload, notes=payload)
        correction("reason")(work, payload)
        participant_credit(work, payload)
        uuids.append(work.upload(credit={"name": payload}))
        uuids.append(client_uuid)
    consent_text(work, PAYLOADS[0] + "\n\n" + PAYLOADS[7])

    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{live_server}/login")
    page.get_by_label("Username").fill("max")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server}/")
    urls = {"/", "/encounters", "/encounters/new", "/settings/consent", "/gallery"}
    for client_uuid in uuids[:12]:
        urls |= {PAGES[name](work, client_uuid) for name in ENCOUNTER_PAGES}
    for url in sorted(urls):
        page.goto(f"{live_server}{url}")
        page.wait_for_load_state("load")
    assert dialogs == []
    SCREENS.mkdir(parents=True, exist_ok=True)
    for name, url in (("log", "/encounters"), ("encounter", f"/encounters/{uuids[3]}")):
        page.goto(f"{live_server}{url}")
        page.screenshot(path=str(SCREENS / f"security-02-xss-{name}.png"), full_page=True)
