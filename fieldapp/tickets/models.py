"""Tickets: portrait numbers reserved together with the participant's secret token."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldapp.database import UTCDateTime, utcnow
from fieldapp.extensions import Model


class Ticket(Model):
    """A portrait number and its token. Reserved first; an encounter claims it later."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    reserved_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reserved_by_id: Mapped[int | None] = mapped_column(ForeignKey("collectors.id"))
    # Set when a printed sheet reserved it: only such a ticket may be attached to a drawing in
    # the review. Any other unused one may be in a phone's stock, promised to the next drawer.
    printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A drawer may withdraw before the phone's upload arrives: the upload is then refused.
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set when the collector attached a printed ticket to this ticket's encounter instead: the
    # number stays taken (it may be written somewhere) but no upload may claim it again.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
