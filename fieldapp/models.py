"""Every table of the app, imported in one place for the app factory and Alembic."""

from fieldapp.auth.models import ApiToken, Collector, Device, LoginFailure
from fieldapp.consent.models import ConsentEvent, ConsentTranslation, ConsentVersion
from fieldapp.dataset.models import DatasetExport, DatasetExportItem, DatasetSettings
from fieldapp.diary.models import DiaryEntry
from fieldapp.encounters.models import Encounter, EncounterRevision, FieldChange
from fieldapp.ledger.models import LedgerSettings
from fieldapp.ledger.tallies import LedgerTally
from fieldapp.media.models import PendingRemoval, Photo
from fieldapp.tickets.models import Ticket

__all__ = [
    "ApiToken",
    "Collector",
    "ConsentEvent",
    "ConsentTranslation",
    "ConsentVersion",
    "DatasetExport",
    "DatasetExportItem",
    "DatasetSettings",
    "Device",
    "Encounter",
    "EncounterRevision",
    "FieldChange",
    "LoginFailure",
    "PendingRemoval",
    "Photo",
    "Ticket",
    "LedgerSettings",
    "LedgerTally",
    "DiaryEntry",
]
