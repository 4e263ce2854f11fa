"""Headers on every response, HTTPS behind a proxy, cookies, the login rate limit."""

from __future__ import annotations

import json
import uuid as uuidlib
from pathlib import Path

import pytest
from playwright.sync_api import expect

from fieldapp import create_app
from fieldapp.config import ConfigError, settings_from_environment
from tests.conftest import PASSWORD, app_config, csrf_token_from, watch_csp
from tests.factories import encounter_data, make_encounter, small_jpeg, token_of
from tests.helpers import attempt

# Through the proxy the browser sends its own https Referer, which Flask-WTF checks over HTTPS.
HTTPS = {"X-Forwarded-Proto": "https", "Referer": "https://localhost/login"}


def csp_directives(response) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


def pages_to_check(app) -> list[str]:
    uuid = make_encounter(app, photo=small_jpeg())
    token = token_of(app, uuid)
    return [
        "/login", "/gallery", "/pamphlet", "/healthz", "/sw.js", "/manifest.webmanifest",
        "/api/v1/openapi.json", f"/p/{token}", f"/p/{token}/qr.svg", f"/p/{token}/drawing.jpg",
        "/no/such/page", "/",
    ]  # fmt: skip


def test_every_response_carries_a_strict_policy(app, client, logged_in):
    for url in pages_to_check(app):
        response = client.get(url)
        assert response.status_code < 500, url
        csp = csp_directives(response)
        assert csp["script-src"] == ["'self'"], url  # no 'unsafe-inline', no 'unsafe-eval'
        assert csp["style-src"] == ["'self'"], url
        assert csp["frame-ancestors"] == ["'none'"], url
        assert csp["object-src"] == ["'none'"], url
        assert set(csp["img-src"]) == {"'self'", "blob:", "data:"}, url
        assert csp["worker-src"] == csp["manifest-src"] == csp["connect-src"] == ["'self'"], url
        assert response.headers["X-Content-Type-Options"] == "nosniff", url
        assert response.headers["Referrer-Policy"], url
        assert "Strict-Transport-Security" not in response.headers, url  # plain http here


def test_participant_pages_send_no_referrer(app, client):
    token = token_of(app, make_encounter(app))
    for url in (f"/p/{token}", f"/p/{token}/withdraw", "/p/unknown-token"):
        assert client.get(url).headers["Referrer-Policy"] == "no-referrer", url
    assert client.get("/gallery").headers["Referrer-Policy"] == "same-origin"


@pytest.fixture
def proxied(tmp_path, migrated_db):
    """An app behind one trusted reverse proxy (FIELDAPP_PROXY_HOPS=1)."""
    import shutil

    shutil.copy(migrated_db, tmp_path / "fieldapp.sqlite3")
    app = create_app(app_config(tmp_path, PROXY_HOPS=1))
    yield app
    from fieldapp.extensions import db

    with app.app_context():
        db.engine.dispose()


def login_cookies(app, headers: dict) -> list[str]:
    from fieldapp.auth.services import create_collector
    from fieldapp.extensions import db

    with app.app_context():
        create_collector(db.session, "max", PASSWORD)
        db.session.commit()
    client = app.test_client()
    page = client.get("/login", headers=headers)
    response = client.post(
        "/login",
        headers=headers,
        data={"username": "max", "password": PASSWORD, "csrf_token": csrf_token_from(page.text)},
    )
    assert response.status_code == 302
    return response.headers.getlist("Set-Cookie")


def test_behind_an_https_proxy_cookies_are_secure_and_hsts_is_sent(proxied):
    cookies = login_cookies(proxied, HTTPS)
    assert {cookie.split("=")[0] for cookie in cookies} == {"session", "remember_token"}
    for cookie in cookies:
        attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"secure", "httponly", "samesite=lax"} <= attributes, cookie
    response = proxied.test_client().get("/gallery", headers=HTTPS)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_plain_http_cookies_are_httponly_and_lax_but_not_secure(proxied):
    for cookie in login_cookies(proxied, {}):
        attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=lax"} <= attributes and "secure" not in attributes, cookie


def test_without_a_trusted_proxy_forwarded_headers_are_ignored(app, client):
    assert app.config["PROXY_HOPS"] == 0
    response = client.get("/gallery", headers={**HTTPS, "X-Forwarded-For": "203.0.113.9"})
    assert "Strict-Transport-Security" not in response.headers


