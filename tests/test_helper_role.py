"""A helper account: a friend who records encounters and declined approaches in the field and
sees the QR codes of its own encounters, and nothing else of the collection (the log, names,
photos, the ledger's private figures, settings, exports, imports, ticket sheets)."""

from __future__ import annotations

import io
import json
import re
import uuid as uuidlib
from datetime import date

import pytest
from sqlalchemy import select

from fieldapp.auth.models import ApiToken, Collector, Device, Role
from fieldapp.auth.people import create_account
from fieldapp.auth.services import create_api_token
from fieldapp.consent.models import ConsentVersion
from fieldapp.database import utcnow
from fieldapp.diary.services import save_entry
from fieldapp.encounters.models import Encounter
from fieldapp.encounters.services import encounter_by_uuid, record_encounter
from fieldapp.encounters.validation import parse_encounter_data
from fieldapp.extensions import db
from fieldapp.media.images import process_photo
from fieldapp.media.services import media_store
from tests.conftest import PASSWORD, csrf_token_from
from tests.factories import (
    batch_fields,
    count_rows,
    encounter_data,
    make_encounter,
    number_of,
    put_encounter,
    small_jpeg,
    token_of,
)
from tests.helpers import PUBLIC_ENDPOINTS, capture_form
from tests.rescue_zip import outbox_record, outbox_zip

FORBIDDEN = "This page is for the collector"

# Every GET a helper may use, besides the public site. Anything else behind a login must answer
# 403: a new route is refused to helpers until it is added here and marked @helper_allowed.
HELPER_PAGES = {
    "encounters.home",  # its own count, New encounter, Declined, the phone's last QR codes
    "encounters.new",  # the capture flow
    "encounters.handoff",  # the QR code of an encounter it recorded
    "encounters.mine",  # its encounters: numbers and QR links
    "pwa.outbox",  # its phone's outbox
    "api.session",
    "api.progress",  # its own counts only
    "api.consent_current",
    "auth.account",  # its own account: password, devices (fieldapp/auth/views.py)
}
# What anyone may open, logged in or not (one list, kept by tests/test_auth.py).
PUBLIC_PAGES = PUBLIC_ENDPOINTS - {"auth.login", "auth.setup"}
# Signed in already: the login and setup pages send a helper home.
REDIRECTS = {"auth.login", "auth.setup"}
# Writes a helper makes (tested one by one below), and writes on its own account.
HELPER_WRITES = {
    "encounters.new",
    "encounters.declined",
    "api.tickets",
    "api.put_encounter",
    "auth.logout",
    "auth.password",
    "auth.revoke_device_view",
    "auth.revoke_token_view",
    "auth.sign_out_elsewhere",
}
PUBLIC_WRITES = {"auth.login", "auth.setup", "participants.choices", "withdrawal.participant"}


def record_as(app, account_id: int | None, *, photo: bytes | None = None, **fields) -> str:
    """An encounter recorded by `account_id` through the real service; returns its UUID."""
    client_uuid = str(uuidlib.uuid4())
    with app.app_context():
        record_encounter(
            db.session,
            media_store(),
            uuid=client_uuid,
            data=parse_encounter_data(encounter_data(**fields)),
            photo=process_photo(photo, max_pixels=app.config["MAX_PHOTO_PIXELS"])
            if photo
            else None,
            collector_id=account_id,
        )
    return client_uuid


def recorded_by(app, client_uuid: str) -> int | None:
    with app.app_context():
        return encounter_by_uuid(db.session, client_uuid).recorded_by_id


@pytest.fixture
def people(app, auth):
    """The collector "max" and a helper "friend": their ids."""
    collector_id = auth.create_collector("max")
    with app.app_context():
        helper = create_account(db.session, "friend", PASSWORD, Role.HELPER)
        db.session.commit()
        helper_id = helper.id
    return {"collector": collector_id, "helper": helper_id}


