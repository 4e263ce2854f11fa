"""Review: edit history, retired tickets, log filter indexes

The collector's edits are kept as revisions with their field changes; a ticket replaced by a
printed one is retired; the log's filters get indexes ending in (started_at, id), the keyset.

Revision ID: b5a000000001
Revises: a46c94338ec9
Create Date: 2026-11-21 03:00:06.044063

"""
from alembic import op
import sqlalchemy as sa

import fieldapp.database  # noqa: F401  (UTCDateTime in column types)


# revision identifiers, used by Alembic.
revision = 'b5a000000001'
down_revision = 'a46c94338ec9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('encounter_revisions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('encounter_id', sa.Integer(), nullable=False),
    sa.Column('collector_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('recorded_at', fieldapp.database.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['collector_id'], ['collectors.id'], name=op.f('fk_encounter_revisions_collector_id_collectors')),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounters.id'], name=op.f('fk_encounter_revisions_encounter_id_encounters')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_encounter_revisions'))
    )
    with op.batch_alter_table('encounter_revisions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_encounter_revisions_encounter_id'), ['encounter_id'], unique=False)

    op.create_table('encounter_field_changes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('revision_id', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=32), nullable=False),
    sa.Column('old_value', sa.Text(), nullable=False),
    sa.Column('new_value', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['revision_id'], ['encounter_revisions.id'], name=op.f('fk_encounter_field_changes_revision_id_encounter_revisions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_encounter_field_changes'))
    )
    with op.batch_alter_table('encounter_field_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_encounter_field_changes_revision_id'), ['revision_id'], unique=False)

    op.create_index('ix_encounters_gallery_started_at_id', 'encounters', ['gallery', 'started_at', 'id'], unique=False)
    op.create_index('ix_encounters_social_started_at_id', 'encounters', ['social', 'started_at', 'id'], unique=False)
    op.create_index('ix_encounters_status_started_at_id', 'encounters', ['status', 'started_at', 'id'], unique=False)
    op.create_index('ix_encounters_training_started_at_id', 'encounters', ['training', 'started_at', 'id'], unique=False)
    op.create_index('ix_encounters_venue_type_started_at_id', 'encounters', ['venue_type', 'started_at', 'id'], unique=False)
    # Partial: tombstones only, so it is never chosen for "not withdrawn" (nearly every row).
    op.create_index(
        'ix_encounters_withdrawn_at', 'encounters', ['withdrawn_at'], unique=False,
        sqlite_where=sa.text('withdrawn_at IS NOT NULL'),
        postgresql_where=sa.text('withdrawn_at IS NOT NULL'),
    )

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retired_at', fieldapp.database.UTCDateTime(), nullable=True))



def downgrade():
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('retired_at')

    op.drop_index('ix_encounters_withdrawn_at', table_name='encounters')
    op.drop_index('ix_encounters_venue_type_started_at_id', table_name='encounters')
    op.drop_index('ix_encounters_training_started_at_id', table_name='encounters')
    op.drop_index('ix_encounters_status_started_at_id', table_name='encounters')
    op.drop_index('ix_encounters_social_started_at_id', table_name='encounters')
    op.drop_index('ix_encounters_gallery_started_at_id', table_name='encounters')

    with op.batch_alter_table('encounter_field_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_encounter_field_changes_revision_id'))

    op.drop_table('encounter_field_changes')
    with op.batch_alter_table('encounter_revisions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_encounter_revisions_encounter_id'))

    op.drop_table('encounter_revisions')
