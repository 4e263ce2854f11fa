"""Rendered HTML reused for the same input: the public gallery's pages.

The caller runs its query on every request and makes the key of everything the page is made
of (its rows, the raw query arguments, the prefix the app is mounted under); the same key gives
the same HTML, so a withdrawal or a changed choice, which changes the rows, shows at once. Only
for pages that read no session, no user and no message (the caller checks).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable


class RenderedPages:
    """The last `kept` pages rendered in this process, by key, least recently used dropped."""

    def __init__(self, kept: int) -> None:
        self.kept = kept
        self._pages: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: Hashable, render: Callable[[], str]) -> str:
        with self._lock:
            html = self._pages.get(key)
            if html is not None:
                self._pages.move_to_end(key)
                return html
        html = render()  # outside the lock: two threads may render the same page once each
        with self._lock:
            self._pages[key] = html
            while len(self._pages) > self.kept:
                self._pages.popitem(last=False)
        return html
