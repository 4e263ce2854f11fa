"""Real HTTPS in front: Debian's Caddy, with the docker/Caddyfile that compose.yaml mounts, on
127.0.0.1 with certificates from its internal CA (what `tls internal` asks for; Caddy does it by
itself for an IP address), load-balances two app servers (one PostgreSQL database, one S3
bucket), which trust it as their one proxy (FIELDAPP_PROXY_HOPS=1) and know its address as their
public URL.

Chromium is told to accept the chain Caddy presents (`--ignore-certificate-errors-spki-list`
with the key of Caddy's intermediate): the certificate then counts as valid, as on a phone
that trusts Caddy's root, so the service worker registers; with `ignore_https_errors` alone
Chromium refuses service workers on a page whose certificate has errors.
"""

from __future__ import annotations

import io
import re
import uuid as uuidlib

import pytest
import requests
from PIL import Image
from playwright.sync_api import expect

from tests import photo_corpus as corpus
from tests.app_cluster import AppCluster, Visitor, app_cluster
from tests.conftest import watch_csp
from tests.factories import encounter_data, small_jpeg
from tests.helpers import SCREENS, answer_consent, decode_qr, log_in, multipart
from tests.seaweed import start_seaweed

HSTS = "max-age=63072000"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory, postgres_server, migrated_postgres):
    seaweed = start_seaweed()
    try:
        url = postgres_server.create_database(
            f"https_{uuidlib.uuid4().hex}", template=migrated_postgres
        )
        with app_cluster(
            tmp_path_factory.mktemp("https"), database_url=url, seaweed=seaweed, caddy=True
        ) as running:
            yield running
    finally:
        seaweed.stop()


def through_caddy(cluster: AppCluster) -> Visitor:
    """A client that trusts Caddy's root certificate, and only it."""
    return Visitor(
        requests.Session(), cluster.public_url, verify=str(cluster.caddy.root_certificate)
    )


def test_links_cookies_and_hsts_over_https_through_caddy(cluster: AppCluster):
    """Without a browser: what the app says about itself when reached through Caddy."""
    visitor = through_caddy(cluster)
    login = visitor.get("/login")
    assert login.status_code == 200
    assert login.headers["Strict-Transport-Security"] == HSTS
    cookie = login.headers["Set-Cookie"]
    assert cookie.startswith("session=") and "; Secure" in cookie and "HttpOnly" in cookie

    # The phone's upload through Caddy: the participant link is the public https one, and so is
    # the QR code of it, on whichever server draws it.
    server = cluster.servers[0]
    body = multipart(encounter_data(), small_jpeg((20, 120, 40)))
    answer = visitor.session.put(
        f"{cluster.public_url}/api/v1/encounters/{uuidlib.uuid4()}",
        data=body, headers=server.headers(body), verify=visitor.verify, timeout=60,
    )  # fmt: skip
    assert answer.status_code == 201, answer.text
    link = answer.json()["participant_url"]
    assert link == f"{cluster.public_url}/p/{answer.json()['token']}"
    for _ in cluster.servers:  # round robin: one request to each
        qr = visitor.get(f"/p/{answer.json()['token']}/qr.png")
        assert qr.status_code == 200
        assert decode_qr(Image.open(io.BytesIO(qr.content))) == link
    assert visitor.get("/healthz").json() == {"status": "ok", "database": "ok", "store": "ok"}


@pytest.fixture
def https_page(playwright, browser_type_launch_args, cluster: AppCluster):
    """Chromium, as a Pixel 7 held at 360x640, accepting Caddy's chain as valid."""
    spki = cluster.caddy.spki_hash()
    browser = playwright.chromium.launch(
        **{
            **browser_type_launch_args,
            "args": [
                *browser_type_launch_args["args"],
                f"--ignore-certificate-errors-spki-list={spki}",
            ],
        }
    )
    context = browser.new_context(
        **{**playwright.devices["Pixel 7"], "viewport": {"width": 360, "height": 640}}
    )
    violations = watch_csp(context)
    try:
        yield context.new_page()
        assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)
    finally:
        context.close()
        browser.close()


