"""Real WebKit (WebKitGTK, Safari's engine) for browser tests: Debian's WebKitWebDriver driven by
Selenium, in an X display of our own (Xvfb).

Fixtures (exposed in tests/conftest.py): ``webkit_environment`` (session: the X display),
``webkit_driver`` (a fresh browser per test), ``webkit_phone`` (a `WebKitPhone` on the live
``server``). Mark such tests ``@pytest.mark.webkit`` (and ``browser``).

What WebKitGTK 2.50 (Debian 12) does here, found by trying:

- It needs an X display: without ``DISPLAY`` the browser dies ("cannot open display") and
  WebKitWebDriver waits for it forever. Its MiniBrowser has **no** ``--headless`` option: passed
  through ``Options.add_argument`` it makes MiniBrowser exit ("Unknown option --headless") and the
  new session hangs. ``opts.set_capability("webkitgtk:browserOptions", ...)`` is silently
  overwritten by Selenium's ``Options.to_capabilities()`` (it rebuilds that key from
  ``add_argument``), which is why such a recipe seemed to work. Arguments given replace the
  driver's default ``--automation``: without it the session is refused ("Failed to match
  capabilities"). MiniBrowser's own options work (``--automation --user-agent=...`` does change
  the user agent). So: no arguments at all, and Xvfb.
- A WebDriver session is an **ephemeral** profile (MiniBrowser in automation mode): nothing is
  written to disk, and a new session starts with no cookies, storage, IndexedDB, caches or service
  workers. Each test still gets its own HOME/XDG_DATA_HOME in its tmp_path, to be sure.
- Because the profile is ephemeral (private browsing), ``put()`` of a ``Blob``/``File`` into
  IndexedDB aborts with "UnknownError: Error preparing Blob/File data to be stored in object
  store"; an ``ArrayBuffer`` stores fine. The same MiniBrowser with a persistent profile (no
  ``--automation``) stores Blobs fine; with ``--private`` it fails the same way. So this is
  Safari's *private browsing* behaviour, not every Safari's.
- MiniBrowser's toolbar keeps the window at least 447 px wide. We shrink it with a GTK stylesheet
  (XDG_CONFIG_HOME/gtk-3.0/gtk.css) so the window can be phone-narrow, and size the *window* so
  that the page's ``innerWidth × innerHeight`` is what the test asked (390 × 844 by default).
  Viewport meta tags are ignored (desktop WebKit): the layout width is the window's width, the
  device pixel ratio is 1, there is no touch, and the user agent is desktop Linux Safari.
- Screenshots are of the viewport only; `WebKitPhone.screenshot` makes a full-page one by growing
  the window to the page's height (windows may be taller than the X screen), then restores the
  size. WebDriver's *element* screenshot is wrong here (all black, or offset by the toolbar):
  `WebKitPhone.element_png` crops a viewport screenshot instead (device pixel ratio 1). A
  screenshot taken right after a change to the page can show the previous frame: both wait for
  two animation frames first.
- No browser logs: ``get_log`` does not exist for this driver, WebDriver BiDi is refused
  ("Failed to match capabilities" with ``webSocketUrl``), and
  ``--enable-write-console-messages-to-stdout=true`` prints nothing under automation.
  `WebKitPhone` installs a small hook in each page it touches (console.error, uncaught errors,
  unhandled rejections, CSP violations); what happens before the hook is in place (while the page
  loads) is not seen.
- ``send_keys(path)`` on ``<input type=file>`` works, even on an ``opacity: 0`` input inside a
  label or inside a ``display: none`` step, and fires ``change``. Clicking such an input (or its
  label) opens nothing: the automation session cancels the chooser, no ``change``.
- Certificates: an untrusted one makes a load fail silently (no page to click through).
  ``start_webkit(accept_insecure_certs=True)`` loads it as a secure context (service workers
  register); trusting a CA as a phone does needs GnuTLS's system bundle itself, which a driver
  in a private mount namespace can be given (tests/test_phone_webkit.py).
- ``execute_script`` is not subject to the page's Content-Security-Policy (no ``unsafe-eval``
  needed); ``execute_async_script``'s callback is its **last** argument.
"""

from __future__ import annotations

import contextlib
import io
import os
import select
import shutil
import subprocess
import threading
import time
import warnings
from pathlib import Path

import pytest
from PIL import Image

