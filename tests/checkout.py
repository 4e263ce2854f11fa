"""A throwaway copy of the repository, for tests of `make run` and of the `flask` command line
as a newcomer runs them: its own `instance/` folder (secret key, database, photos), this
repository's working Makefile and package, and the same virtualenv.

The package is copied, not linked: Flask finds the instance folder next to the package's real
path. The virtualenv is linked, never reinstalled: `make` is run with `-o .venv/.installed`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: Read only: linked. `fieldapp/__init__.py` finds them next to the copied package.
LINKED = ("migrations", "templates", "static", ".venv")
COPIED = ("Makefile", "pyproject.toml")
#: `make` arguments that keep it from reinstalling the shared virtualenv.
KEEP_VENV = ("-o", ".venv/.installed", "-o", ".venv/.test-installed")


def make_checkout(destination: Path) -> Path:
    """A copy of the repository at `destination`, with no instance folder yet."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copytree(
        ROOT / "fieldapp",
        destination / "fieldapp",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    for name in COPIED:
        shutil.copy2(ROOT / name, destination / name)
    for name in LINKED:
        (destination / name).symlink_to(ROOT / name)
    return destination


def newcomer_env(**extra: str) -> dict[str, str]:
    """The environment of someone who set none of fieldapp's variables."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("FIELDAPP_", "FLASK_")) and name != "FORWARDED_ALLOW_IPS"
    }
    return {**env, **extra}