def test_https_directly_gets_hsts(client):
    response = client.get("/gallery", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"] == "max-age=63072000"


def test_proxy_hops_must_be_a_whole_number(tmp_path):
    with pytest.raises(ConfigError, match="FIELDAPP_PROXY_HOPS"):
        settings_from_environment(str(tmp_path), {"FIELDAPP_PROXY_HOPS": "-1"})
    with pytest.raises(ConfigError, match="FIELDAPP_LOGIN_RATE_LIMIT"):
        settings_from_environment(str(tmp_path), {"FIELDAPP_LOGIN_RATE_LIMIT": "often"})
    settings = settings_from_environment(str(tmp_path), {})
    assert settings["LOGIN_LIMIT_STORAGE_URI"] is None  # counted in the database
    assert settings["PROXY_HOPS"] == 0


# Login rate limit -------------------------------------------------------------------------


@pytest.fixture
def strict_login_limit(app):
    """Three failed logins per 15 minutes for this test (counted in its own database)."""
    previous = app.config["LOGIN_RATE_LIMIT"]
    app.config["LOGIN_RATE_LIMIT"] = "3 per 15 minutes"
    yield
    app.config["LOGIN_RATE_LIMIT"] = previous


def test_failed_logins_are_limited_with_a_clear_message(auth, client, strict_login_limit):
    auth.create_collector()
    for _ in range(3):
        assert attempt(client, "wrong password!").status_code == 400
    refused = attempt(client, "wrong password!")
    assert refused.status_code == 429
    assert "Too many attempts; try again in 15 minutes." in refused.text
    assert int(refused.headers["Retry-After"]) > 0
    # Even the right password waits: the address is locked out, not the guess.
    assert attempt(client, PASSWORD).status_code == 429
    # Another address (another phone) is not affected.
    assert attempt(client, PASSWORD, address="198.51.100.8").status_code == 302


def test_successful_logins_do_not_count(auth, app, strict_login_limit):
    auth.create_collector()
    for _ in range(5):
        client = app.test_client()
        assert attempt(client, PASSWORD).status_code == 302


def test_a_crowd_behind_one_address_is_never_limited(app, client, api_token, strict_login_limit):
    """Fifty phones of one venue's wifi on participant pages and the gallery; the collector's
    uploads from the same wifi."""
    venue_wifi = {"REMOTE_ADDR": "198.51.100.7"}
    token = token_of(app, make_encounter(app))
    for _ in range(50):
        for url in (f"/p/{token}", f"/p/{token}/qr.svg", "/gallery", "/pamphlet"):
            assert client.get(url, environ_base=venue_wifi).status_code == 200
        response = client.put(
            f"/api/v1/encounters/{uuidlib.uuid4()}",
            data={"data": json.dumps(encounter_data(declined=True))},
            headers={"Authorization": f"Bearer {api_token}"},
            content_type="multipart/form-data",
            environ_base=venue_wifi,
        )
        assert response.status_code == 201


@pytest.mark.browser
def test_the_csp_watch_catches_an_inline_script(browser, live_server):
    """The browser fixture's CSP watch is real: an inline script under our policy is reported."""
    context = browser.new_context()
    violations = watch_csp(context)
    page = context.new_page()
    page.route(
        f"{live_server}/inline-test",
        lambda route: route.fulfill(
            body="<!doctype html><p>x</p><script>document.title='ran'</script>",
            content_type="text/html",
            headers={"Content-Security-Policy": "script-src 'self'"},
        ),
    )
    page.goto(f"{live_server}/inline-test")
    page.wait_for_load_state("load")
    assert page.title() != "ran"
    context.close()
    assert violations and "script" in violations[0]


SCREENS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screens"


@pytest.mark.browser
def test_the_login_limit_page_on_a_phone(page, live_app, live_server):
    from tests.conftest import AuthActions

    AuthActions(live_app, live_app.test_client()).create_collector()
    live_app.config["LOGIN_RATE_LIMIT"] = "2 per 15 minutes"  # this test's own app
    for _ in range(3):
        page.goto(f"{live_server}/login")
        page.get_by_label("Username").fill("max")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_load_state("load")
    expect(page.get_by_role("heading", name="Too many attempts")).to_be_visible()
    expect(page.get_by_text("Too many attempts; try again in 15 minutes.")).to_be_visible()
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "security-01-login-limit.png"), full_page=True)


def test_behind_the_proxy_the_login_limit_counts_each_client_address(proxied):
    """With FIELDAPP_PROXY_HOPS=1 the limit keys on X-Forwarded-For, not on the proxy."""
    from fieldapp.auth.services import create_collector
    from fieldapp.extensions import db

    with proxied.app_context():
        create_collector(db.session, "max", PASSWORD)
        db.session.commit()
    proxied.config["LOGIN_RATE_LIMIT"] = "2 per 15 minutes"
    client = proxied.test_client()

    def attempt_from(address: str):
        headers = {"X-Forwarded-For": address}
        page = client.get("/login", headers=headers)
        form = {"username": "max", "password": "wrong password!"}
        return client.post(
            "/login", headers=headers, data={**form, "csrf_token": csrf_token_from(page.text)}
        )

    assert [attempt_from("203.0.113.1").status_code for _ in range(3)] == [400, 400, 429]
    assert attempt_from("203.0.113.2").status_code == 400  # another phone, same proxy


def test_links_follow_the_prefix_a_proxy_mounts_the_app_under(proxied):
    """Templates' links, and the head links and public menu rendered once (fieldapp/web/templating.py),
    are kept per prefix: a page served under /art by the proxy links /art/..., the same page
    served at the root links /..."""
    client = proxied.test_client()
    mounted = client.get("/gallery", headers={"X-Forwarded-Prefix": "/art"}).text
    root = client.get("/gallery").text
    again = client.get("/gallery", headers={"X-Forwarded-Prefix": "/art"}).text
    for link in ("/static/css/app.css", "/manifest.webmanifest", "/pamphlet", "/diary"):
        assert f'href="/art{link}"' in mounted
        assert f'href="{link}"' in root
    assert "/art/" not in root
    assert again == mounted


def test_the_menu_rendered_once_is_the_public_one_and_the_collector_keeps_their_own(
    app, client, logged_in
):
    """The public menu and the head's links are rendered once (fieldapp/web/templating.py): a
    visitor's page and the collector's, in either order, each show their own menu, and only the
    collector's holds a CSRF token and the way out."""
    visitor = app.test_client()
    for _ in range(2):
        public = visitor.get("/gallery").text
        collector = client.get("/log").text
        assert 'aria-label="Site"' in public and 'aria-label="Collector"' not in public
        assert "Log out" not in public and "csrf_token" not in public
        assert 'aria-label="Collector"' in collector and 'aria-label="Site"' not in collector
        assert csrf_token_from(collector)
        assert 'href="/static/css/app.css"' in public and 'href="/static/css/app.css"' in collector
