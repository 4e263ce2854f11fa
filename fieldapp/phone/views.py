"""The trust page: this laptop's root certificate and the steps to trust it on a phone.

Public on purpose, and registered only behind `make run-phone` (FIELDAPP_PHONE_ROOT_CERT): a
root certificate is no secret, and the phone has no account session when it first comes here,
over plain HTTP (Caddy passes only these pages, and what they load, on its HTTP port).
"""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.x509.oid import NameOID
from flask import Blueprint, Response, abort, current_app, render_template, request

from fieldapp.phone.services import fingerprint

bp = Blueprint("phone", __name__)

#: The name the phone saves the certificate under (Android lists it in Downloads).
DOWNLOAD_NAME = "fieldapp-laptop.crt"


def _root_certificate() -> bytes:
    try:
        return Path(current_app.config["PHONE_ROOT_CERT"]).read_bytes()
    except OSError:
        abort(404)


@bp.get("/phone")
def trust():
    """The steps: download the certificate, trust it (iPhone, Android), open the app."""
    pem = _root_certificate()
    subject = x509.load_pem_x509_certificate(pem).subject
    names = subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    app_url = current_app.config["PUBLIC_URL"] or request.host_url.rstrip("/")
    return render_template(
        "phone/trust.html",
        authority=str(names[0].value) if names else "Caddy Local Authority",
        fingerprint=fingerprint(pem),
        app_url=app_url + "/",
        download_name=DOWNLOAD_NAME,
    )


@bp.get("/phone/root.crt")
def root_certificate():
    """The root certificate, as the type phones offer to install (a profile on an iPhone)."""
    response = Response(_root_certificate(), mimetype="application/x-x509-ca-cert")
    # Inline, so that Safari offers the profile at once; the name is the file's if saved.
    response.headers["Content-Disposition"] = f'inline; filename="{DOWNLOAD_NAME}"'
    response.headers["Cache-Control"] = "no-cache"
    return response
