"""Printed tickets: `tickets.printed_at`, set for the tickets a printed sheet reserved.

Only a printed ticket may later be attached to a drawing in the review. Any other unused ticket
may be waiting in a phone's stock, whose QR code the phone will hand to the next drawer: had it
been attached elsewhere, two drawers would hold the link to one drawing, and the phone's upload
would be refused. Tickets reserved before this migration are not marked: nothing tells a
printed one from a phone's.

Revision ID: b7a000000001
Revises: b5b000000001
Create Date: 2026-11-21 10:20:00

"""

import sqlalchemy as sa
from alembic import op

import fieldapp.database

# revision identifiers, used by Alembic.
revision = "b7a000000001"
down_revision = "b5b000000001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "tickets", sa.Column("printed_at", fieldapp.database.UTCDateTime(), nullable=True)
    )


def downgrade():
    with op.batch_alter_table("tickets") as batch_op:
        batch_op.drop_column("printed_at")
