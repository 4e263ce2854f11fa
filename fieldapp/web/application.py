"""The Flask class fieldapp runs on: Flask's own, less two costs it pays on every request.

Both were measured on the participant page, the page a whole room opens at once
(bench/load.py): together a tenth of its time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask

from fieldapp.web.templating import Environment

#: Hooks, views and error handlers whose answer ensure_sync() keeps: every one the app has.
SYNC_KEPT = 1024


class FieldApp(Flask):
    jinja_environment = Environment  # globals read without a copy per render (web/templating.py)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync_kept: dict[Callable[..., Any], Callable[..., Any]] = {}

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's answer, kept per function. Flask asks it before calling each hook and the
        view, a dozen times a request, and the answer (is it a coroutine function?) never
        changes; Flask documents this method as the one to override."""
        kept = self._sync_kept
        try:
            return kept[func]
        except KeyError:
            answer = super().ensure_sync(func)
            if len(kept) < SYNC_KEPT:
                kept[func] = answer
            return answer
        except TypeError:  # an unhashable callable
            return super().ensure_sync(func)
