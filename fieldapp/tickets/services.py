"""Reserving portrait numbers with their participant tokens."""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldapp.database import utcnow
from fieldapp.tickets.models import Ticket

TOKEN_BYTES = 18  # 144 bits of randomness, 24 URL-safe characters: short enough for a small QR
MAX_TICKETS_PER_REQUEST = 100


def reserve_tickets(
    session: Session, count: int, collector_id: int | None, *, printed: bool = False
) -> list[Ticket]:
    """Reserve the next `count` portrait numbers, each with a fresh token; `printed` for the
    labels of a printed sheet (a phone's stock is not).

    Call inside a write transaction: numbers come from the highest one taken so far.
    """
    highest = session.scalar(select(func.max(Ticket.number))) or 0
    printed_at = utcnow() if printed else None
    tickets = [
        Ticket(
            number=highest + offset,
            token=secrets.token_urlsafe(TOKEN_BYTES),
            reserved_by_id=collector_id,
            printed_at=printed_at,
        )
        for offset in range(1, count + 1)
    ]
    session.add_all(tickets)
    session.flush()
    return tickets


def ticket_by_token(session: Session, token: str) -> Ticket | None:
    """The ticket holding this token, or None (also for anything that is not a token)."""
    if not token or len(token) > 64:
        return None
    return session.scalar(select(Ticket).where(Ticket.token == token))