@pytest.fixture
def as_helper(auth, people):
    assert auth.login("friend").status_code == 302
    return people


def helper_token(app, helper_id: int) -> str:
    with app.app_context():
        token = create_api_token(db.session, db.session.get(Collector, helper_id))
        db.session.commit()
    return token


def csrf_of(client) -> str:
    return csrf_token_from(client.get("/").text)


# The walk over every route -------------------------------------------------------------------


@pytest.fixture
def route_arguments(app, people):
    """Plausible values for every URL variable: the helper's own encounter for `uuid` where the
    helper may see it, the collector's otherwise."""
    mine = record_as(app, people["helper"], photo=small_jpeg((1, 2, 3)))
    theirs = record_as(
        app, people["collector"], photo=small_jpeg((4, 5, 6)), credit={"name": "Ana"}
    )
    with app.app_context():
        entry = save_entry(
            db.session, None, entry_date=date(2026, 5, 1), title="Fair", body="x", public=True
        )
        entry_id = entry.id
    return {
        "mine": mine,
        "theirs": theirs,
        "uuid": theirs,
        "token": token_of(app, theirs),
        "number": number_of(app, theirs),
        "variant": "display",
        "name": "icon-192.png",
        "entry_id": entry_id,
        "filename": "css/app.css",
        "account_id": people["helper"],
        "device_id": 1,
        "token_id": 1,
        "language": "es",
    }


def url_of(app, rule, arguments: dict, endpoint: str) -> str:
    values = {name: arguments[name] for name in rule.arguments}
    if endpoint == "encounters.handoff":
        values["uuid"] = arguments["mine"]
    with app.test_request_context():
        from flask import url_for

        return url_for(endpoint, **values)


def test_a_helper_opens_only_its_own_pages_and_the_public_site(
    app, client, as_helper, route_arguments
):
    """Every GET route of the app, as a helper: the allow-list answers 200, the rest 403."""
    unexpected = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods:
            continue
        url = url_of(app, rule, route_arguments, rule.endpoint)
        response = client.get(url)
        if rule.endpoint in HELPER_PAGES | PUBLIC_PAGES:
            expected = 200
        elif rule.endpoint in REDIRECTS:
            expected = 302
        else:
            expected = 403
            if response.status_code == 403 and not url.startswith("/api/"):
                assert FORBIDDEN in response.text and 'href="/"' in response.text, url
        if response.status_code != expected:
            unexpected[f"{rule.endpoint} {url}"] = (response.status_code, expected)
    assert unexpected == {}, "(status, expected) per route; decide in fieldapp/auth/access.py"


def test_a_helper_changes_nothing_through_the_collectors_forms(
    app, client, as_helper, route_arguments
):
    """Every write route a helper has no business with answers 403, CSRF token and all."""
    token = csrf_of(client)
    versions = count_rows(app, ConsentVersion)
    unexpected = {}
    for rule in app.url_map.iter_rules():
        methods = rule.methods & {"POST", "PUT", "DELETE", "PATCH"}
        if not methods or rule.endpoint in HELPER_WRITES | PUBLIC_WRITES:
            continue
        url = url_of(app, rule, route_arguments, rule.endpoint)
        for method in methods:
            response = client.open(
                url,
                method=method,
                data={"csrf_token": token, "text": "Changed by a helper", "goal": "5"},
                headers={"X-CSRFToken": token},
            )
            if response.status_code != 403:
                unexpected[f"{method} {url}"] = response.status_code
    assert unexpected == {}
    assert count_rows(app, ConsentVersion) == versions
    with app.app_context():
        assert db.session.get(Collector, as_helper["helper"]).password_hash != "!removed"


