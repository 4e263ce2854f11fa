"""Gunicorn's access log without the participants' secrets.

A participant link `/p/<token>` is the only key to a drawer's page: a log line holding it would
hand that key to anyone who can read the logs. The token is replaced by `…` in the request
line, the path and the referrer; everything else is gunicorn's usual combined log.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from fieldapp.redaction import redact


class RedactingLogger(Logger):
    """The combined access log, participant tokens redacted."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "f", "{referer}i"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
