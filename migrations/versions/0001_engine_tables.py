"""engine tables

Revision ID: 0001
Revises: 
Create Date: 2026-11-27 00:26:05.575400

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    
    op.create_table('engine_definition',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.Column('file_name', sa.String(length=400), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('bpmn', sa.LargeBinary(), nullable=False),
    sa.Column('spec', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('deployed_at', sa.DateTime(), nullable=False),
    sa.Column('deployed_by', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engine_definition')),
    sa.UniqueConstraint('key', 'content_hash', name='uq_engine_definition_key_hash'),
    sa.UniqueConstraint('key', 'version', name='uq_engine_definition_key_version')
    )
    op.create_table('engine_instance',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('definition_id', sa.Integer(), nullable=False),
    sa.Column('business_key', sa.String(length=200), nullable=True),
    sa.Column('scope', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('state', sa.LargeBinary(), nullable=False),
    sa.Column('serializer_version', sa.String(length=16), nullable=False),
    sa.Column('lock_version', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('ended_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['definition_id'], ['engine_definition.id'], name=op.f('fk_engine_instance_definition_id_engine_definition')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engine_instance'))
    )
    with op.batch_alter_table('engine_instance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_engine_instance_business_key'), ['business_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_engine_instance_definition_id'), ['definition_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_engine_instance_scope'), ['scope'], unique=False)
        batch_op.create_index('ix_engine_instance_status_started', ['status', 'started_at'], unique=False)

    op.create_table('engine_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=40), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=True),
    sa.Column('actor', sa.String(length=200), nullable=True),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['engine_instance.id'], name=op.f('fk_engine_event_instance_id_engine_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engine_event'))
    )
    with op.batch_alter_table('engine_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_engine_event_instance_id'), ['instance_id'], unique=False)

    op.create_table('engine_job',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('operation', sa.String(length=200), nullable=False),
    sa.Column('params', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('max_attempts', sa.Integer(), nullable=False),
    sa.Column('backoff_base', sa.Integer(), nullable=False),
    sa.Column('run_after', sa.DateTime(), nullable=False),
    sa.Column('enqueued_at', sa.DateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['engine_instance.id'], name=op.f('fk_engine_job_instance_id_engine_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engine_job')),
    sa.UniqueConstraint('task_id', name=op.f('uq_engine_job_task_id'))
    )
    with op.batch_alter_table('engine_job', schema=None) as batch_op:
        batch_op.create_index('ix_engine_job_due', ['status', 'run_after'], unique=False)
        batch_op.create_index(batch_op.f('ix_engine_job_instance_id'), ['instance_id'], unique=False)

    op.create_table('engine_message_wait',
    sa.Column('id', sa.String(length=240), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('correlation_key', sa.String(length=200), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['engine_instance.id'], name=op.f('fk_engine_message_wait_instance_id_engine_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engine_message_wait'))
    )
    with op.batch_alter_table('engine_message_wait', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_engine_message_wait_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index('ix_engine_message_wait_lookup', ['status', 'name', 'correlation_key'], unique=False)

    op.create_table('engine_task',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=400), nullable=True),
    sa.Column('candidate_group', sa.String(length=200), nullable=True),
    sa.Column('form_key', sa.String(length=200), nullable=True),
    sa.Column('scope', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('assignee', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=True),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('completed_by', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['engine_instance.id'], name=op.f('fk_engine_task_instance_id_engine_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engine_task'))
    )
    with op.batch_alter_table('engine_task', schema=None) as batch_op:
        batch_op.create_index('ix_engine_task_inbox', ['status', 'candidate_group', 'scope', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_engine_task_instance_id'), ['instance_id'], unique=False)

    op.create_table('engine_timer',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('enqueued_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['engine_instance.id'], name=op.f('fk_engine_timer_instance_id_engine_instance')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engine_timer'))
    )
    with op.batch_alter_table('engine_timer', schema=None) as batch_op:
        batch_op.create_index('ix_engine_timer_due', ['status', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_engine_timer_instance_id'), ['instance_id'], unique=False)

    op.create_table('engine_incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=False),
    sa.Column('job_id', sa.Integer(), nullable=True),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('error', sa.Text(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('resolved_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['engine_instance.id'], name=op.f('fk_engine_incident_instance_id_engine_instance')),
    sa.ForeignKeyConstraint(['job_id'], ['engine_job.id'], name=op.f('fk_engine_incident_job_id_engine_job')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_engine_incident'))
    )
    with op.batch_alter_table('engine_incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_engine_incident_instance_id'), ['instance_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_engine_incident_resolved_at'), ['resolved_at'], unique=False)

    


def downgrade():
    
    with op.batch_alter_table('engine_incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engine_incident_resolved_at'))
        batch_op.drop_index(batch_op.f('ix_engine_incident_instance_id'))

    op.drop_table('engine_incident')
    with op.batch_alter_table('engine_timer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engine_timer_instance_id'))
        batch_op.drop_index('ix_engine_timer_due')

    op.drop_table('engine_timer')
    with op.batch_alter_table('engine_task', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engine_task_instance_id'))
        batch_op.drop_index('ix_engine_task_inbox')

    op.drop_table('engine_task')
    with op.batch_alter_table('engine_message_wait', schema=None) as batch_op:
        batch_op.drop_index('ix_engine_message_wait_lookup')
        batch_op.drop_index(batch_op.f('ix_engine_message_wait_instance_id'))

    op.drop_table('engine_message_wait')
    with op.batch_alter_table('engine_job', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engine_job_instance_id'))
        batch_op.drop_index('ix_engine_job_due')

    op.drop_table('engine_job')
    with op.batch_alter_table('engine_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_engine_event_instance_id'))

    op.drop_table('engine_event')
    with op.batch_alter_table('engine_instance', schema=None) as batch_op:
        batch_op.drop_index('ix_engine_instance_status_started')
        batch_op.drop_index(batch_op.f('ix_engine_instance_scope'))
        batch_op.drop_index(batch_op.f('ix_engine_instance_definition_id'))
        batch_op.drop_index(batch_op.f('ix_engine_instance_business_key'))

    op.drop_table('engine_instance')
    op.drop_table('engine_definition')
    
