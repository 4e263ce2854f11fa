"""Every table of the app, imported in one place for the app factory and Alembic."""

from fieldapp.auth.models import ApiToken, Collector
from fieldapp.consent.models import ConsentEvent, ConsentVersion
from fieldapp.diary.models import DiaryEntry
from fieldapp.encounters.models import Encounter
from fieldapp.ledger.models import LedgerSettings
from fieldapp.ledger.tallies import LedgerTally
from fieldapp.media.models import Photo
from fieldapp.tickets.models import Ticket

__all__ = [
    "ApiToken",
    "Collector",
    "ConsentEvent",
    "ConsentVersion",
    "Encounter",
    "Photo",
    "Ticket",
    "LedgerSettings",
    "LedgerTally",
    "DiaryEntry",
]