@pytest.mark.browser
def test_the_capture_flow_in_chromium_over_https_through_caddy(
    https_page, cluster: AppCluster, tmp_path
):
    page, public = https_page, cluster.public_url
    before = [len(server.requests_served()) for server in cluster.servers]

    first = page.goto(f"{public}/login")
    assert first.status == 200
    assert first.headers["strict-transport-security"] == HSTS
    log_in(page, public)
    # Over https the service worker registers and takes the page over.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null", timeout=30000)
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL") == f"{public}/sw.js"
    cookies = page.context.cookies()
    assert "session" in {cookie["name"] for cookie in cookies}
    assert all(cookie["secure"] for cookie in cookies), cookies

    photo = tmp_path / "PXL_20261206_213012345.jpg"
    photo.write_bytes(corpus.camera_jpeg(orientation=6, gps=True, size=(1600, 1200)))
    page.get_by_role("link", name="New encounter").click()
    page.wait_for_selector(".step.current")  # the capture script has taken the page over
    page.get_by_label("Venue type").select_option("party")
    page.get_by_label("Occasion").fill("Julia's birthday")
    page.get_by_label("City").fill("Brooklyn")
    page.get_by_role("button", name="Confirm venue").click()
    answer_consent(page, name="Julia R.")
    page.get_by_role("button", name="Done: back to the artist").click()
    page.get_by_text("1 min", exact=True).click()
    page.get_by_role("button", name="Done drawing").click()
    page.locator("#photo").set_input_files(str(photo))
    page.locator("#preview").wait_for(state="visible")
    page.get_by_role("button", name="Show the QR code").click()

    # The handoff: the QR code holds the public https link.
    expect(page.get_by_text(re.compile(r"Write #\d+ on the back"))).to_be_visible()
    page.wait_for_function("() => document.getElementById('handoff-qr').naturalWidth > 0")
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / "https-handoff-360.png"), scale="css")
    link = decode_qr(Image.open(io.BytesIO(page.locator("#handoff-qr").screenshot())))
    assert re.fullmatch(rf"{re.escape(public)}/p/[A-Za-z0-9_-]+", link), link
    expect(page.locator("#sync-status")).to_have_text(re.compile("All sent"), timeout=30000)

    # The drawer opens it on their own phone (no cookies), through Caddy.
    drawer = page.context.browser.new_context(**{"viewport": {"width": 360, "height": 640}})
    try:
        participant = drawer.new_page()
        response = participant.goto(link)
        assert response.status == 200
        assert response.headers["strict-transport-security"] == HSTS
        expect(participant.get_by_text("Julia R.")).to_be_visible()
        participant.wait_for_function(
            "() => document.querySelector('img.drawing').naturalWidth > 0"
        )
    finally:
        drawer.close()

    # The participant's token never reaches Caddy's log (docker/Caddyfile's filter).
    token = link.rsplit("/", 1)[1]
    logged = cluster.caddy.access_log()
    assert "/p/…" in {entry["request"]["uri"] for entry in logged}
    assert token not in (cluster.caddy.root / "caddy.log").read_text()

    # Caddy shared the visit out: each server answered some of its requests.
    after = [len(server.requests_served()) for server in cluster.servers]
    assert all(now > then for now, then in zip(after, before, strict=True)), (before, after)


def test_while_one_server_is_down_caddy_sends_every_request_to_the_other(cluster: AppCluster):
    """Last in this module: it stops a server, and starts it again on the same port."""
    visitor = through_caddy(cluster)
    down, up = cluster.servers
    served_before = up.requests_served().count("GET /pamphlet HTTP/1.1")
    down.stop()
    try:
        statuses = [visitor.get("/pamphlet").status_code for _ in range(6)]
    finally:
        down.start()
    assert statuses == [200] * 6  # the turns of the stopped server went to the other
    assert up.requests_served().count("GET /pamphlet HTTP/1.1") == served_before + 6