WEBKIT_DRIVER = "/usr/bin/WebKitWebDriver"
XVFB = "Xvfb"
IPHONE_13 = (390, 844)  # CSS px, the default viewport
SMALL_PHONE = (360, 640)
SCREENS = Path(__file__).resolve().parent.parent / "test-artifacts" / "screens"
START_TIMEOUT = 60  # s for a new session; a browser that cannot start makes the driver wait forever

# MiniBrowser's toolbar, made small enough for a 360 px window; the page's own rendering is WebKit's,
# not GTK's, so this does not touch what is tested.
GTK_CSS = """
* { font-size: 4px; }
button, entry, toolbar, headerbar, box, image {
  min-width: 0; min-height: 0; padding: 0; margin: 0; border-width: 0;
}
image { -gtk-icon-transform: scale(0.25); }
"""


def unavailable(reason: str):
    """Skip, except in CI (the CI variable set) where the WebKit tests must run."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason}: `make test` installs it as root (make system-packages)")
    pytest.skip(f"{reason} (apt-get install webkit2gtk-driver xvfb)")


# The X display ------------------------------------------------------------------------------


class XDisplay:
    """An Xvfb server on a display number it picks itself (``-displayfd``: no race with another
    pytest-xdist worker or another user of this machine)."""

    def __init__(self, log_path: Path, size: str = "1280x1024x24"):
        read_end, write_end = os.pipe()
        self.log = open(log_path, "wb")  # noqa: SIM115  (closed in stop())
        self.process = subprocess.Popen(
            [XVFB, "-displayfd", str(write_end), "-screen", "0", size, "-nolisten", "tcp"],
            pass_fds=(write_end,),
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        os.close(write_end)
        try:
            number = self._read_number(read_end, timeout=20)
        finally:
            os.close(read_end)
        self.name = f":{number}"
        socket_path = Path(f"/tmp/.X11-unix/X{number}")  # noqa: S108  (X's fixed place)
        deadline = time.monotonic() + 10
        while not socket_path.exists():
            if time.monotonic() > deadline or self.process.poll() is not None:
                self.stop()
                raise RuntimeError(f"Xvfb {self.name}: no {socket_path}; see {log_path}")
            time.sleep(0.05)

    def _read_number(self, fd: int, timeout: float) -> int:
        data = b""
        deadline = time.monotonic() + timeout
        while not data.endswith(b"\n"):
            left = deadline - time.monotonic()
            ready, _, _ = select.select([fd], [], [], max(left, 0))
            chunk = os.read(fd, 64) if ready else b""
            if not chunk:
                self.stop()
                raise RuntimeError(f"Xvfb did not report its display (exit {self.process.poll()})")
            data += chunk
        return int(data)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


class WebKitEnvironment:
    """What every WebKit of this test run shares: the display, the GTK stylesheet, GTK's caches."""

    def __init__(self, display: str, root: Path):
        self.display = display
        self.root = root
        (root / "config" / "gtk-3.0").mkdir(parents=True, exist_ok=True)
        (root / "config" / "gtk-3.0" / "gtk.css").write_text(GTK_CSS)
        (root / "cache").mkdir(exist_ok=True)

    def env(self, profile: Path) -> dict[str, str]:
        environment = {
            key: value
            for key, value in os.environ.items()
            if key not in ("WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS")
        }
        environment.update(
            DISPLAY=self.display,
            GDK_BACKEND="x11",
            NO_AT_BRIDGE="1",  # no accessibility bus to look for
            HOME=str(profile),
            XDG_DATA_HOME=str(profile / "data"),
            XDG_CONFIG_HOME=str(self.root / "config"),
            XDG_CACHE_HOME=str(self.root / "cache"),  # mesa's and GStreamer's, not the web's
        )
        return environment


