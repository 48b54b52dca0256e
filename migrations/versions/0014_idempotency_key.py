"""idempotency keys: the first answer of a POST retried with the same Idempotency-Key

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 01:20:00

"""
from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('idempotency_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('caller', sa.String(length=80), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('committed_at', sa.DateTime(), nullable=True),
    sa.Column('status', sa.Integer(), nullable=True),
    sa.Column('content_type', sa.String(length=100), nullable=True),
    sa.Column('location', sa.String(length=500), nullable=True),
    sa.Column('body', sa.LargeBinary(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_idempotency_key')),
    sa.UniqueConstraint('caller', 'key', name=op.f('uq_idempotency_key_caller'))
    )
    op.create_index(op.f('ix_idempotency_key_created_at'), 'idempotency_key', ['created_at'],
                    unique=False)


def downgrade():
    op.drop_index(op.f('ix_idempotency_key_created_at'), table_name='idempotency_key')
    op.drop_table('idempotency_key')