def test_a_helper_never_sees_another_persons_encounter(app, client, as_helper, route_arguments):
    theirs = route_arguments["theirs"]
    assert client.get(f"/encounters/{theirs}/handoff").status_code == 404
    assert client.get(f"/encounters/{theirs}").status_code == 403
    assert client.get(f"/encounters/{theirs}/photo/display").status_code == 403
    mine = client.get("/encounters/mine").text
    assert f"/encounters/{route_arguments['mine']}/handoff" in mine
    assert theirs not in mine and "Ana" not in mine and "<img" not in mine


def test_the_forbidden_page_says_whose_page_it_is_and_leads_home(client, as_helper):
    response = client.get("/settings/consent")
    assert response.status_code == 403
    assert "<h1>This page is for the collector.</h1>" in response.text
    assert '<a class="button primary huge" href="/">Back to home</a>' in response.text


# Home, menu, QR codes -------------------------------------------------------------------------


def test_a_helpers_home_counts_its_own_work_and_leads_to_its_qr_codes(app, client, as_helper):
    make_encounter(app)  # the collector's (no account)
    make_encounter(app, declined=True)
    record_as(app, as_helper["helper"])
    record_as(app, as_helper["helper"], declined=True)
    html = client.get("/").text
    assert re.search(r'id="home-drawings">1</strong> <span>drawing by you', html)
    assert "2 approaches logged" in html
    assert 'href="/encounters/mine"' in html and 'href="/encounters"' not in html
    assert 'action="/encounters/declined"' in html and 'href="/encounters/new"' in html


def test_the_menu_shows_a_helper_only_what_it_may_use(client, as_helper):
    nav = re.search(r'<nav aria-label="Collector">.*?</nav>', client.get("/").text, re.S).group()
    for forbidden in ('href="/encounters"', 'href="/ledger"', 'href="/settings/consent"'):
        assert forbidden not in nav
    for allowed in ('href="/"', 'href="/encounters/mine"', 'href="/outbox"', "Log out"):
        assert allowed in nav
    assert "backlog import" not in client.get("/outbox").text


def test_the_collectors_menu_still_has_everything(client, auth, people):
    auth.login("max")
    nav = re.search(r'<nav aria-label="Collector">.*?</nav>', client.get("/").text, re.S).group()
    for link in ('href="/encounters"', 'href="/ledger"', 'href="/settings/consent"'):
        assert link in nav
    assert 'href="/settings/people"' in client.get("/settings/consent").text


# Recording: recorded_by_id on every path ------------------------------------------------------


def test_the_no_js_capture_form_and_declined_record_the_helper(app, client, as_helper):
    form = capture_form(client)
    response = client.post("/encounters/new", data=form, content_type="multipart/form-data")
    assert response.status_code == 302
    handoff = client.get(response.headers["Location"])
    assert handoff.status_code == 200 and "qr.svg" in handoff.text
    assert "Julia" not in handoff.text and 'href="/encounters/mine"' in handoff.text
    assert recorded_by(app, form["uuid"]) == as_helper["helper"]

    home = client.get("/").text
    fields = dict(re.findall(r'name="(\w+)" (?:type="hidden" )?value="([^"]*)"', home))
    assert client.post("/encounters/declined", data=fields).status_code == 302
    with app.app_context():
        declined = db.session.scalar(select(Encounter).where(Encounter.status == "declined"))
        assert declined.recorded_by_id == as_helper["helper"]


def test_the_phones_outbox_works_for_a_helper_with_a_bearer_token(app, client, people):
    token = helper_token(app, people["helper"])
    bearer = {"Authorization": f"Bearer {token}"}
    reserved = client.post("/api/v1/tickets", json={"count": 2}, headers=bearer)
    assert reserved.status_code == 201
    ticket = reserved.json["tickets"][0]
    client_uuid = str(uuidlib.uuid4())
    uploaded = put_encounter(
        client, token, client_uuid, encounter_data(ticket=ticket["token"]), small_jpeg()
    )
    assert uploaded.status_code == 201 and uploaded.json["number"] == ticket["number"]
    assert recorded_by(app, client_uuid) == people["helper"]
    again = put_encounter(client, token, client_uuid, encounter_data(ticket=ticket["token"]))
    assert again.status_code in (200, 409)  # the same UUID: stored once
    assert client.get("/api/v1/session", headers=bearer).status_code == 200
    assert client.get("/api/v1/consent/current", headers=bearer).status_code == 200
    # The collector's reads are not the helper's.
    refused = client.get(f"/api/v1/encounters/{client_uuid}", headers=bearer)
    assert refused.status_code == 403 and refused.json["error"]