def _webkit_environment(tmp_path_factory):
    """Check what WebKit needs, start Xvfb when there is no DISPLAY; yields a WebKitEnvironment."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        unavailable("selenium is not installed (pip install -e '.[test]')")
    if not Path(WEBKIT_DRIVER).exists():
        unavailable(f"{WEBKIT_DRIVER} is missing")
    root = tmp_path_factory.mktemp("webkit")
    xvfb = None
    display = os.environ.get("DISPLAY")
    if not display:
        if shutil.which(XVFB) is None:
            unavailable(f"{XVFB} is missing and DISPLAY is not set")
        xvfb = XDisplay(root / "xvfb.log")
        display = xvfb.name
    try:
        yield WebKitEnvironment(display, root)
    finally:
        if xvfb is not None:
            xvfb.stop()


# The browser --------------------------------------------------------------------------------


def start_webkit(
    environment: WebKitEnvironment,
    profile: Path,
    size=IPHONE_13,
    *,
    accept_insecure_certs: bool = False,
    driver_path: str = WEBKIT_DRIVER,
):
    """A new WebKitGTK session (a fresh ephemeral profile) whose viewport is `size` CSS px.
    `accept_insecure_certs` is WebDriver's capability; `driver_path` may be a wrapper that execs
    WebKitWebDriver with the arguments it is given. Quit it with ``driver.quit()``. Its driver's log is
    ``profile / "webkitwebdriver.log"``."""
    from selenium import webdriver
    from selenium.webdriver.webkitgtk.options import Options
    from selenium.webdriver.webkitgtk.service import Service

    profile.mkdir(parents=True, exist_ok=True)
    service = Service(
        driver_path,
        env=environment.env(profile),
        log_output=str(profile / "webkitwebdriver.log"),
    )
    # No browser arguments: WebKitWebDriver adds --automation itself, and --headless does not
    # exist here (see the module's docstring).
    options = Options()
    if accept_insecure_certs:
        options.accept_insecure_certs = True

    def give_up() -> None:
        if getattr(service, "process", None) is not None:
            service.process.kill()

    watchdog = threading.Timer(START_TIMEOUT, give_up)
    watchdog.start()
    try:
        with warnings.catch_warnings():  # Selenium's own WebKitGTK class uses its deprecated API
            warnings.filterwarnings("ignore", "setting remote_server_addr", DeprecationWarning)
            driver = webdriver.WebKitGTK(options=options, service=service)
    finally:
        watchdog.cancel()
    try:
        driver.set_script_timeout(30)
        driver.get("about:blank")
        set_viewport(driver, *size)
    except BaseException:
        driver.quit()
        raise
    return driver


def viewport(driver) -> tuple[int, int]:
    width, height = driver.execute_script("return [innerWidth, innerHeight]")
    return width, height


def set_viewport(driver, width: int, height: int, timeout: float = 10.0) -> None:
    """Size the window so that the page's innerWidth × innerHeight is width × height. The
    resize is asynchronous: wait until the page sees it."""
    deadline = time.monotonic() + timeout
    while True:
        outer_w, outer_h, inner_w, inner_h = driver.execute_script(
            "return [outerWidth, outerHeight, innerWidth, innerHeight]"
        )
        if (inner_w, inner_h) == (width, height):
            return
        rect = driver.get_window_rect()
        # The toolbar's height (and any frame) is the difference between window and viewport,
        # once the page has caught up with the window's last size.
        if (outer_w, outer_h) == (rect["width"], rect["height"]):
            driver.set_window_rect(
                width=width + (outer_w - inner_w), height=height + (outer_h - inner_h)
            )
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"WebKit's viewport is {inner_w}×{inner_h}, not {width}×{height} "
                f"(window {rect['width']}×{rect['height']})"
            )
        time.sleep(0.05)


# A phone ------------------------------------------------------------------------------------


class WebKitScriptError(Exception):
    """A script run by `WebKitPhone.evaluate_async` threw (or its promise rejected)."""


_ASYNC_WRAPPER = """
const __done = arguments[arguments.length - 1];
const __args = Array.prototype.slice.call(arguments, 0, arguments.length - 1);
(async function () {
%s
}).apply(null, __args).then(
  (value) => __done({ok: true, value: value === undefined ? null : value}),
  (error) => __done({ok: false, name: (error && error.name) || "Error",
                     message: String((error && error.message) || error),
                     stack: String((error && error.stack) || "")}));
