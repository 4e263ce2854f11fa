"""Accounts and devices: `collectors.role` (collector or helper), `devices` (one row per login,
revocable), `api_tokens.label` and `last_used_at`, and `login_failures` (the login limit,
counted in the database so that it holds across workers, restarts and app servers).

`collectors` gets its column with a plain ADD COLUMN (its CHECK inline on SQLite): a batch
copy of the table would have to drop a table that other tables reference.

Revision ID: b8a000000001
Revises: b7a000000001
Create Date: 2026-12-06 15:40:00

"""

import sqlalchemy as sa
from alembic import op

import fieldapp.database

# revision identifiers, used by Alembic.
revision = "b8a000000001"
down_revision = "b7a000000001"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE collectors ADD COLUMN role VARCHAR(16) DEFAULT 'collector' NOT NULL"
            " CONSTRAINT ck_collectors_role CHECK (role IN ('collector', 'helper'))"
        )
    else:
        op.add_column(
            "collectors",
            sa.Column("role", sa.String(length=16), server_default="collector", nullable=False),
        )
        op.create_check_constraint("role", "collectors", "role IN ('collector', 'helper')")
    op.add_column(
        "api_tokens", sa.Column("label", sa.String(length=100), server_default="", nullable=False)
    )
    op.add_column(
        "api_tokens", sa.Column("last_used_at", fieldapp.database.UTCDateTime(), nullable=True)
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collector_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), server_default="", nullable=False),
        sa.Column("created_at", fieldapp.database.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", fieldapp.database.UTCDateTime(), nullable=False),
        sa.Column("revoked_at", fieldapp.database.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["collector_id"],
            ["collectors.id"],
            name=op.f("fk_devices_collector_id_collectors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("at", fieldapp.database.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_key_at", "login_failures", ["key", "at"], unique=False)


def downgrade():
    op.drop_index("ix_login_failures_key_at", table_name="login_failures")
    op.drop_table("login_failures")
    op.drop_table("devices")
    with op.batch_alter_table("api_tokens") as batch_op:
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("label")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE collectors DROP COLUMN role")  # SQLite >= 3.35
    else:
        op.drop_constraint(op.f("ck_collectors_role"), "collectors", type_="check")
        op.drop_column("collectors", "role")
