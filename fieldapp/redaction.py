"""Participant tokens kept out of every log.

A participant link `/p/<token>` is the only key to a drawer's page: a log line holding it would
hand that key to anyone who can read the logs. The access log (access_log.py) and the error log
(errors.py) both write paths through `redact`.
"""

from __future__ import annotations

import re

_PARTICIPANT_TOKEN = re.compile(r"(/p/)[^/?#\s]+")


def redact(value: str) -> str:
    """`value` with any participant token replaced by `…`."""
    return _PARTICIPANT_TOKEN.sub(r"\1…", value)
