"""A throwaway instance for the browser benchmarks: its own SQLite file and media folder in a
temporary directory, migrated, with one collector, served on a free port of 127.0.0.1."""

from __future__ import annotations

import os
import tempfile
import threading
from pathlib import Path

USERNAME = "max"
PASSWORD = "a long password"  # noqa: S105 - a throwaway local instance


def throwaway_app(prefix: str):
    """A fresh app (through the environment, as a deployment reads it) with collector `max`."""
    import flask_migrate

    from fieldapp import create_app
    from fieldapp.auth.services import create_collector
    from fieldapp.extensions import db

    root = Path(tempfile.mkdtemp(prefix=f"fieldapp-{prefix}-"))
    os.environ.update(
        FIELDAPP_SECRET_KEY=prefix,
        FIELDAPP_DATABASE_URL=f"sqlite:///{root / 'fieldapp.sqlite3'}",
        FIELDAPP_MEDIA_DIR=str(root / "media"),
    )
    app = create_app()
    with app.app_context():
        flask_migrate.upgrade()
        create_collector(db.session, USERNAME, PASSWORD)
        db.session.commit()
    return app


def serve(wsgi_app) -> tuple[str, object]:
    """Serve `wsgi_app` in a thread on a free port; returns (its URL, the server to shut down)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, wsgi_app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_port}", server
