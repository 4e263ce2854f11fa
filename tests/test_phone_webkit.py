"""`make run-phone` in real WebKit (WebKitGTK, Safari's engine: the artist's phone is an iPhone).

One run-phone program (tests/phone_run.py: Caddy's internal CA in front of the app, on the
address run-phone finds for this machine on its network) serves the module. The trust page is read at 360×640
in a WebKit that does not trust the laptop, as the phone first meets it; the app is then used
over Caddy's HTTPS by a WebKit that trusts Caddy's root, as the phone does once the trust page's
steps are done, and by one that was told to accept any certificate.

What WebKitGTK 2.50 (Debian 12, glib-networking 2.74 on GnuTLS 3.7) does with Caddy's
certificates, found by trying:

- Not trusted: the app does not load at all, and there is no warning to click through.
  ``driver.get`` returns without an error; the browser shows the page it was on (about:blank,
  the trust page) or an empty one, and ``current_url`` is sometimes that page's, sometimes the
  https address that failed.
- WebDriver's ``acceptInsecureCerts`` capability: the app loads, over https, and unlike Chromium
  (which refuses service workers on a page whose certificate has errors, see
  tests/test_https_caddy.py) WebKit counts the page as a secure context: the service worker
  registers and controls the page, the cookies are Secure, HSTS comes.
- Trusting the root, as the phone does: glib-networking takes its trust from GnuTLS's system
  store, the file /etc/ssl/certs/ca-certificates.crt compiled into libgnutls. No environment
  variable points it elsewhere: ``SSL_CERT_FILE`` is OpenSSL's and is ignored (the page does not
  load), and ``G_TLS_GNUTLS_PRIORITY`` only picks ciphers. What works without touching the
  system: WebKitWebDriver started in a private user and mount namespace (``unshare --user
  --map-root-user --mount``) in which that file is a bind mount of the system bundle plus Caddy's
  root. Only the browser's processes see it; it is gone when they exit.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pytest

from fieldapp import create_app
from fieldapp.auth.services import create_collector
from fieldapp.extensions import db
from tests.conftest import PASSWORD, app_config
from tests.phone_run import LAN, RunPhone
from tests.webkit import SMALL_PHONE, WEBKIT_DRIVER, WebKitPhone, start_webkit, unavailable

pytestmark = [pytest.mark.browser, pytest.mark.webkit]

HSTS = "max-age=63072000"
SYSTEM_TRUST = Path("/etc/ssl/certs/ca-certificates.crt")  # GnuTLS's, compiled in (Debian)

#: A rectangle of an element in CSS px: [left, top, width, height], after scrolling it into view,
#: and the viewport's size.
_BOX = """
const el = arguments[0];
el.scrollIntoView({block: 'center', inline: 'nearest'});
const r = el.getBoundingClientRect();
return [r.left, r.top, r.width, r.height, innerWidth, innerHeight];
"""

_LINK = """
const norm = (s) => (s || "").replace(/\\s+/g, " ").trim();
return [...document.querySelectorAll("a[href]")].find((a) => norm(a.innerText) === arguments[0])
    || null;
