"""wizard drafts

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 03:30:00

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('wizard_draft',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_wizard_draft_user_id_user_account')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_wizard_draft'))
    )


def downgrade():
    op.drop_table('wizard_draft')
