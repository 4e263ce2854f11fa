"""Media files whose deletion the store did not take: deleted again once it answers.

- `pending_removals.name`: the store-relative name (no row of `photos` names it any more).
- `pending_removals.queued_at`: when the deletion failed.

Revision ID: c2a000000001
Revises: c1a000000001
Create Date: 2026-12-07 01:20:00
"""

import sqlalchemy as sa
from alembic import op

from fieldapp.database import UTCDateTime

revision = "c2a000000001"
down_revision = "c1a000000001"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "pending_removals",
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("queued_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_pending_removals")),
    )


def downgrade():
    op.drop_table("pending_removals")
