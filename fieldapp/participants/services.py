"""What a participant's token opens: their encounter, and the QR code that leads to it."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cache

import qrcode
from flask import current_app, request
from qrcode.constants import ERROR_CORRECT_M
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload, lazyload

from fieldapp.encounters.models import Encounter
from fieldapp.tickets.models import Ticket
from fieldapp.tickets.services import participant_url


@dataclass(frozen=True)
class ParticipantView:
    ticket: Ticket
    encounter: Encounter | None  # None: reserved on the phone, upload not arrived yet

    @property
    def is_withdrawn(self) -> bool:
        return self.ticket.withdrawn_at is not None

    @property
    def can_change_choices(self) -> bool:
        """A kept, not withdrawn drawing: its drawer may change what it is allowed for."""
        e = self.encounter
        return e is not None and not self.is_withdrawn and e.is_completed and bool(e.keep)


def participant_view(session: Session, token: str) -> ParticipantView | None:
    """The ticket and encounter behind a token, or None for a token that does not exist."""
    if not token or len(token) > 64:  # as ticket_by_token: nothing that long is a token
        return None
    row = session.execute(_view_query(), {"token": token}).first()
    if row is None:
        return None
    if row.Encounter is None and row.Ticket.retired_at is not None:
        return None  # replaced by a printed ticket: this link leads nowhere any more
    return ParticipantView(row.Ticket, row.Encounter)


@cache
def _view_query():
    """One query for the ticket, its encounter, photo and consent text (the busiest public
    page), built once. The encounter's ticket is the row's own: no second join to tickets."""
    return (
        select(Ticket, Encounter)
        .outerjoin(Encounter, Encounter.ticket_id == Ticket.id)
        .options(lazyload(Encounter.ticket), joinedload(Encounter.consent_version))
        .where(Ticket.token == bindparam("token"))
    )


def public_base_url() -> str:
    """FIELDAPP_PUBLIC_URL, or the host this request came to."""
    return current_app.config["PUBLIC_URL"] or request.host_url.rstrip("/")


def link_for(token: str) -> str:
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
