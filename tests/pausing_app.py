"""The real app, except that an upload stops dead after writing its files, before its commit.

Test only (tests/test_faults.py serves it with gunicorn and then SIGKILLs the server there): the
upload runs the production code up to the moment its three files are on disk and its rows are
flushed but not committed, touches the file named by FIELDAPP_TEST_PAUSED_MARKER, and waits to
be killed. Nothing in fieldapp/ knows about this.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from fieldapp import create_app
from fieldapp.encounters import services

_attach_photo = services.attach_photo


def _attach_photo_then_hang(*args, **kwargs):
    result = _attach_photo(*args, **kwargs)
    Path(os.environ["FIELDAPP_TEST_PAUSED_MARKER"]).touch()
    time.sleep(3600)  # the test kills the server here
    return result


services.attach_photo = _attach_photo_then_hang
app = create_app()