"""

_CONSOLE_HOOK = """
if (!window.__wkConsole) {
  const log = window.__wkConsole = [];
  const text = (value) => {
    if (value instanceof Error) return `${value.name}: ${value.message}`;
    if (typeof value === "object") { try { return JSON.stringify(value); } catch (e) {} }
    return String(value);
  };
  const error = console.error.bind(console);
  console.error = (...parts) => { log.push("console.error: " + parts.map(text).join(" ")); error(...parts); };
  addEventListener("error", (event) => {
    if (event.message) log.push(`error: ${event.message} at ${event.filename}:${event.lineno}`);
  });
  addEventListener("unhandledrejection", (event) => log.push("unhandledrejection: " + text(event.reason)));
  document.addEventListener("securitypolicyviolation", (event) => log.push(
    `CSP violation: ${event.violatedDirective} blocked ${event.blockedURI}`
    + ` at ${event.sourceFile}:${event.lineNumber}`));
}
"""

_FIND_BY_TEXT = """
const [wanted, selector] = arguments;
const norm = (s) => (s || "").replace(/\\s+/g, " ").trim();
const shown = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== "hidden";
const all = [...document.querySelectorAll(selector)].filter(shown);
const label = (el) => norm(el.tagName === "INPUT" ? el.value : el.innerText);
return all.find((el) => label(el) === wanted)
    || all.find((el) => norm(el.getAttribute("aria-label")) === wanted) || null;
"""

_FIND_BY_LABEL = """
const [wanted] = arguments;
const norm = (s) => (s || "").replace(/\\s+/g, " ").trim();
const label = [...document.querySelectorAll("label")].find((l) => norm(l.innerText) === wanted
    || norm(l.textContent) === wanted);
