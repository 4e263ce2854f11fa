"""The collector's phone in either engine, for tests that must pass in both.

`ChromiumPhone` gives a Playwright page the verbs of `tests.webkit.WebKitPhone` (go, evaluate,
evaluate_async, until, click, click_text, fill, fill_label, set_file, visible, text, element_png,
screenshot, resize), so that `FieldFlow` — the app's own steps (create the account, wait for the
ticket stock, make an encounter, read the outbox) — is written once and runs in real Chromium
and in real WebKit. The phone talks to the app through a `NetProxy` (tests/netproxy.py), which
is how both engines lose the network: WebDriver has no offline switch.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

from PIL import Image

SCREENS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screens"
PASSWORD = "a long field password"
TICKET_STOCK = 10
CLICKABLE = "button, a[href], input[type=submit], [role=button], summary"


def until(page, expression: str, timeout: float = 20.0, every: float = 0.25):
    """Evaluate `expression` (it may be async) until it is truthy; page.wait_for_function cannot
    wait for a promise."""
    deadline = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        time.sleep(every)


class ChromiumPhone:
    """A Playwright page with the verbs of WebKitPhone (tests/webkit.py)."""

    engine = "chromium"

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url.rstrip("/")

    def go(self, path: str) -> None:
        self.page.goto(path if "://" in path else self.base_url + path)

    @property
    def path(self) -> str:
        url = self.page.url
        return url[len(self.base_url) :] if url.startswith(self.base_url) else url

    def evaluate(self, js_body: str, *args):
        return self.page.evaluate(
            f"(__args) => (function () {{ {js_body} }}).apply(null, __args)", list(args)
        )

    def evaluate_async(self, js_body: str, *args, timeout: float = 30):
        return self.page.evaluate(
            f"async (__args) => (async function () {{ {js_body} }}).apply(null, __args)",
            list(args),
        )

    def until(self, expression: str, timeout: float = 20.0, every: float = 0.25):
        body = (
            f"const __v = ({expression}); return await (typeof __v === 'function' ? __v() : __v);"
        )
        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                last = self.evaluate_async(body)
                if last:
                    return last
            except Exception as error:  # a navigation, a script not loaded yet: not yet
                last = error
            if time.monotonic() > deadline:
                raise AssertionError(f"still not true after {timeout} s ({last!r}): {expression}")
            time.sleep(every)

    def _visible(self, css: str):
        return self.page.locator(css).filter(visible=True).first

    def find(self, css: str, timeout: float = 10.0):
        locator = self._visible(css)
        locator.wait_for(timeout=timeout * 1000)
        return locator

    def visible(self, css: str) -> bool:
        return self.page.locator(css).filter(visible=True).count() > 0

    def wait_visible(self, css: str, timeout: float = 10.0) -> None:
        self.find(css, timeout)

    def text(self, css: str, timeout: float = 10.0) -> str:
        return self.page.locator(css).first.inner_text(timeout=timeout * 1000)

    def click(self, css: str, timeout: float = 10.0) -> None:
        self.find(css, timeout).click()

    def click_text(self, text: str, timeout: float = 10.0) -> None:
        candidates = self.page.locator(CLICKABLE).filter(visible=True)
        exact = candidates.filter(has_text=_exactly(text))
        exact.first.click(timeout=timeout * 1000)

    def fill(self, css: str, text: str) -> None:
        self.find(css).fill(text)

    def fill_label(self, label: str, text: str) -> None:
        self.page.get_by_label(label, exact=True).fill(text)

    def set_file(self, css: str, path) -> None:
        self.page.locator(css).set_input_files(str(path))

    def element_png(self, css: str) -> bytes:
        return self.find(css).screenshot()

    def screenshot(self, name: str, full_page: bool = True) -> Path:
        SCREENS.mkdir(parents=True, exist_ok=True)
        path = SCREENS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path

    def resize(self, width: int, height: int) -> None:
        self.page.set_viewport_size({"width": width, "height": height})

    def reload(self) -> None:
        self.page.reload()


class WebKitFieldPhone:
    """Mixed into tests.webkit.WebKitPhone by `webkit_phone_class()`: what the field tests add."""

    engine = "webkit"

    def reload(self) -> None:
        self.driver.refresh()


def webkit_phone(driver, base_url: str):
    """A WebKitPhone with the verbs above."""
    from tests.webkit import WebKitPhone

    phone_class = type("FieldWebKitPhone", (WebKitFieldPhone, WebKitPhone), {})
    return phone_class(driver, base_url)


def open_field(request, engine: str, server, net_proxy) -> FieldFlow:
    """A new collector's phone in `engine` ("chromium" or "webkit"), logged in, its ticket stock
    full, talking to `server` through `net_proxy`."""
    if engine == "chromium":
        phone = ChromiumPhone(request.getfixturevalue("page"), net_proxy.url)
    else:
        phone = webkit_phone(request.getfixturevalue("webkit_driver"), net_proxy.url)
    flow = FieldFlow(phone, server)
    flow.engine = engine
    flow.create_account()
    flow.wait_until_ready()
    return flow


def check_console(flow: FieldFlow) -> None:
    """WebKit's pages keep their CSP violations for the test to check (Chromium's `context`
    fixture fails the test by itself)."""
    if flow.engine == "webkit":
        violations = flow.phone.csp_violations()
        assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)


def answer(phone, choice: str, yes: bool) -> None:
    """Tap Yes or No of one consent choice."""
    phone.click(f"[data-choice={choice}] label:has(input[value={'yes' if yes else 'no'}])")


def _exactly(text: str):
    import re

    return re.compile(rf"^\s*{re.escape(text)}\s*$")


class FieldFlow:
    """The app's steps on a phone of either engine (ChromiumPhone or WebKitPhone)."""

    def __init__(self, phone, server):
        self.phone = phone
        self.server = server
        self.taps = 0

    def tap_text(self, text: str) -> None:
        self.taps += 1
        self.phone.click_text(text)

    def tap(self, css: str) -> None:
        self.taps += 1
        self.phone.click(css)

    def create_account(self) -> None:
        phone = self.phone
        phone.go("/")
        phone.fill_label("Username", "max")
        phone.fill_label("Password", PASSWORD)
        phone.fill_label("Password again", PASSWORD)
        phone.click_text("Create account")
        phone.until(
            "location.pathname === '/' && document.getElementById('home-drawings') !== null"
        )

    def wait_until_ready(self, stock: int = TICKET_STOCK) -> None:
        """The service worker controls the page and the ticket stock is full."""
        self.phone.until("navigator.serviceWorker.controller !== null", timeout=30)
        self.phone.until(
            f"async () => (await FieldStore.listTickets()).filter((t) => t.qr_svg).length === {stock}",
            timeout=30,
        )

    def outbox(self) -> list[dict]:
        return self.phone.evaluate_async(
            """return (await FieldStore.listRecords()).map((r) => ({
                 uuid: r.uuid, state: r.state, status: r.data.status, error: r.error,
                 number: r.ticket && r.ticket.number, token: r.ticket && r.ticket.token,
                 photo_bytes: r.photo ? r.photo.size : 0, name: r.data.credit && r.data.credit.name }));"""
        )

    def tickets(self) -> list[dict]:
        return self.phone.evaluate_async(
            "return (await FieldStore.listTickets()).map(({number, token}) => ({number, token}));"
        )

    def draft(self):
        return self.phone.evaluate_async(
            """const d = await FieldStore.getDraft();
               return d && {step: d.step, values: d.values, photo_bytes: d.photo ? d.photo.buffer.byteLength : 0};"""
        )

    def wait_for_empty_outbox(self, timeout: float = 30) -> None:
        self.phone.until(
            "async () => { await FieldApp.sync(true); return (await FieldStore.listRecords()).length === 0; }",
            timeout=timeout,
            every=0.5,
        )

    def wait_step(self, name: str, timeout: float = 20.0) -> None:
        """Wait until the capture flow shows step `name` (venue, consent, timer, photo)."""
        self.phone.until(
            f"document.querySelector('.step.current').dataset.step === '{name}'", timeout=timeout
        )

    def value(self, element_id: str):
        """A form control's value (its checked state for a checkbox), or the answer chosen in
        the radio group of that name ("" for none)."""
        return self.phone.evaluate(
            "const e = document.getElementById(arguments[0]);"
            " if (!e) return document.querySelector(`input[name=${arguments[0]}]:checked`)?.value || '';"
            " return e.type === 'checkbox' ? e.checked : e.value;",
            element_id,
        )

    def step(self) -> str:
        return self.phone.evaluate(
            "const s = document.querySelector('.step.current'); return s ? s.dataset.step : null;"
        )

    # The capture flow, a step at a time ---------------------------------------------------

    def venue(self, *, first: bool = False) -> None:
        phone = self.phone
        phone.until("document.querySelector('.step.current') !== null")
        if phone.visible("#venue-offer"):
            self.tap_text("Still here")
            return
        if first:  # the first one on this phone has no venue to remember
            phone.evaluate(
                "const s = document.getElementById('venue_type'); s.value = 'party';"
                " s.dispatchEvent(new Event('change', {bubbles: true}));"
            )
            phone.fill("#venue", "Julia's birthday")
            phone.fill("#city", "Brooklyn")
        self.tap_text("Confirm venue")

    def consent(
        self,
        *,
        keep: bool = True,
        name: str | None = "Julia R.",
        adult: bool = True,
        gallery: bool = True,
        training: bool = False,
        social: bool = False,
    ) -> None:
        """The drawer's own answers (not the collector's taps): the age group, then yes or no
        to each choice (none is answered for them), then the credit."""
        phone = self.phone
        phone.wait_visible("#consent-age")
        phone.click("label:has(#age-adult)" if adult else "label:has(#age-minor)")
        phone.wait_visible("#consent-choices")
        answer(phone, "keep", keep)
        if keep:
            answer(phone, "gallery", gallery)
            if adult:
                answer(phone, "training", training)
                answer(phone, "social", social)
            if name is not None and adult:
                phone.click("[data-choice=credit] label:has(input[value=name])")
                phone.fill("#credit_name", name)

    def draw(self, *, timed: bool = True) -> None:
        phone = self.phone
        phone.wait_visible("#h-timer")
        if not timed:
            self.tap_text("Skip the timer")
            return
        self.tap("label.chip:has(input[value='60'])")
        time.sleep(1.1)
        self.tap_text("Done drawing")

    def take_photo(self, photo: Path) -> None:
        self.phone.wait_visible("#h-photo")
        self.phone.set_file("#photo", photo)  # the shutter: not a tap of the app's
        self.phone.wait_visible("#preview")
        self.phone.wait_visible("#finish")

    def make_encounter(self, photo: Path | None, *, first: bool = False, name="Julia R.") -> None:
        """New encounter → venue → consent → timer → photo → handoff, counting the taps."""
        self.tap_text("New encounter")
        self.venue(first=first)
        self.consent(keep=photo is not None, name=name)
        self.tap_text("Done: back to the artist")
        self.draw(timed=photo is not None)
        if photo is not None:
            self.take_photo(photo)
        self.tap_text("Show the QR code")
        self.phone.wait_visible("#handoff")

    def handoff_qr(self, css: str = "#handoff-qr") -> str:
        """What a drawer's phone reads from the QR code on screen (zbar)."""
        from pyzbar import pyzbar

        self.phone.until(
            f"async () => {{ const img = document.querySelector('{css}');"
            " if (!img.complete || !img.naturalWidth) return false;"
            " await img.decode(); return true; }"
        )
        # A phone's camera reads frame after frame: the first one may predate the image's paint
        # (WebKit under a busy machine), so look again for a few seconds before giving up.
        deadline = time.monotonic() + 5
        while True:
            png = self.phone.element_png(css)
            decoded = pyzbar.decode(Image.open(io.BytesIO(png)))
            if decoded or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        if len(decoded) != 1:
            SCREENS.mkdir(parents=True, exist_ok=True)
            (SCREENS / "unreadable-qr.png").write_bytes(png)
        assert len(decoded) == 1, (
            f"{len(decoded)} QR codes read in {css} (test-artifacts/screens/unreadable-qr.png)"
        )
        return decoded[0].data.decode()

    def server_count(self, where: str = "1=1") -> int:
        return self.server.scalar(f"SELECT count(*) FROM encounters WHERE {where}")  # noqa: S608


def dump(value) -> str:
    return json.dumps(value, indent=1, default=str)
