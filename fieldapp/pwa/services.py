"""What the service worker precaches, and the version that names its cache."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fieldapp.pwa.icons import ICONS, icon_png

# Everything the capture flow needs with no network. Pages are the collector's: the worker fetches
# them with the session cookie and keeps them only when the answer is a real page.
STATIC_FILES = (
    "css/app.css",
    "js/store.js",
    "js/sync.js",
    "js/app.js",
    "js/capture.js",
    "js/home.js",
    "js/outbox.js",
    "js/qrcodes.js",
    "js/rescue.js",
    "js/downsize.js",
)
PAGES = ("/", "/encounters/new", "/outbox")
OFFLINE_PAGE = "/offline"


@dataclass(frozen=True)
class Precache:
    version: str  # changes whenever a precached file or the worker itself changes
    static: tuple[str, ...]  # URLs that must all be cached for the worker to install
    pages: tuple[str, ...]  # URLs cached when the collector is logged in


def precache(static_root: str, worker_source: str, static_url: str) -> Precache:
    """The precache list and its version: a hash of every byte the worker will cache."""
    stamps = tuple((Path(static_root) / name).stat().st_mtime_ns for name in STATIC_FILES)
    return _precache(static_root, worker_source, static_url, stamps)


@cache
def _precache(static_root: str, worker_source: str, static_url: str, _stamps: tuple) -> Precache:
    digest = hashlib.sha256(worker_source.encode())
    for name in STATIC_FILES:
        digest.update(name.encode())
        digest.update((Path(static_root) / name).read_bytes())
    for name in ICONS:
        digest.update(icon_png(name))
    static = tuple(f"{static_url}/{name}" for name in STATIC_FILES) + tuple(
        f"/icons/{name}" for name in ICONS
    )
    static += ("/manifest.webmanifest", OFFLINE_PAGE)
    return Precache(version=digest.hexdigest()[:16], static=static, pages=PAGES)


def manifest() -> dict:
    """The web app manifest: what the phone needs to install the app on its home screen."""
    return {
        "id": "/",
        "name": "Let Me Collect Myself — fieldapp",
        "short_name": "fieldapp",
        "description": "Record drawing encounters, consent and photos, with or without a network.",
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#111111",
        "theme_color": "#111111",
        "icons": [
            {"src": f"/icons/{name}", "sizes": f"{spec.size}x{spec.size}", "type": "image/png",
             "purpose": spec.purpose}
            for name, spec in ICONS.items()
        ],
    }  # fmt: skip
