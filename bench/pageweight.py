"""Page weight of the capture flow on a phone's first visit, compressed as the proxy sends it.

A collector who is logged in opens the capture page on a Pixel 7 (Playwright, Debian's
Chromium) with an empty cache; everything the server sends until the network is quiet counts:
the page, CSS, JavaScript, manifest, icons, the service worker and what it precaches, and the
API calls that fill the ticket stock. Each response body is recorded on the server and
gzip-compressed at level 5, as Caddy's `encode zstd gzip` sends it to a browser without zstd
(zstd is smaller); images are counted as they are. Photos are excluded (none is loaded here).
Goal: under 60 KB.

    .venv/bin/python bench/pageweight.py
"""

from __future__ import annotations

import gzip
import re
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_KB = 60
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip
COMPRESSIBLE = re.compile(r"text/|javascript|json|xml|svg|manifest")
QR_CODE = re.compile(r"/p/[^/]+/qr\.svg")


class Recorder:
    """WSGI middleware keeping (path, content type, body) of every response while on."""

    def __init__(self, app):
        self.app = app
        self.on = False
        self.responses: list[tuple[str, str, bytes]] = []
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        seen = {}

        def remember(status, headers, exc_info=None):
            seen["type"] = dict(headers).get("Content-Type", "")
            seen["status"] = status
            return start_response(status, headers, exc_info)

        body = b"".join(self.app(environ, remember))
        if self.on:
            with self.lock:
                self.responses.append((environ["PATH_INFO"], seen.get("type", ""), body))
        return [body]


def wire_size(content_type: str, body: bytes) -> int:
    if COMPRESSIBLE.search(content_type) and len(body) > 256:
        return len(gzip.compress(body, compresslevel=5))
    return len(body)


def main() -> int:
    from playwright.sync_api import sync_playwright

    from bench.instance import PASSWORD, USERNAME, serve, throwaway_app

    recorder = Recorder(throwaway_app("page-weight"))
    url, server = serve(recorder)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = browser.new_context(**playwright.devices["Pixel 7"])
        # Log in through the API of the context (cookies, not the HTTP cache), then start cold.
        login = context.request.get(f"{url}/login").text()
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
        context.request.post(
            f"{url}/login",
            form={"username": USERNAME, "password": PASSWORD, "csrf_token": csrf},
        )
        page = context.new_page()
        recorder.on = True
        page.goto(f"{url}/encounters/new", wait_until="networkidle")
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        page.wait_for_load_state("networkidle")
        page.wait_for_timeout(1500)  # let the worker finish its precache and the ticket refill
        recorder.on = False
        browser.close()
    server.shutdown()

    rows = [
        (path, kind, len(body), wire_size(kind, body)) for path, kind, body in recorder.responses
    ]
    assert any(path == "/encounters/new" for path, *_ in rows), "the capture page was not loaded"
    print(f"{'path':<44}{'type':<26}{'raw':>9}{'gzip':>9}")
    for path, kind, raw, wire in sorted(rows, key=lambda r: -r[3]):
        print(f"{path[:43]:<44}{kind.split(';')[0][:25]:<26}{raw:>9}{wire:>9}")
    # The ticket stock: the QR code of each portrait number the phone keeps for offline capture.
    stock = sum(wire for path, _, _, wire in rows if QR_CODE.fullmatch(path))
    total_raw, total = sum(r[2] for r in rows), sum(r[3] for r in rows)
    print(f"{len(rows)} responses: {total_raw / 1024:.1f} KB raw, {total / 1024:.1f} KB compressed")
    print(f"  of which the ticket stock's QR codes: {stock / 1024:.1f} KB; "
          f"everything else: {(total - stock) / 1024:.1f} KB")  # fmt: skip
    met = total < GOAL_KB * 1024
    print(f"goal: the whole first visit under {GOAL_KB} KB: {'met' if met else 'MISSED'}")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
