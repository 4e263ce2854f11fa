"""Dataset settings and export manifests: what went out, when, with which drawings

Revision ID: b6a000000001
Revises: b5a000000001
Create Date: 2026-11-21 03:02:48.187653

"""
from alembic import op
import sqlalchemy as sa

import fieldapp.database  # noqa: F401  (UTCDateTime in column types)


# revision identifiers, used by Alembic.
revision = 'b6a000000001'
down_revision = 'b5a000000001'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('dataset_exports',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('created_at', fieldapp.database.UTCDateTime(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('image_size', sa.Integer(), nullable=True),
    sa.Column('ink', sa.Boolean(), nullable=False),
    sa.Column('license', sa.String(length=40), nullable=False),
    sa.Column('item_count', sa.Integer(), nullable=False),
    sa.Column('consent_versions', sa.JSON(), nullable=False),
    sa.Column('made_by', sa.String(length=32), nullable=False),
    sa.Column('zip_bytes', sa.BigInteger(), nullable=True),
    sa.Column('zip_sha256', sa.String(length=64), nullable=True),
    sa.CheckConstraint("kind IN ('training', 'archive')", name=op.f('ck_dataset_exports_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dataset_exports'))
    )
    op.create_table('dataset_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('license', sa.String(length=40), nullable=False),
    sa.Column('pretty_name', sa.String(length=120), nullable=False),
    sa.Column('creator', sa.String(length=120), nullable=False),
    sa.Column('contact', sa.String(length=200), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=False),
    sa.Column('default_size', sa.Integer(), nullable=True),
    sa.Column('default_ink', sa.Boolean(), nullable=False),
    sa.Column('updated_at', fieldapp.database.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_dataset_settings'))
    )
    op.create_table('dataset_export_items',
    sa.Column('export_id', sa.Integer(), nullable=False),
    sa.Column('encounter_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['encounter_id'], ['encounters.id'], name=op.f('fk_dataset_export_items_encounter_id_encounters')),
    sa.ForeignKeyConstraint(['export_id'], ['dataset_exports.id'], name=op.f('fk_dataset_export_items_export_id_dataset_exports')),
    sa.PrimaryKeyConstraint('export_id', 'encounter_id', name=op.f('pk_dataset_export_items'))
    )
    with op.batch_alter_table('dataset_export_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dataset_export_items_encounter_id'), ['encounter_id'], unique=False)



def downgrade():
    with op.batch_alter_table('dataset_export_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dataset_export_items_encounter_id'))

    op.drop_table('dataset_export_items')
    op.drop_table('dataset_settings')
    op.drop_table('dataset_exports')
