"""First run, login, and the rule that every collector page needs a login."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from fieldapp.auth.models import Collector
from fieldapp.extensions import db
from tests.conftest import PASSWORD, csrf_token_from

# Routes anyone may open. Everything else in app.url_map is the collector's.
PUBLIC_ENDPOINTS = {
    "static", "health.healthz", "auth.setup", "auth.login", "pamphlet.pamphlet",
    "participants.page", "participants.qr_code_svg", "participants.qr_code_png",
    "participants.drawing", "participants.thumb", "participants.choices",
    "participants.withdrawal", "api.openapi",
    "gallery.index", "gallery.item", "gallery.display", "gallery.thumb",
    # The installable app's shell: nothing in them belongs to anyone.
    "pwa.service_worker", "pwa.web_manifest", "pwa.icon", "pwa.offline",
    "signals.tdmrep", "signals.ai_txt",
    # Aggregate figures, public diary entries and gallery drawings only.
    "ledger.public", "diary.index", "live.screen", "live.feed", "live.zine",
}  # fmt: skip


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
        if "entry_id" in rule.arguments:  # a diary entry's number
            args["entry_id"] = 1
        url = rule.build(args, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield method, url, rule.endpoint


def pytest_generate_tests(metafunc):
    if "collector_route" in metafunc.fixturenames:
        from fieldapp import create_app

        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
        routes = sorted(collector_routes(app))
        metafunc.parametrize("collector_route", routes, ids=[f"{m} {u}" for m, u, _ in routes])


def test_every_collector_route_refuses_anonymous_requests(auth, client, collector_route):
    auth.create_collector()
    method, url, endpoint = collector_route
    response = client.open(url, method=method)
    if endpoint.startswith("api."):
        assert response.status_code == 401
        assert response.is_json and response.get_json()["error"]
    else:
        assert response.status_code in (302, 400, 401), endpoint  # 400: refused first by CSRF
        if response.status_code == 302:
            assert "/login" in response.headers["Location"]


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
