"""How pages are rendered cheaply: the Jinja environment, links, and the site's chrome.

Measured on the participant page, the page a whole room opens at once (bench/load.py):

- Templates read the environment's globals without copying them per render (`Environment`).
- Templates' url_for() is memoized: a link a page has drawn before costs a dictionary lookup.
  Flask builds each of a page's dozen links from the URL map every time. A link that is not
  external (no `_external`, no `_scheme`) and does not use the current blueprint's shorthand
  (".name") depends on its endpoint, its values and the prefix the app is mounted under (a
  reverse proxy's X-Forwarded-Prefix, `request.script_root`), since the app matches neither
  hosts nor subdomains. That is the key of the memo; anything else goes to Flask as it is.
- `fragment(name)` renders a template made only of such links and text once per prefix (the
  head's links, the public menu). It sees no request, session or current user (rendered
  without Flask's context processors), so nothing private can be frozen into it; the
  collector's menu, which holds a CSRF token, is not a fragment.
"""

from __future__ import annotations

from functools import lru_cache

from flask import Flask, has_request_context, request
from flask.templating import Environment as FlaskEnvironment
from markupsafe import Markup

#: Links kept per process: every public page's links, plus a few per recently opened drawing.
LINKS_KEPT = 4096
#: Fragments kept per process: a few templates, times the prefixes the app is reached under.
FRAGMENTS_KEPT = 64


class Environment(FlaskEnvironment):
    """Flask's environment, where a template without globals of its own reads the environment's
    globals dictionary itself.

    Jinja gives every template a ChainMap over the environment's globals and copies it into each
    render's context; for our forty-odd globals that copy, and the one an imported macro makes,
    costs a tenth of the participant page (bench/load.py). Jinja asks not to change globals once a
    template is loaded (`make_globals`), and create_app() adds all of ours before any is.
    """

    def make_globals(self, d):
        if not d:
            return self.globals
        return super().make_globals(d)


def register(app: Flask) -> None:
    """Call it last in create_app(): it checks what the app's routes are registered with."""
    env = app.jinja_env
    # With host or subdomain matching, or URL defaults, a link could depend on the request, not
    # only on the prefix: links and fragments are then built anew each time, as Flask does.
    by_prefix = not (
        app.url_map.host_matching
        or app.subdomain_matching
        or any(app.url_default_functions.values())
    )

    def render_fragment(name: str) -> Markup:
        return Markup(env.get_template(name).render())  # noqa: S704 - autoescaped output

    @lru_cache(maxsize=FRAGMENTS_KEPT)
    def memoized_fragment(script_root: str, name: str) -> Markup:
        return render_fragment(name)

    def fragment(name: str) -> Markup:
        # Debug (auto_reload) renders it each time, so that an edited template shows at once.
        if not by_prefix or env.auto_reload or not has_request_context():
            return render_fragment(name)
        return memoized_fragment(request.script_root, name)

    env.globals["fragment"] = fragment
    if not by_prefix:
        return
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

    env.globals["url_for"] = url_for