def test_a_helpers_session_uploads_directly_as_the_page_does(app, client, as_helper):
    """The direct upload (the phone's storage refused) and the outbox use the session + CSRF."""
    session = client.get("/api/v1/session").json
    headers = {"X-CSRFToken": session["csrf_token"]}
    client_uuid = str(uuidlib.uuid4())
    response = client.put(
        f"/api/v1/encounters/{client_uuid}",
        data={
            "data": json.dumps(encounter_data()),
            "photo": (io.BytesIO(small_jpeg()), "d.jpg", "image/jpeg"),
        },
        headers=headers,
        content_type="multipart/form-data",
    )
    assert response.status_code == 201
    assert recorded_by(app, client_uuid) == as_helper["helper"]
    assert client.post("/api/v1/tickets", json={"count": 1}, headers=headers).status_code == 201
    assert client.get(f"/api/v1/encounters/{client_uuid}").status_code == 403


def test_progress_gives_a_helper_its_own_counts_only(app, client, people):
    for _ in range(3):
        make_encounter(app)
    make_encounter(app, withdrawn=True)
    record_as(app, people["helper"])
    record_as(app, people["helper"], declined=True)
    bearer = {"Authorization": f"Bearer {helper_token(app, people['helper'])}"}
    body = client.get("/api/v1/progress", headers=bearer).json
    assert (body["drawings"], body["approaches"], body["withdrawn"]) == (1, 2, 0)
    collector = {"Authorization": f"Bearer {helper_token(app, people['collector'])}"}
    body = client.get("/api/v1/progress", headers=collector).json
    assert (body["drawings"], body["approaches"], body["withdrawn"]) == (4, 6, 1)


def test_the_collectors_imports_record_the_collector(app, client, auth, people):
    auth.login("max")
    fields = batch_fields(client)
    token = fields.pop("csrf_token")
    photo = client.post(
        "/encounters/import/file",
        data={**fields, "files": [(io.BytesIO(small_jpeg()), "a.jpg")]},
        headers={"X-CSRFToken": token},
        content_type="multipart/form-data",
    )
    (imported,) = photo.json["outcomes"]
    record = outbox_record(photo=small_jpeg((10, 200, 10)))
    rescue = client.post(
        "/encounters/import/file",
        data={**fields, "files": [(io.BytesIO(outbox_zip([record])), "fieldapp-outbox.zip")]},
        headers={"X-CSRFToken": token},
        content_type="multipart/form-data",
    )
    (rescued,) = rescue.json["outcomes"]
    assert imported["status"] == rescued["status"] == "imported"
    with app.app_context():
        by_number = db.session.scalars(select(Encounter)).all()
        assert {e.recorded_by_id for e in by_number} == {people["collector"]}
        assert imported["number"] in {e.number for e in by_number}
    assert recorded_by(app, record.uuid) == people["collector"]


def test_the_collector_sees_who_recorded_an_encounter(app, client, auth, people):
    mine = record_as(app, people["helper"], photo=small_jpeg())
    anonymous = make_encounter(app)
    auth.login("max")
    assert re.search(r'data-field="recorded-by">friend<', client.get(f"/encounters/{mine}").text)
    assert "no account" in client.get(f"/encounters/{anonymous}").text


# The ledger -----------------------------------------------------------------------------------


