"""First run, login, and the rule that every collector page needs a login."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from fieldapp.auth.models import Collector
from fieldapp.extensions import db
from tests.conftest import PASSWORD, csrf_token_from
from tests.helpers import (
    PUBLIC_ENDPOINTS,
    anonymous_csrf_token,
    assert_sent_to_login,
    database_snapshot,
)


def test_first_visit_asks_for_the_collectors_account_and_logs_in(app, client):
    first = client.get("/")
    assert first.status_code == 302 and first.headers["Location"].endswith("/setup")
    form = client.get("/setup")
    response = client.post(
        "/setup",
        data={
            "username": "max",
            "password": PASSWORD,
            "confirm": PASSWORD,
            "csrf_token": csrf_token_from(form.text),
        },
    )
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # logged in
    with app.app_context():
        collector = db.session.scalar(select(Collector))
        assert collector.username == "max"
        assert collector.password_hash.startswith("scrypt:")
        assert PASSWORD not in collector.password_hash


def test_setup_refuses_a_short_password(app, client):
    form = client.get("/setup")
    response = client.post(
        "/setup",
        data={
            "username": "max",
            "password": "short",
            "confirm": "short",
            "csrf_token": csrf_token_from(form.text),
        },
    )
    assert response.status_code == 400
    assert "at least 10 characters" in response.text
    with app.app_context():
        assert db.session.scalar(select(Collector)) is None


def test_setup_is_closed_once_an_account_exists(app, auth, client):
    auth.create_collector()
    assert client.get("/setup").headers["Location"].endswith("/login")
    # A forged setup post cannot add a second account.
    client.post("/setup", data={"username": "intruder", "password": "x" * 20, "confirm": "x" * 20})
    with app.app_context():
        assert [c.username for c in db.session.scalars(select(Collector))] == ["max"]


def test_later_visits_show_the_login_page(auth, client):
    auth.create_collector()
    response = client.get("/encounters")
    assert response.status_code == 302
    assert "/login?next=/encounters" in response.headers["Location"]


def test_wrong_password_is_refused(auth, client):
    auth.create_collector()
    response = auth.login(password="wrong password!")
    assert response.status_code == 400
    assert "Wrong username or password" in response.text
    assert client.get("/").status_code == 302


def test_login_without_csrf_token_is_refused(auth, client):
    auth.create_collector()
    response = client.post("/login", data={"username": "max", "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "/\\evil.example"])
def test_login_never_redirects_to_another_site(auth, client, target):
    auth.create_collector()
    page = client.get("/login")
    response = client.post(
        f"/login?next={target}",
        data={"username": "max", "password": PASSWORD, "csrf_token": csrf_token_from(page.text)},
    )
    assert response.headers["Location"] == "/"


def test_logout_needs_a_post_with_csrf(logged_in, client):
    assert client.get("/logout").status_code == 405
    client.post("/logout", data={"csrf_token": logged_in.csrf_token()})
    assert client.get("/").status_code == 302


def collector_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        args = {name: "00000000-0000-4000-8000-000000000000" for name in rule.arguments}
        if "variant" in rule.arguments:
            args["variant"] = "display"
        for name in rule.arguments:  # a number: a diary entry's, a device's, a token's...
            if name.endswith("_id"):
                args[name] = 1
        url = rule.build(args, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url, rule.endpoint


def pytest_generate_tests(metafunc):
    if "collector_route" in metafunc.fixturenames:
        from fieldapp import create_app

        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
        routes = sorted(collector_routes(app))
        metafunc.parametrize("collector_route", routes, ids=[f"{m} {u}" for m, u, _ in routes])
    if "form_route" in metafunc.fixturenames:
        from fieldapp import create_app

        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
        routes = sorted(form_routes(app))
        metafunc.parametrize("form_route", routes, ids=[f"{m} {u}" for m, u, _ in routes])


def test_every_collector_route_refuses_anonymous_requests(auth, client, collector_route):
    """Anonymous, with a valid CSRF token (so that CSRF refuses nothing): every route outside
    PUBLIC_ENDPOINTS sends to the login page, or answers 401 under /api/. A missing login guard
    fails here; a 400 from the CSRF check cannot hide it."""
    auth.create_collector()
    method, url, endpoint = collector_route
    token = anonymous_csrf_token(client)
    if method in UNSAFE_METHODS:
        response = client.open(
            url, method=method, data={"csrf_token": token}, headers={"X-CSRFToken": token}
        )
    else:
        response = client.open(url, method=method)
    if endpoint.startswith("api."):
        assert response.status_code == 401, (endpoint, response.status_code)
        assert response.is_json and response.get_json()["error"]
    else:
        assert_sent_to_login(response, f"{method} {url} ({endpoint})")


def test_the_public_list_holds_only_real_endpoints(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints >= PUBLIC_ENDPOINTS


def test_api_refuses_a_wrong_token(client):
    response = client.get("/api/v1/consent/current", headers={"Authorization": "Bearer nope"})
    assert response.status_code == 401 and response.is_json


def test_api_accepts_the_session_with_csrf_header_on_writes(logged_in, client):
    assert client.get("/api/v1/consent/current").status_code == 200
    assert client.post("/api/v1/tickets", json={"count": 1}).status_code == 401
    response = client.post(
        "/api/v1/tickets", json={"count": 1}, headers={"X-CSRFToken": logged_in.csrf_token()}
    )
    assert response.status_code == 201


def test_a_cookie_from_before_the_logout_never_logs_in_again(logged_in, client):
    """A slow answer sent before the logout, or a copied cookie, carries the old session."""
    assert client.get("/").status_code == 200
    old_session = client.get_cookie("session").value
    old_remember = client.get_cookie("remember_token").value
    client.post("/logout", data={"csrf_token": logged_in.csrf_token()})
    assert client.get("/").status_code == 302
    client.set_cookie("session", old_session)
    assert client.get("/").status_code == 302
    client.delete_cookie("session")
    client.set_cookie("remember_token", old_remember)
    assert client.get("/").status_code == 302
    # Logging in again works, with a new generation.
    logged_in.login()
    assert client.get("/").status_code == 200


# Every form refuses a missing or wrong CSRF token --------------------------------------------

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# A plausible body for every form, so that the CSRF token is the only thing wrong with it.
FORM_FIELDS = {
    "username": "max", "password": PASSWORD, "confirm": PASSWORD, "text": "A new consent text.",
    "reason": "drawer asked by email", "gallery": "y", "credit": "anonymous", "venue_type": "bar",
    "keep": "y", "time_limit": "120", "consent_version": "1", "paper": "a4", "pages": "1",
}  # fmt: skip


def form_routes(app):
    for rule in app.url_map.iter_rules():
        for method in sorted(rule.methods & UNSAFE_METHODS):
            yield method, rule.rule, rule.endpoint


def _url_for_rule(rule: str, uuid: str, token: str) -> str:
    url = rule.replace("<uuid>", uuid).replace("<token>", token)
    return re.sub(r"<int:\w+>", "1", url)


@pytest.mark.parametrize("csrf", ["missing", "wrong"])
def test_every_form_refuses_a_missing_or_wrong_csrf_token(app, logged_in, client, form_route, csrf):
    from tests.factories import make_encounter, small_jpeg, token_of

    method, rule, endpoint = form_route
    uuid = make_encounter(app, photo=small_jpeg())
    url = _url_for_rule(rule, uuid, token_of(app, uuid))
    before = database_snapshot(app)
    forged = {"csrf_token": "IjEyMzQi.forged.token"} if csrf == "wrong" else {}
    if endpoint.startswith("api."):  # a session caller of the API sends the token as a header
        headers = {"X-CSRFToken": forged["csrf_token"]} if forged else {}
        response = client.open(url, method=method, json={"count": 1}, headers=headers)
        assert response.status_code == 401, endpoint
        assert "X-CSRFToken" in response.get_json()["error"]
    else:
        response = client.open(url, method=method, data={**FORM_FIELDS, **forged})
        assert response.status_code == 400, endpoint
        assert "This form has expired or was not sent from this site" in response.text
    assert database_snapshot(app) == before, endpoint
    assert client.get("/").status_code == 200  # still logged in: not even the logout went through


# A participant's token opens that one drawing and nothing else -------------------------------


def test_participant_routes_take_the_token_and_nothing_else(app):
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.startswith("participants.")]
    assert rules
    for rule in rules:
        assert rule.arguments == {"token"}, rule.rule


def test_no_participant_token_gives_access_to_another_drawing(app, client):
    from tests.factories import make_encounter, small_jpeg, token_of

    ana = make_encounter(app, photo=small_jpeg((200, 30, 30)), credit_name="Ana Distinctname")
    bea = make_encounter(app, photo=small_jpeg((30, 30, 200)), credit_name="Bea Othername")
    ana_token, bea_token = token_of(app, ana), token_of(app, bea)
    bea_drawing = client.get(f"/p/{bea_token}/drawing.jpg").data
    bea_thumb = client.get(f"/p/{bea_token}/thumb.jpg").data
    # Whatever else the request names, Ana's token answers with Ana's drawing only.
    smuggled = {"token": bea_token, "uuid": bea, "number": "2", "encounter": bea, "id": "2"}
    for rule in app.url_map.iter_rules():
        if not rule.endpoint.startswith("participants.") or "GET" not in rule.methods:
            continue
        url = rule.rule.replace("<token>", ana_token)
        response = client.get(url, query_string=smuggled)
        assert response.status_code == 200, url
        assert response.data == client.get(url).data or response.mimetype == "text/html", url
        assert bea_token.encode() not in response.data, url
        assert b"Bea Othername" not in response.data and bea.encode() not in response.data, url
        assert response.data not in (bea_drawing, bea_thumb), url
    # Forms posted with Ana's token change Ana's drawing, whatever the body claims.
    before = database_snapshot(app)
    page = client.get(f"/p/{ana_token}/choices")
    client.post(
        f"/p/{ana_token}/choices",
        data={**smuggled, "credit": "anonymous", "csrf_token": csrf_token_from(page.text)},
    )
    client.post(
        f"/p/{ana_token}/withdraw", data={**smuggled, "csrf_token": csrf_token_from(page.text)}
    )
    assert client.get(f"/p/{bea_token}/drawing.jpg").data == bea_drawing
    assert "Bea Othername" in client.get(f"/p/{bea_token}").text
    assert client.get(f"/p/{ana_token}/drawing.jpg").status_code == 410
    after = database_snapshot(app)
    assert after != before  # Ana's withdrawal happened...
    with app.app_context():
        from fieldapp.encounters.services import encounter_by_uuid

        assert not encounter_by_uuid(db.session, bea).is_withdrawn  # ...and only Ana's


@pytest.mark.parametrize(
    "token", ["", "x", "A" * 24, "A" * 65, "../../etc/passwd", "%00", "' OR '1'='1", "Ana"]
)
def test_made_up_tokens_open_nothing(app, client, token):
    from tests.factories import make_encounter, small_jpeg

    make_encounter(app, photo=small_jpeg(), credit_name="Ana")
    for suffix in ("", "/drawing.jpg", "/thumb.jpg", "/qr.svg", "/qr.png", "/withdraw"):
        response = client.get(f"/p/{token}{suffix}")
        assert response.status_code in (404, 308), (token, suffix, response.status_code)
        # The page's own address (its language links) aside, nothing of the drawing shows.
        assert b"Ana" not in response.data.replace(f"/p/{token}{suffix}".encode(), b"")
