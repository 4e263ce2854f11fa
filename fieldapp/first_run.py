"""Say where to create the collector's account: `python -m fieldapp.first_run HOST PORT`.

`make run` runs this before it starts the server. While no account exists, whoever opens
`/setup` first becomes the collector, so the person starting the server should open it at once:
this prints the exact address. Once an account exists it prints nothing. A database it cannot
read (new, not migrated yet) holds no account either; only a missing secret key stops the start,
with the one-line error the server would give.
"""

from __future__ import annotations

import sys

from sqlalchemy.exc import SQLAlchemyError

#: Wildcards (listen on every address), which a browser cannot open: it opens 127.0.0.1.
_EVERY_ADDRESS = {"", "0.0.0.0", "::", "[::]"}  # noqa: S104 - names, nothing listens here


def setup_url(host: str, port: int | str) -> str:
    """The address of the setup page of a server listening on `host`:`port`, for a browser on
    the same machine."""
    if host in _EVERY_ADDRESS:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address
    return f"http://{host}:{port}/setup"


def needs_setup(app) -> bool:
    """True while the app's database holds no account (or cannot say: not migrated yet)."""
    from fieldapp.auth.services import has_collector
    from fieldapp.extensions import db

    with app.app_context():
        try:
            return not has_collector(db.session())
        except SQLAlchemyError:
            return True
        finally:
            db.session.remove()
            db.engine.dispose()


def notice(url: str) -> str:
    """What `make run` prints before the first account exists."""
    return (
        f"\nNo account exists yet. Open {url} now: whoever opens it first, from any device\n"
        "that reaches this server, chooses the username and password and becomes the collector.\n"
    )


def main(argv: list[str]) -> int:
    from fieldapp import create_app
    from fieldapp.config import ConfigError

    host = argv[0] if argv else "127.0.0.1"
    port = argv[1] if len(argv) > 1 else "5000"
    try:
        app = create_app()
    except ConfigError as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    if needs_setup(app):
        print(notice(setup_url(host, port)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