def test_the_ledger_shows_each_persons_labor_to_the_collector_only(app, client, auth, people):
    record_as(app, people["helper"])  # 2 minutes of drawing (factories.encounter_data)
    record_as(app, people["helper"])
    record_as(app, people["helper"], declined=True)
    record_as(app, people["collector"])
    make_encounter(app, withdrawn=True)
    auth.login("max")
    html = client.get("/ledger").text
    rows = dict(re.findall(r'<tr data-person="([^"]*)">(.*?)</tr>', html, re.S))
    assert 'data-figure="completed">2<' in rows["friend"]
    assert 'data-figure="declined">1<' in rows["friend"]
    assert 'data-figure="drawing-time">0.1 h<' in rows["friend"]
    assert 'data-figure="completed">1<' in rows["max"]
    assert "1 withdrawn" in rows[""]
    assert "Who did the work" not in client.get("/ledger/public").text
    assert "friend" not in client.get("/ledger/public").text


# People: the page and the command line --------------------------------------------------------


def test_the_people_page_lists_accounts_and_adds_a_helper_who_can_log_in(app, client, auth, people):
    auth.login("max")
    page = client.get("/settings/people")
    assert page.status_code == 200
    assert re.search(r"<strong>max</strong> · collector", page.text)
    assert re.search(r"<strong>friend</strong> · helper", page.text)
    response = client.post(
        "/settings/people",
        data={"csrf_token": csrf_token_from(page.text), "username": "sam", "password": "too short"},
    )
    assert response.status_code == 400 and "at least 10 characters" in response.text
    response = client.post(
        "/settings/people",
        data={"csrf_token": csrf_token_from(page.text), "username": "sam", "password": PASSWORD},
    )
    assert response.status_code == 302
    with app.app_context():
        sam = db.session.scalar(select(Collector).where(Collector.username == "sam"))
        assert sam.role == Role.HELPER
    helper_client = app.test_client()
    from tests.conftest import AuthActions

    assert AuthActions(app, helper_client).login("sam").status_code == 302
    assert helper_client.get("/settings/people").status_code == 403


def test_removing_a_helper_ends_its_sessions_and_keeps_its_encounters(app, client, auth, people):
    helper_client = app.test_client()
    from tests.conftest import AuthActions

    assert AuthActions(app, helper_client).login("friend").status_code == 302
    assert helper_client.get("/").status_code == 200
    token = helper_token(app, people["helper"])
    with app.app_context():
        db.session.add(Device(collector_id=people["helper"], name="Chrome on Android"))
        db.session.commit()
    recorded = record_as(app, people["helper"])

    auth.login("max")
    remove = f"/settings/people/{people['helper']}/remove"
    assert f'href="{remove}"' in client.get("/settings/people").text
    page = client.get(remove)  # asks first: a thumb slips
    assert page.status_code == 200 and "Remove friend?" in page.text
    assert helper_client.get("/").status_code == 200  # nothing happened yet
    response = client.post(remove, data={"csrf_token": csrf_token_from(page.text)})
    assert response.status_code == 302
    assert "removed" in client.get("/settings/people").text
    assert client.get(remove).status_code == 404  # once is enough

    assert helper_client.get("/").status_code == 302  # to the login page
    assert AuthActions(app, helper_client).login("friend").status_code != 302
    bearer = {"Authorization": f"Bearer {token}"}
    assert helper_client.get("/api/v1/session", headers=bearer).status_code == 401
    assert recorded_by(app, recorded) == people["helper"]
    with app.app_context():
        assert (
            db.session.scalar(select(ApiToken).where(ApiToken.collector_id == people["helper"]))
            is None
        )
        devices = db.session.scalars(select(Device).where(Device.collector_id == people["helper"]))
        assert all(d.revoked_at is not None and d.revoked_at <= utcnow() for d in devices)