return label ? label.control : null;
"""

_WATCH_CHANGE = """
const input = arguments[0];
if (!input.__wkWatched) {
  input.__wkWatched = true;
  input.__wkChanges = 0;
  input.addEventListener("change", () => { input.__wkChanges += 1; });
}
return input.__wkChanges;
"""


class WebKitPhone:
    """One WebKit browser on `base_url` (the live server, or a NetProxy in front of it), with the
    few verbs browser tests need. Console errors and CSP violations of the pages it touches are
    collected in ``console`` (see `console_errors`)."""

    def __init__(self, driver, base_url: str):
        self.driver = driver
        self.base_url = base_url.rstrip("/")
        self.console: list[str] = []

    # Navigation and scripts --------------------------------------------------------------

    def go(self, path: str) -> None:
        """Load `path` (relative to base_url, or a full URL) and wait for its load event."""
        self._drain_console()
        self.driver.get(path if "://" in path else self.base_url + path)
        self._hook()

    @property
    def url(self) -> str:
        return self.driver.current_url

    @property
    def path(self) -> str:
        url = self.driver.current_url
        return url[len(self.base_url) :] if url.startswith(self.base_url) else url

    def evaluate(self, js_body: str, *args):
        """Run a synchronous function body (use `return`); `arguments[i]` are `args`."""
        return self.driver.execute_script(js_body, *args)

    def evaluate_async(self, js_body: str, *args, timeout: float = 30):
        """Run `js_body` as the body of an async function: it may `await`, and what it returns
        (JSON-able, or DOM elements) is the result; `arguments[i]` are `args`. A throw or a
        rejection raises WebKitScriptError with the JS name and message."""
        self._hook()
        self.driver.set_script_timeout(timeout)
        outcome = self.driver.execute_async_script(_ASYNC_WRAPPER % js_body, *args)
        if not outcome["ok"]:
            raise WebKitScriptError(f"{outcome['name']}: {outcome['message']}\n{outcome['stack']}")
        return outcome["value"]

    def until(self, expression: str, timeout: float = 20.0, every: float = 0.25):
        """Evaluate `expression` until it is truthy and return that value. It may be an
        expression (a promise is awaited) or a function such as ``async () => ...`` (called).
        Errors while polling (FieldStore not loaded yet, a navigation) count as not yet."""
        from selenium.common.exceptions import WebDriverException

        body = (
            f"const __v = ({expression});\nreturn await (typeof __v === 'function' ? __v() : __v);"
        )

        deadline = time.monotonic() + timeout
        last = None
        while True:
            try:
                last = self.evaluate_async(body, timeout=max(timeout, 5))
                if last:
                    return last
            except (WebKitScriptError, WebDriverException) as error:
                last = error
            if time.monotonic() > deadline:
                raise AssertionError(f"still not true after {timeout} s ({last!r}): {expression}")
            time.sleep(every)

    # Elements -----------------------------------------------------------------------------

    def find(self, css: str, timeout: float = 10.0, displayed: bool = True):
        """The first element matching `css`, waiting for it (and for it to be displayed)."""
        from selenium.webdriver.common.by import By

        deadline = time.monotonic() + timeout
        while True:
            found = self.driver.find_elements(By.CSS_SELECTOR, css)
            for element in found:
                if not displayed or element.is_displayed():
                    return element
            if time.monotonic() > deadline:
                state = "not displayed" if found else "not found"
                raise AssertionError(f"{css!r}: {state} after {timeout} s (at {self.url})")
            time.sleep(0.1)

    def visible(self, css: str) -> bool:
        from selenium.common.exceptions import StaleElementReferenceException
        from selenium.webdriver.common.by import By

        try:
            return any(e.is_displayed() for e in self.driver.find_elements(By.CSS_SELECTOR, css))
        except StaleElementReferenceException:
            return False

    def wait_visible(self, css: str, timeout: float = 10.0) -> None:
        self.find(css, timeout=timeout)

    def text(self, css: str, timeout: float = 10.0) -> str:
        """The rendered text of the first element matching `css` (waits for it to exist)."""
        return self.find(css, timeout=timeout, displayed=False).text

    def click(self, css_or_element, timeout: float = 10.0) -> None:
        """Click (a real pointer click) the first displayed element matching `css`."""
        self._hook()
        self._click(lambda: self._element(css_or_element, timeout), timeout, css_or_element)

    def click_text(self, text: str, timeout: float = 10.0) -> None:
        """Click the displayed button or link whose visible text (or aria-label) is `text`."""
        selector = (
            "button, a[href], input[type=submit], input[type=button], [role=button], [role=link],"
            " summary"
        )

        def locate():
            deadline = time.monotonic() + timeout
            while True:
                element = self.driver.execute_script(_FIND_BY_TEXT, text, selector)
                if element is not None:
                    return element
                if time.monotonic() > deadline:
                    raise AssertionError(f"no button or link {text!r} on {self.url}")
                time.sleep(0.1)

        self._hook()
        self._click(locate, timeout, text)

    def fill(self, css: str, text: str) -> None:
        """Replace the value of the input matching `css` by typing `text`."""
        self._hook()
        element = self.find(css)
        element.clear()
        element.send_keys(text)

    def fill_label(self, label: str, text: str, timeout: float = 10.0) -> None:
        """`fill` the control of the <label> whose text is exactly `label`."""
        deadline = time.monotonic() + timeout
        while (element := self.driver.execute_script(_FIND_BY_LABEL, label)) is None:
            if time.monotonic() > deadline:
                raise AssertionError(f"no field labelled {label!r} on {self.url}")
            time.sleep(0.1)
        self._hook()
        element.clear()
        element.send_keys(text)

    def log_in(self, password: str, username: str = "max") -> None:
        """Log in through the real /login form and wait for the home screen."""
        self.go("/login")
        self.fill_label("Username", username)
        self.fill_label("Password", password)
        self.click_text("Log in")
        self.until("location.pathname === '/'")

    def set_file(self, css: str, path: Path | str, timeout: float = 5.0) -> None:
        """Choose `path` in the file input matching `css` (hidden or not), as the camera or the
        file chooser would, and check that its `change` event fired."""
        element = self.find(css, displayed=False)
        before = self.driver.execute_script(_WATCH_CHANGE, element)
        element.send_keys(str(Path(path).resolve()))
        deadline = time.monotonic() + timeout
        while self.driver.execute_script(_WATCH_CHANGE, element) == before:
            if time.monotonic() > deadline:
                raise AssertionError(f"{css!r}: no change event after choosing {path}")
            time.sleep(0.05)

    # Screens and console ------------------------------------------------------------------

    def resize(self, width: int, height: int) -> None:
        set_viewport(self.driver, width, height)

    def screenshot(self, name: str, full_page: bool = True) -> Path:
        """Save test-artifacts/screens/<name>.png: the whole page (the window grown to its height
        for the shot) or only the viewport."""
        SCREENS.mkdir(parents=True, exist_ok=True)
        path = SCREENS / f"{name}.png"
        width, height = viewport(self.driver)
        total = self.driver.execute_script(
            "return Math.max(document.documentElement.scrollHeight,"
            " document.body ? document.body.scrollHeight : 0)"
        )
        if not full_page or total <= height:
            self._painted()
            self.driver.save_screenshot(str(path))
            return path
        scrolled = self.driver.execute_script("const y = scrollY; scrollTo(0, 0); return y;")
        try:
            set_viewport(self.driver, width, min(total, 16000))
            self._painted()
            self.driver.save_screenshot(str(path))
        finally:
            set_viewport(self.driver, width, height)
            self.driver.execute_script("scrollTo(0, arguments[0])", scrolled)
        return path

    def element_png(self, css: str) -> bytes:
        """A PNG of the first displayed element matching `css`, as drawn (scrolled into view;
        cropped from a viewport screenshot: WebKitGTK's element screenshot is unusable)."""
        element = self.find(css)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        self._painted()
        x, y, width, height = self.driver.execute_script(
            "const r = arguments[0].getBoundingClientRect(); return [r.x, r.y, r.width, r.height];",
            element,
        )
        with Image.open(io.BytesIO(self.driver.get_screenshot_as_png())) as shot:
            box = (round(x), round(y), round(x + width), round(y + height))
            buffer = io.BytesIO()
            shot.crop(box).save(buffer, "PNG")
        return buffer.getvalue()

    def console_errors(self) -> list[str]:
        """Console errors, uncaught errors, unhandled rejections and CSP violations seen so far
        in the pages this phone touched (only after its hook was installed in each page: not
        during a page's load; WebKitGTK's driver has no log to read instead)."""
        self._drain_console()
        return list(self.console)

    def csp_violations(self) -> list[str]:
        return [line for line in self.console_errors() if ": CSP violation: " in line]

    # internals ----------------------------------------------------------------------------

    def _painted(self) -> None:
        """Wait for two animation frames: a screenshot taken right after a change to the page can
        show the frame from before it."""
        self.driver.execute_async_script(
            "const done = arguments[arguments.length - 1];"
            "requestAnimationFrame(() => requestAnimationFrame(() => done(true)));"
        )

    def _hook(self) -> None:
        from selenium.common.exceptions import WebDriverException

        # A page in the middle of navigating refuses scripts: the next call hooks it.
        with contextlib.suppress(WebDriverException):
            self.driver.execute_script(_CONSOLE_HOOK)

    def _drain_console(self) -> None:
        from selenium.common.exceptions import WebDriverException

        try:
            found = self.driver.execute_script(
                "return window.__wkConsole ? window.__wkConsole.splice(0) : []"
            )
        except WebDriverException:
            return
        self.console.extend(f"{self.url}: {line}" for line in found)

    def _element(self, css_or_element, timeout: float):
        if isinstance(css_or_element, str):
            return self.find(css_or_element, timeout=timeout)
        return css_or_element

    def _click(self, locate, timeout: float, what) -> None:
        from selenium.common.exceptions import (
            ElementClickInterceptedException,
            ElementNotInteractableException,
            StaleElementReferenceException,
        )

        deadline = time.monotonic() + timeout
        while True:
            element = locate()
            try:
                self.driver.execute_script(
                    "arguments[0].scrollIntoView({block: 'center', inline: 'nearest'})", element
                )
                element.click()
                return
            except (
                ElementClickInterceptedException,
                ElementNotInteractableException,
                StaleElementReferenceException,
            ) as error:
                if time.monotonic() > deadline:
                    raise AssertionError(f"cannot click {what!r}: {error.msg}") from error
                time.sleep(0.1)


# Fixtures (imported by tests/conftest.py) ---------------------------------------------------


@pytest.fixture(scope="session")
def webkit_environment(tmp_path_factory):
    """The run's WebKitEnvironment: its X display (``.display``; Xvfb started for it unless
    DISPLAY is set, stopped at the end). Skips (fails under CI) without WebKitWebDriver, Xvfb or
    selenium."""
    yield from _webkit_environment(tmp_path_factory)


@pytest.fixture
def webkit_driver(request, webkit_environment, tmp_path):
    """A fresh WebKitGTK (Selenium WebDriver) with a 390×844 viewport; for another size,
    ``@pytest.mark.parametrize("webkit_driver", [SMALL_PHONE], indirect=True)``."""
    size = getattr(request, "param", None) or IPHONE_13
    driver = start_webkit(webkit_environment, tmp_path / "webkit-profile", size=size)
    yield driver
    driver.quit()


@pytest.fixture
def webkit_phone(webkit_driver, server) -> WebKitPhone:
    """A `WebKitPhone` on the live server; the test fails on CSP violations it saw."""
    phone = WebKitPhone(webkit_driver, server.url)
    yield phone
    violations = phone.csp_violations()
    assert not violations, "Content-Security-Policy violations:\n" + "\n".join(violations)
