"""Photo framing: the sheet's corners, how they were found, and by which detector.

- `photos.framing`: "auto" (the sheet found at ingest), "manual" (placed by the artist) or
  "none" (no sheet found: the display image is the whole photo; the log's "needs framing").
  Every photo stored before is "none": its display image is the whole photo.
- `photos.corners`: JSON, the four corners as fractions of the archive photo (NULL for none).
- `photos.framing_detector`: the sheet detector's version that last looked at the photo
  (NULL: never looked; `flask media reframe` frames those).

Revision ID: c1a000000001
Revises: b9a000000001
Create Date: 2026-12-06 22:40:00
"""

import sqlalchemy as sa
from alembic import op

revision = "c1a000000001"
down_revision = "b9a000000001"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "photos",
        sa.Column("framing", sa.String(length=8), nullable=False, server_default="none"),
    )
    op.add_column("photos", sa.Column("corners", sa.JSON()))
    op.add_column("photos", sa.Column("framing_detector", sa.Integer()))


def downgrade():
    op.drop_column("photos", "framing_detector")
    op.drop_column("photos", "corners")
    op.drop_column("photos", "framing")