def test_the_collectors_own_account_cannot_be_removed(app, client, auth, people):
    auth.login("max")
    page = client.get("/settings/people")
    assert f"/settings/people/{people['collector']}/remove" not in page.text
    client.post(
        f"/settings/people/{people['collector']}/remove",
        data={"csrf_token": csrf_token_from(page.text)},
    )
    assert client.get("/settings/people").status_code == 200  # still logged in
    with app.app_context():
        assert db.session.get(Collector, people["collector"]).password_hash != "!removed"


def test_user_create_makes_a_helper_with_role_helper(app):
    env = {"FIELDAPP_PASSWORD": "a long enough password"}
    runner = app.test_cli_runner()
    helper = runner.invoke(args=["user", "create", "friend", "--role", "helper"], env=env)
    assert helper.exit_code == 0, helper.output
    assert "Created helper 'friend'" in helper.output
    assert runner.invoke(args=["user", "create", "max"], env=env).exit_code == 0
    refused = runner.invoke(args=["user", "create", "x", "--role", "boss"], env=env)
    assert refused.exit_code != 0
    with app.app_context():
        roles = dict(db.session.execute(select(Collector.username, Collector.role)).all())
    assert roles == {"friend": "helper", "max": "collector"}


# Screens ----------------------------------------------------------------------------------------

PHONES = {"360x640": {"viewport": {"width": 360, "height": 640}}, "pixel-7": "Pixel 7"}


@pytest.mark.browser
@pytest.mark.parametrize("phone", sorted(PHONES))
def test_the_helpers_screens_fit_a_phone(live_app, server, browser, playwright, phone, tmp_path):
    """The people page, a helper's home and the 403 page: nothing wider than the screen, no CSP
    violation, the way home on the 403 page visible without scrolling. Screenshots go to
    $FIELDAPP_SCREENS_DIR (else the test's tmp folder)."""
    import os
    from pathlib import Path

    from tests.conftest import watch_csp

    with live_app.app_context():
        create_account(db.session, "max", PASSWORD, Role.COLLECTOR)
        helper = create_account(db.session, "friend", PASSWORD, Role.HELPER)
        db.session.commit()
        helper_id = helper.id
    for _ in range(2):
        record_as(live_app, helper_id)
    out = Path(os.environ.get("FIELDAPP_SCREENS_DIR") or tmp_path)
    out.mkdir(parents=True, exist_ok=True)
    options = PHONES[phone]
    options = playwright.devices[options] if isinstance(options, str) else options

    def logged_in(username: str):
        context = browser.new_context(**options, base_url=server.url)
        violations = watch_csp(context)
        page = context.new_page()
        page.goto("/login")
        page.fill("#username", username)
        page.fill("#password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/")
        return context, page, violations

    def fits(page, name: str) -> None:
        page.screenshot(path=str(out / f"helper-{phone}-{name}.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - innerWidth")
        assert overflow <= 0, f"{name} is {overflow}px wider than the screen"

    context, page, violations = logged_in("friend")
    page.wait_for_selector("#home-drawings")
    assert page.text_content("#home-drawings").strip() == "2"
    fits(page, "home")
    page.goto("/ledger")
    assert page.is_visible("text=This page is for the collector.")
    home = page.get_by_role("link", name="Back to home")
    assert home.bounding_box()["y"] + home.bounding_box()["height"] <= page.viewport_size["height"]
    fits(page, "403")
    home.click()
    page.wait_for_url(f"{server.url}/")
    context.close()
    assert not violations

    context, page, violations = logged_in("max")
    page.goto("/settings/people")
    assert page.is_visible("text=Remove friend")
    fits(page, "people")
    context.close()
    assert not violations


def test_options_requests_pass_the_guard_without_an_account(client, people):
    """login_required lets OPTIONS through anonymously: the role check must not trip on it."""
    for path in ("/settings/people", "/encounters", "/ledger", "/outbox"):
        assert client.open(path, method="OPTIONS").status_code == 200
