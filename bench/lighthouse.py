"""Lighthouse (mobile) on the capture, participant, gallery and pamphlet pages.

Goals: performance at least 95, accessibility 100, best practices 100. The app runs on
127.0.0.1 with a drawing in the gallery; the capture page is opened logged in (the session
cookie passed to Lighthouse). Lighthouse comes from npm, Chromium from Debian:

    npm install --prefix bench            # once: bench/package.json pins lighthouse
    .venv/bin/python bench/lighthouse.py [--keep-reports DIR]
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.instance import PASSWORD, USERNAME  # noqa: E402

LIGHTHOUSE = ROOT / "bench" / "node_modules" / "lighthouse" / "cli" / "index.js"
GOALS = {"performance": 95, "accessibility": 100, "best-practices": 100}


def start_app() -> tuple[str, str, int]:
    """Serve a fresh app with one drawing in the gallery; returns (url, its token, its number)."""
    from bench.instance import serve, throwaway_app
    from tests.factories import make_encounter, number_of, token_of
    from tests.photo_corpus import camera_jpeg

    app = throwaway_app("lighthouse")
    photo = camera_jpeg(orientation=1, gps=False, size=(1512, 2016))
    client_uuid = make_encounter(app, photo=photo, credit_name="Ana Lima")
    url, _server = serve(app)
    return url, token_of(app, client_uuid), number_of(app, client_uuid)


def session_cookie(url: str) -> str:
    """Log in through the real form; returns the Cookie header of the logged-in session."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    login = opener.open(f"{url}/login").read().decode()
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', login).group(1)
    form = {"username": USERNAME, "password": PASSWORD, "csrf_token": csrf}
    opener.open(f"{url}/login", data=urllib.parse.urlencode(form).encode())
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in jar)


def lighthouse(url: str, report: Path, cookie: str | None) -> dict:
    command = [
        "node", str(LIGHTHOUSE), url, "--quiet", "--output=json", f"--output-path={report}",
        "--only-categories=performance,accessibility,best-practices",
        "--chrome-flags=--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage",
    ]  # fmt: skip
    if cookie:
        command.append(f"--extra-headers={json.dumps({'Cookie': cookie})}")
    subprocess.run(  # noqa: S603 - our own command line
        command, check=True, env={**os.environ, "CHROME_PATH": "/usr/bin/chromium"}
    )
    return json.loads(report.read_text())


def findings(result: dict, category: str) -> list[str]:
    """The audits of a category that did not pass, with their titles."""
    failing = []
    for ref in result["categories"][category]["auditRefs"]:
        audit = result["audits"][ref["id"]]
        if ref["weight"] > 0 and audit["score"] is not None and audit["score"] < 1:
            failing.append(f"{audit['id']} ({audit['score']:.2f}): {audit['title']}")
    return failing


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep-reports", type=Path, help="write the JSON reports here")
    args = parser.parse_args()
    if not LIGHTHOUSE.exists():
        sys.exit("Lighthouse is missing: npm install --prefix bench")
    url, token, number = start_app()
    cookie = session_cookie(url)
    pages = {
        "capture": (f"{url}/encounters/new", cookie),
        "participant": (f"{url}/p/{token}", None),
        "gallery": (f"{url}/gallery", None),
        "pamphlet": (f"{url}/pamphlet", None),
    }
    reports = args.keep_reports or Path(tempfile.mkdtemp(prefix="lighthouse-"))
    reports.mkdir(parents=True, exist_ok=True)
    print(f"{'page':<13}" + "".join(f"{name:>16}" for name in GOALS))
    met, notes = True, []
    for name, (page_url, page_cookie) in pages.items():
        result = lighthouse(page_url, reports / f"{name}.json", page_cookie)
        scores = {c: round(result["categories"][c]["score"] * 100) for c in GOALS}
        met = met and all(scores[c] >= goal for c, goal in GOALS.items())
        print(f"{name:<13}" + "".join(f"{scores[c]:>16}" for c in GOALS))
        for category in GOALS:
            if scores[category] < GOALS[category]:
                notes += [f"  {name} / {category}: {f}" for f in findings(result, category)]
    print("\n".join(notes))
    print(f"goals (performance >= 95, accessibility 100, best practices 100): "
          f"{'met' if met else 'MISSED'}; reports in {reports}")  # fmt: skip
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