"""


@pytest.fixture(scope="module")
def run_phone(tmp_path_factory, migrated_db):
    """The run-phone program alone, on a migrated database that already has the artist's account
    (whichever test runs first, or on another xdist worker, the other finds the same state)."""
    root = tmp_path_factory.mktemp("run-phone")
    shutil.copy(migrated_db, root / "fieldapp.sqlite3")
    app = create_app(app_config(root))
    with app.app_context():
        create_collector(db.session, "max", PASSWORD)
        db.session.commit()
        db.engine.dispose()
    running = RunPhone.program(root)
    try:
        running.start()
        yield running
    finally:
        running.stop()


def trusting_driver(root_certificate: Path, folder: Path) -> Path:
    """A WebKitWebDriver command that trusts `root_certificate` as the system does its own CAs:
    it runs in a namespace of its own where GnuTLS's system bundle also holds that root."""
    if shutil.which("unshare") is None:
        unavailable("util-linux's unshare is missing")
    probe = subprocess.run(
        ["unshare", "--user", "--map-root-user", "--mount", "true"],  # noqa: S607
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:
        unavailable(f"no user namespaces here: {probe.stderr.decode().strip()}")
    folder.mkdir(parents=True, exist_ok=True)
    bundle = folder / "ca-certificates.crt"
    bundle.write_bytes(SYSTEM_TRUST.read_bytes() + root_certificate.read_bytes())
    command = folder / "trusting-webkitwebdriver"
    inside = f'mount --bind "$0" {SYSTEM_TRUST} && exec {WEBKIT_DRIVER} "$@"'
    command.write_text(
        "#!/bin/sh\n"
        "exec unshare --user --map-root-user --mount "
        f'sh -c {shlex.quote(inside)} {shlex.quote(str(bundle))} "$@"\n'
    )
    command.chmod(0o755)
    return command


def link(phone: WebKitPhone, text: str):
    element = phone.evaluate(_LINK, text)
    assert element is not None, f"no link {text!r} on {phone.url}"
    return element


def test_webkit_at_360x640_reads_the_trust_page_and_downloads_the_laptops_root(
    webkit_environment, run_phone, tmp_path
):
    driver = start_webkit(webkit_environment, tmp_path / "webkit-profile", size=SMALL_PHONE)
    try:
        phone = WebKitPhone(driver, f"http://{LAN}:{run_phone.http_port}")
        phone.go("/phone")
        assert driver.title.startswith("Trust this laptop")
        for text in ("iPhone: download", "Open fieldapp"):
            element = link(phone, text)
            assert element.is_displayed(), text
            left, top, width, height, inner_width, inner_height = phone.evaluate(_BOX, element)
            assert height >= 48, (text, height)  # a thumb's target
            assert left >= 0 and left + width <= inner_width, (text, left, width)
            assert top >= 0 and top + height <= inner_height, (text, top, height)
        assert phone.evaluate("return document.documentElement.scrollWidth <= innerWidth")
        phone.evaluate("scrollTo(0, 0)")
        phone.screenshot("run-phone-webkit-trust-360x640")

        # What Safari would hand to Settings is Caddy's root itself.
        href = phone.evaluate("return arguments[0].href", link(phone, "iPhone: download"))
        assert href == f"http://{LAN}:{run_phone.http_port}/phone/root.crt"
        with urllib.request.urlopen(href, timeout=15) as response:  # noqa: S310 - our own page
            assert response.read() == run_phone.root_certificate.read_bytes()

        # Before the steps are done WebKit does not open the app: the laptop is not trusted.
        # (WebDriver's navigation waits until the load has failed; a tap would not.)
        app_url = phone.evaluate("return arguments[0].href", link(phone, "Open fieldapp"))
        assert app_url == f"{run_phone.https_url}/"
        phone.go(app_url + "login")  # a page with a password field, once it loads
        assert "Log in" not in driver.title
        assert phone.evaluate("return document.querySelector('input[type=password]')") is None
        assert phone.console_errors() == []
    finally:
        driver.quit()


@pytest.mark.parametrize("trust", ["trusts the root", "accepts insecure certificates"])
def test_webkit_uses_the_app_over_caddys_https_with_its_service_worker(
    webkit_environment, run_phone, tmp_path, trust
):
    if trust == "trusts the root":
        command = trusting_driver(run_phone.root_certificate, tmp_path / "trust")
        driver = start_webkit(webkit_environment, tmp_path / "webkit-profile", driver_path=command)
    else:
        driver = start_webkit(
            webkit_environment, tmp_path / "webkit-profile", accept_insecure_certs=True
        )
    try:
        phone = WebKitPhone(driver, run_phone.https_url)
        phone.go("/login")
        assert phone.url == f"{run_phone.https_url}/login"
        phone.fill_label("Username", "max")
        phone.fill_label("Password", PASSWORD)
        phone.click_text("Log in")
        phone.until("location.pathname === '/'")

        cookies = {cookie["name"]: cookie for cookie in driver.get_cookies()}
        assert cookies["session"]["secure"] and cookies["session"]["httpOnly"]
        assert all(cookie["secure"] for cookie in cookies.values()), cookies
        hsts = phone.evaluate_async(
            "return (await fetch('/healthz')).headers.get('Strict-Transport-Security')"
        )
        assert hsts == HSTS
        assert phone.evaluate("return isSecureContext")
        scope = phone.evaluate_async("return (await navigator.serviceWorker.ready).scope")
        assert scope == f"{run_phone.https_url}/"
        phone.until("navigator.serviceWorker.controller !== null")
        assert phone.console_errors() == []
    finally:
        driver.quit()
