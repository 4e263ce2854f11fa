"""Wait until the configured database answers: `python -m fieldapp.wait_for_database [seconds]`.

The container's entrypoint runs this before the migrations, because PostgreSQL may still be
starting when the app's container starts. It retries `SELECT 1` once a second and exits 0 when
the database answers, or 1 with the last error once the time is up (default 60 s).
"""

from __future__ import annotations

import sys
import time

from sqlalchemy import text
from sqlalchemy.exc import OperationalError


def wait(seconds: float) -> str | None:
    """None once the database answers; the last error if it did not within `seconds`."""
    from fieldapp import create_app
    from fieldapp.extensions import db

    app = create_app()
    deadline = time.monotonic() + seconds
    with app.app_context():
        while True:
            try:
                with db.engine.connect() as connection:
                    connection.execute(text("SELECT 1"))
                return None
            except OperationalError as error:
                last = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
            if time.monotonic() >= deadline:
                return last
            time.sleep(1)


def main(argv: list[str]) -> int:
    seconds = float(argv[0]) if argv else 60.0
    error = wait(seconds)
    if error is not None:
        print(f"The database did not answer within {seconds:g} s: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
