"""check codes: the 查询码 of a complaint or an objection, kept only as a hash, with which the
filer looks up its progress without signing in (issue 18)

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-02 10:30:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    # filings made before have no row: their lookup answers as an unknown number does
    op.create_table('check_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=True),
    sa.Column('objection_id', sa.Integer(), nullable=True),
    sa.Column('digest', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint(
        '(complaint_id IS NULL AND objection_id IS NOT NULL) OR '
        '(complaint_id IS NOT NULL AND objection_id IS NULL)',
        name=op.f('ck_check_code_one_filing')),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'],
                            name=op.f('fk_check_code_complaint_id_complaint')),
    sa.ForeignKeyConstraint(['objection_id'], ['objection.id'],
                            name=op.f('fk_check_code_objection_id_objection')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_check_code')),
    sa.UniqueConstraint('complaint_id', name=op.f('uq_check_code_complaint_id')),
    sa.UniqueConstraint('objection_id', name=op.f('uq_check_code_objection_id'))
    )


def downgrade():
    op.drop_table('check_code')
