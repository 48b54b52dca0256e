"""supervision tables

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27 00:47:54.359326

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('sampling_draw',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('period', sa.String(length=32), nullable=False),
    sa.Column('scope', sa.String(length=12), nullable=False),
    sa.Column('population', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('seed', sa.String(length=64), nullable=False),
    sa.Column('quota', sa.Integer(), nullable=False),
    sa.Column('drawn', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sampling_draw')),
    sa.UniqueConstraint('kind', 'period', 'scope', name='uq_sampling_draw')
    )
    op.create_table('complaint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=True),
    sa.Column('project_number', sa.String(length=16), nullable=True),
    sa.Column('project_name', sa.String(length=200), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('name', sa.String(length=50), nullable=True),
    sa.Column('contact', sa.String(length=30), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_complaint_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_complaint'))
    )
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_complaint_project_id'), ['project_id'], unique=False)

    op.create_table('push_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('national_id', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_push_outbox_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_push_outbox')),
    sa.UniqueConstraint('idempotency_key', name=op.f('uq_push_outbox_idempotency_key'))
    )
    with op.batch_alter_table('push_outbox', schema=None) as batch_op:
        batch_op.create_index('ix_push_outbox_pending', ['status', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_push_outbox_project_id'), ['project_id'], unique=False)

    op.create_table('inspection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('trigger', sa.String(length=16), nullable=False),
    sa.Column('complaint_id', sa.Integer(), nullable=True),
    sa.Column('draw_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('result', sa.String(length=16), nullable=True),
    sa.Column('report', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['complaint_id'], ['complaint.id'], name=op.f('fk_inspection_complaint_id_complaint')),
    sa.ForeignKeyConstraint(['draw_id'], ['sampling_draw.id'], name=op.f('fk_inspection_draw_id_sampling_draw')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_inspection_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection'))
    )
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_project_id'), ['project_id'], unique=False)

    op.create_table('publicity_notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('published', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('opened_at', sa.DateTime(), nullable=False),
    sa.Column('closes_at', sa.DateTime(), nullable=False),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_publicity_notice_application_id_application')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_publicity_notice_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publicity_notice'))
    )
    with op.batch_alter_table('publicity_notice', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publicity_notice_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_publicity_notice_project_id'), ['project_id'], unique=False)
        batch_op.create_index('ix_publicity_open', ['status', 'closes_at'], unique=False)

    op.create_table('objection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('contact', sa.String(length=30), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('ruling', sa.Text(), nullable=True),
    sa.Column('ruled_by', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('ruled_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['notice_id'], ['publicity_notice.id'], name=op.f('fk_objection_notice_id_publicity_notice')),
    sa.ForeignKeyConstraint(['ruled_by'], ['user_account.id'], name=op.f('fk_objection_ruled_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_objection'))
    )
    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_objection_notice_id'), ['notice_id'], unique=False)




def downgrade():

    with op.batch_alter_table('objection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_objection_notice_id'))

    op.drop_table('objection')
    with op.batch_alter_table('publicity_notice', schema=None) as batch_op:
        batch_op.drop_index('ix_publicity_open')
        batch_op.drop_index(batch_op.f('ix_publicity_notice_project_id'))
        batch_op.drop_index(batch_op.f('ix_publicity_notice_application_id'))

    op.drop_table('publicity_notice')
    with op.batch_alter_table('inspection', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_project_id'))

    op.drop_table('inspection')
    with op.batch_alter_table('push_outbox', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_push_outbox_project_id'))
        batch_op.drop_index('ix_push_outbox_pending')

    op.drop_table('push_outbox')
    with op.batch_alter_table('complaint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_complaint_project_id'))

    op.drop_table('complaint')
    op.drop_table('sampling_draw')

