"""`make run-phone` with the real Caddy, as the artist's terminal and phone meet it.

run-phone finds this machine's address on its network itself (`LAN`, as on the artist's laptop)
and the clients reach Caddy there; every port is free.
The terminal test runs `make run-phone` itself in a throwaway checkout (tests/checkout.py: its
own instance folder, secret key and database); the browser test runs the program alone
(`python -m fieldapp.phone`) on a temp instance folder. Each test starts its own run-phone, so
that under xdist no test finds a server another one stopped. The last tests run its pieces in
this process, where coverage sees them.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import ipaddress
import os
import re
import shutil
import signal
import ssl
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from PIL import Image
from playwright.sync_api import expect

from tests.checkout import make_checkout
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, PASSWORD, watch_csp
from tests.helpers import decode_qr, no_sideways_scroll, shoot
from tests.phone_run import LAN, RunPhone, alive

#: The characters of qrcode's print_ascii: two rows of modules per character, dark on
#: (top, bottom) as below.
QR_MODULES = {"\xa0": (0, 0), "▀": (1, 0), "▄": (0, 1), "█": (1, 1)}


@pytest.fixture
def run_phone(tmp_path):
    """`make run-phone` in a fresh checkout: it makes the secret key and the database itself."""
    running = RunPhone.through_make(make_checkout(tmp_path / "fieldapp"))
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture
def phone_program(tmp_path, migrated_db):
    """The run-phone program alone, on a migrated database (quicker than through make)."""
    shutil.copy(migrated_db, tmp_path / "fieldapp.sqlite3")
    running = RunPhone.program(tmp_path)
    try:
        running.start()
        yield running
    finally:
        running.stop()


def qr_in_terminal(output: str) -> str:
    """The text of the QR code printed in `output`: drawn back as an image and read by zbar."""
    rows = [line for line in output.splitlines() if line and set(line) <= set(QR_MODULES)]
    assert rows, "no QR code in:\n" + output
    scale, margin = 8, 32
    width, height = len(rows[0]), 2 * len(rows)
    image = Image.new("L", (width * scale + 2 * margin, height * scale + 2 * margin), 255)
    for y, row in enumerate(rows):
        for x, character in enumerate(row):
            for half, dark in enumerate(QR_MODULES[character]):
                if dark:
                    left, top = margin + x * scale, margin + (2 * y + half) * scale
                    image.paste(0, (left, top, left + scale, top + scale))
    return decode_qr(image)


def get(url_host: str, port: int, path: str, *, context: ssl.SSLContext | None = None):
    """A GET over plain http, or https with `context`; the response, read."""
    if context is None:
        connection = http.client.HTTPConnection(url_host, port, timeout=15)
    else:
        connection = http.client.HTTPSConnection(url_host, port, timeout=15, context=context)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.body = response.read()
        return response
    finally:
        connection.close()


def spki_hash(certificate_path: Path) -> str:
    """base64 SHA-256 of a certificate's SubjectPublicKeyInfo (Chromium's SPKI list)."""
    certificate = x509.load_pem_x509_certificate(certificate_path.read_bytes())
    spki = certificate.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def test_the_terminal_leads_the_phone_to_its_certificate_and_nothing_outlives_run_phone(
    run_phone,
):
    output = run_phone.output
    # No account yet: the setup address comes first, over HTTPS as the phone will open it.
    setup = f"Open {run_phone.https_url}/setup now"
    assert setup in output
    assert output.index(setup) < output.index(run_phone.trust_page_url)
    assert qr_in_terminal(output) == run_phone.trust_page_url
    assert f"{run_phone.https_url}/" in output  # for a phone that trusts the laptop already

    # Over plain http: the trust page and the root certificate, and nothing else of the app.
    page = get(LAN, run_phone.http_port, "/phone")
    assert page.status == 200
    text = page.body.decode()
    for step in ("Download the certificate", "iPhone", "Android", "Open fieldapp"):
        assert step in text
    assert f'href="{run_phone.https_url}/"' in text
    served = get(LAN, run_phone.http_port, "/phone/root.crt")
    assert served.status == 200
    assert served.getheader("Content-Type") == "application/x-x509-ca-cert"
    assert 'filename="fieldapp-laptop.crt"' in served.getheader("Content-Disposition")
    assert served.body == run_phone.root_certificate.read_bytes()
    certificate = x509.load_pem_x509_certificate(served.body)
    constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    assert constraints.ca
    assert certificate.issuer == certificate.subject  # the root itself
    # The same fingerprint as the page shows, for the phone's details screen.
    shown = certificate.fingerprint(hashes.SHA256()).hex().upper()
    assert ":".join(shown[i : i + 2] for i in range(0, len(shown), 2)) in text
    for path in ("/", "/setup", "/login", "/healthz"):
        elsewhere = get(LAN, run_phone.http_port, path)
        assert (elsewhere.status, elsewhere.getheader("Location")) == (302, "/phone"), path

    # Over https, trusting that root and nothing else: the app, with HSTS.
    trusting = ssl.create_default_context(cafile=str(run_phone.root_certificate))
    health = get(LAN, run_phone.https_port, "/healthz", context=trusting)
    assert health.status == 200
    assert health.getheader("Strict-Transport-Security") == "max-age=63072000"
    with pytest.raises(ssl.SSLCertVerificationError):
        get(LAN, run_phone.https_port, "/healthz", context=ssl.create_default_context())

    servers = run_phone.servers()
    assert len(servers) == 2  # Caddy and the app
    # GNU make, interrupted itself, ends by the same signal; run-phone under it stops cleanly.
    assert run_phone.interrupt() in (0, -signal.SIGINT)
    assert [pid for pid in servers if alive(pid)] == []
    assert "Stopping Caddy and the app." in run_phone.output
    assert "Traceback" not in run_phone.output and "make: ***" not in run_phone.output

    # The next run keeps the same authority (the phone trusted it once: no new steps); and if
    # run-phone itself is killed outright, Caddy and the app stop too, freeing the ports.
    again = RunPhone.through_make(run_phone.cwd)
    try:
        again.start()
        assert again.root_certificate.read_bytes() == served.body
        trusting = ssl.create_default_context(cafile=str(again.root_certificate))
        assert get(LAN, again.https_port, "/healthz", context=trusting).status == 200
        servers = again.servers()
        assert len(servers) == 2
        os.kill(again.runner(), signal.SIGKILL)
        deadline = time.monotonic() + 20
        while any(alive(pid) for pid in servers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [pid for pid in servers if alive(pid)] == []
    finally:
        again.stop()


@pytest.fixture
def trusting_browser(playwright, phone_program):
    """Chromium that accepts the chains run-phone's Caddy signs, as a phone that trusts its root
    does: the SPKI of Caddy's intermediate."""
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing (apt-get install chromium)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    spki = spki_hash(phone_program.authority / "intermediate.crt")
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=[*CHROMIUM_ARGS, f"--ignore-certificate-errors-spki-list={spki}"],
        headless=True,
    )
    yield browser
    browser.close()


