"""Where a ticket leads: the participant link in its QR code, and the QR code itself."""

from __future__ import annotations

import io

import qrcode
from flask import current_app, request
from qrcode.constants import ERROR_CORRECT_M


def participant_url(public_base: str, token: str) -> str:
    """The link printed in a participant's QR code."""
    return f"{public_base.rstrip('/')}/p/{token}"


def public_base_url() -> str:
    """FIELDAPP_PUBLIC_URL, or the host this request came to."""
    return current_app.config["PUBLIC_URL"] or request.host_url.rstrip("/")


def link_for(token: str) -> str:
    """The participant link of this token, at the public URL (for this request)."""
    return participant_url(public_base_url(), token)


def _qr(url: str, **kwargs) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4, **kwargs)
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_svg(url: str) -> bytes:
    """The link as an SVG QR code: dark modules on an opaque white square, 4-module margin."""
    matrix = _qr(url).get_matrix()  # the margin included
    side = len(matrix)
    # One subpath per horizontal run of dark modules (qrcode's own SVG writes one per module):
    # a third of the bytes, and the phone fetches one per ticket of its stock.
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        while x < side:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < side and row[x]:
                x += 1
            runs.append(f"M{start},{y}h{x - start}v1h-{x - start}z")
    return (
        f'<svg width="{side}mm" height="{side}mm" version="1.1" viewBox="0 0 {side} {side}" '
        'xmlns="http://www.w3.org/2000/svg" shape-rendering="crispEdges">'
        '<rect fill="white" x="0" y="0" width="100%" height="100%"/>'
        f'<path d="{"".join(runs)}"/></svg>'
    ).encode()


def qr_png(url: str) -> bytes:
    """The link as a PNG QR code, 10 pixels a module."""
    out = io.BytesIO()
    _qr(url, box_size=10).make_image(fill_color="black", back_color="white").save(out, format="PNG")
    return out.getvalue()
