"""Templates' url_for(), memoized: a link a page has drawn before costs a dictionary lookup.

A page draws a dozen links (stylesheets, icons, the menu, its own routes) and Flask builds each
one from the URL map every time, which is a tenth of the participant page's time
(bench/load.py). A link that is not external (no `_external`, no `_scheme`) and does not use
the current blueprint's shorthand (".name") depends on its endpoint, its values and the prefix
the app is mounted under (a reverse proxy's X-Forwarded-Prefix, `request.script_root`), since
the app matches neither hosts nor subdomains. That is the key of the memo; anything else goes
to Flask as it is.
"""

from __future__ import annotations

from functools import lru_cache

from flask import Flask, has_request_context, request

#: Links kept per process: every public page's links, plus a few per recently opened drawing.
LINKS_KEPT = 4096


def register(app: Flask) -> None:
    """Call it last in create_app(): it checks what the app's routes are registered with."""
    if (
        app.url_map.host_matching
        or app.subdomain_matching
        or any(app.url_default_functions.values())
    ):
        return  # a link could then depend on the request: leave Flask's as it is
    build = app.url_for

    @lru_cache(maxsize=LINKS_KEPT)
    def memoized(script_root: str, endpoint: str, values: tuple) -> str:
        return build(endpoint, **dict(values))

    def url_for(endpoint: str, **values) -> str:
        if (
            "_external" in values
            or "_scheme" in values
            or endpoint[:1] == "."
            or not has_request_context()
        ):
            return build(endpoint, **values)
        try:
            return memoized(request.script_root, endpoint, tuple(values.items()))
        except TypeError:  # an unhashable value (a list for a repeated query argument)
            return build(endpoint, **values)

    app.jinja_env.globals["url_for"] = url_for