def test_the_phone_reads_the_steps_then_installs_the_app_over_https(
    playwright, phone_program, trusting_browser
):
    screens = {
        "run-phone-trust-360x640": {"viewport": {"width": 360, "height": 640}},
        "run-phone-trust-pixel7": playwright.devices["Pixel 7"],
    }
    for name, device in screens.items():
        context = trusting_browser.new_context(**device)
        violations = watch_csp(context)
        page = context.new_page()
        page.goto(phone_program.trust_page_url)
        expect(page.get_by_role("heading", name="Trust this laptop")).to_be_visible()
        for button in ("iPhone: download", "Android: download", "Open fieldapp"):
            link = page.get_by_role("link", name=button)
            box = link.bounding_box()
            assert box is not None and box["height"] >= 48, button  # a thumb's target
        assert no_sideways_scroll(page)
        shoot(page, name)
        context.close()
        assert violations == []

    # The phone that trusts the laptop: "Open fieldapp", the first account, the app installs.
    context = trusting_browser.new_context(**playwright.devices["Pixel 7"])
    violations = watch_csp(context)
    page = context.new_page()
    page.goto(phone_program.trust_page_url)
    page.get_by_role("link", name="Open fieldapp").click()
    expect(page.get_by_role("heading", name="Welcome")).to_be_visible()  # /setup: no account
    assert page.url == f"{phone_program.https_url}/setup"
    page.get_by_label("Username").fill("max")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Password again").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.wait_for_url(f"{phone_program.https_url}/")
    scope = page.evaluate("navigator.serviceWorker.ready.then((r) => r.scope)")
    assert scope == f"{phone_program.https_url}/"
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    context.close()

    # Another phone, nobody logged in: the login page, over https.
    context = trusting_browser.new_context(**playwright.devices["Pixel 7"])
    login_violations = watch_csp(context)
    page = context.new_page()
    page.goto(f"{phone_program.https_url}/login")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    context.close()
    assert violations == login_violations == []


