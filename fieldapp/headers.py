"""Response headers every page gets, the stricter ones of participant pages, and HTTPS/proxy.

- A Content-Security-Policy with no inline scripts or styles anywhere (templates load
  `static/js/*.js` and `static/css/*.css` only), no framing, no plugins.
- `Strict-Transport-Security` and `Secure` cookies whenever the request came over HTTPS, directly
  or through a trusted reverse proxy (`FIELDAPP_PROXY_HOPS` proxies, werkzeug's ProxyFix).
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.middleware.proxy_fix import ProxyFix

#: The policy of every response. `img-src blob: data:` are the photo previews and the QR codes
#: the phone keeps in IndexedDB; `worker-src` the service worker; nothing inline, nothing foreign.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob: data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "media-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
#: Every response's headers, unless its view set them.
PAGE_DEFAULTS = (
    ("Content-Security-Policy", CONTENT_SECURITY_POLICY),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Referrer-Policy", "same-origin"),
)
#: Participant pages (/p/<token>...): never kept in a shared cache either; their referrer
#: policy is not a default but forced (below).
PARTICIPANT_DEFAULTS = (
    *(header for header in PAGE_DEFAULTS if header[0] != "Referrer-Policy"),
    ("Cache-Control", "private, no-store"),
)
#: Two years, the value browsers' preload lists ask for; no includeSubDomains, since the
#: collector's domain may host other sites that are not ours.
HSTS = "max-age=63072000"


def register(app: Flask) -> None:
    hops = app.config.get("PROXY_HOPS", 0)
    # Wrapping app.wsgi_app is Flask's documented way to add WSGI middleware; mypy reads the
    # assignment as replacing a method.
    app.wsgi_app = SecureCookiesOverHttps(app.wsgi_app)  # type: ignore[method-assign]
    if hops:
        # Trust exactly `hops` proxies in front of us for the client address, scheme, host,
        # port and prefix; with 0 nobody's X-Forwarded-* is believed.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops
        )

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        # Added unless the view set them (Headers.setdefault scans the list once per name).
        present = {name.lower() for name, _value in headers.items()}
        participant = request.path.startswith("/p/")
        for name, value in PARTICIPANT_DEFAULTS if participant else PAGE_DEFAULTS:
            if name.lower() not in present:
                headers.add(name, value)
        if request.is_secure and "strict-transport-security" not in present:
            headers.add("Strict-Transport-Security", HSTS)
        if participant:
            # The path holds the participant's secret: never tell another site where we were,
            # never index it, whatever the view said.
            headers["Referrer-Policy"] = "no-referrer"
            headers["X-Robots-Tag"] = "noindex, nofollow"
        return response


class SecureCookiesOverHttps:
    """WSGI middleware: every cookie set in an answer to an HTTPS request is marked `Secure`.

    Flask and Flask-Login only know a fixed `*_COOKIE_SECURE` setting; this decides per request,
    so the same app serves plain http on a laptop and https behind a proxy. It sits inside
    ProxyFix, so it sees the scheme the client really used.
    """

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.url_scheme") != "https":
            return self.wsgi_app(environ, start_response)

        def secure_start_response(status, headers, exc_info=None):
            headers = [
                (name, _secure(value) if name.lower() == "set-cookie" else value)
                for name, value in headers
            ]
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, secure_start_response)


def _secure(cookie: str) -> str:
    attributes = {part.strip().lower() for part in cookie.split(";")[1:]}
    return cookie if "secure" in attributes else f"{cookie}; Secure"