def test_no_trust_page_without_phone_program(client):
    """Outside `make run-phone` (no FIELDAPP_PHONE_ROOT_CERT) the app hands out no certificate."""
    assert client.get("/phone").status_code == 404
    assert client.get("/phone/root.crt").status_code == 404


# The same pieces in this process (the subprocess above is not measured by coverage) --------


def a_root_certificate(path: Path) -> Path:
    """A self-signed CA certificate, as Caddy's root is, written to `path`."""
    from datetime import UTC, datetime, timedelta

    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Caddy Local Authority - Test")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(certificate.public_bytes(Encoding.PEM))
    return path


def test_the_trust_page_names_the_authority_and_serves_its_certificate(tmp_path, migrated_db):
    from fieldapp import create_app
    from tests.conftest import app_config

    shutil.copy(migrated_db, tmp_path / "fieldapp.sqlite3")
    root = a_root_certificate(tmp_path / "root.crt")
    app = create_app(
        app_config(tmp_path, PHONE_ROOT_CERT=str(root), PUBLIC_URL="https://192.168.1.20:8443")
    )
    client = app.test_client()
    page = client.get("/phone")
    assert page.status_code == 200
    assert "Caddy Local Authority - Test" in page.text
    assert 'href="https://192.168.1.20:8443/"' in page.text
    assert 'download="fieldapp-laptop.crt"' in page.text
    served = client.get("/phone/root.crt")
    assert served.data == root.read_bytes()
    assert served.mimetype == "application/x-x509-ca-cert"
    root.unlink()  # Caddy has not made it (yet): nothing to hand out
    assert client.get("/phone").status_code == 404
    assert client.get("/phone/root.crt").status_code == 404


def test_the_qr_code_reads_the_same_in_colour_on_a_terminal():
    from fieldapp.phone.services import terminal_qr

    url = "http://192.168.1.20:8080/phone"
    coloured = terminal_qr(url, colour=True)
    assert "\x1b[" in coloured  # black on white, whatever the terminal's theme
    plain = re.sub(r"\x1b\[[0-9;]*m", "", coloured)
    assert plain == terminal_qr(url, colour=False)
    assert qr_in_terminal(plain) == url


def test_the_laptop_finds_its_own_address_and_takes_ports_from_the_environment():
    from fieldapp.phone.__main__ import StartFailed, announcement, site_from_environment
    from fieldapp.phone.services import lan_address

    address = lan_address()
    assert ipaddress.ip_address(address).version == 4
    site = site_from_environment({"PHONE_HTTPS_PORT": "9443"})
    assert (site.host, site.https_port, site.http_port, site.app_port) == (
        address,
        9443,
        8080,
        5000,
    )
    with pytest.raises(StartFailed, match="PHONE_HTTP_PORT must be a port number"):
        site_from_environment({"PHONE_HTTP_PORT": "eighty"})
    quiet = announcement(
        site_from_environment({"PHONE_HOST": "192.168.1.20"}), needs_setup=False, colour=False
    )
    assert "/setup" not in quiet and "no phone reaches it" not in quiet
    assert "https://192.168.1.20:8443/" in quiet
    alone = announcement(
        site_from_environment({"PHONE_HOST": "127.0.0.1"}), needs_setup=True, colour=False
    )
    assert "no phone reaches it" in alone
    assert alone.index("https://127.0.0.1:8443/setup") < alone.index("http://127.0.0.1:8080/phone")
