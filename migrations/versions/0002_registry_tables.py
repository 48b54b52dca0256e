"""registry tables

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 00:42:45.186808

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():

    op.create_table('jurisdiction',
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_jurisdiction'))
    )
    op.create_table('organisation',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credit_code', sa.String(length=18), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisation')),
    sa.UniqueConstraint('credit_code', name=op.f('uq_organisation_credit_code'))
    )
    op.create_table('project',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_number', sa.String(length=16), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('category', sa.String(length=8), nullable=False),
    sa.Column('sector', sa.String(length=4), nullable=True),
    sa.Column('general_project_id', sa.Integer(), nullable=True),
    sa.Column('location_code', sa.String(length=12), nullable=False),
    sa.Column('city_managed', sa.Boolean(), nullable=False),
    sa.Column('managing_code', sa.String(length=12), nullable=True),
    sa.Column('on_national_platform', sa.Boolean(), nullable=False),
    sa.Column('national_id', sa.String(length=64), nullable=True),
    sa.Column('completed_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("category <> 'SUB' OR general_project_id IS NOT NULL", name=op.f('ck_project_sub_has_general')),
    sa.CheckConstraint('NOT city_managed OR managing_code IS NULL', name=op.f('ck_project_one_manager')),
    sa.CheckConstraint('city_managed OR managing_code IS NOT NULL', name=op.f('ck_project_has_manager')),
    sa.ForeignKeyConstraint(['general_project_id'], ['project.id'], name=op.f('fk_project_general_project_id_project')),
    sa.ForeignKeyConstraint(['location_code'], ['jurisdiction.code'], name=op.f('fk_project_location_code_jurisdiction')),
    sa.ForeignKeyConstraint(['managing_code'], ['jurisdiction.code'], name=op.f('fk_project_managing_code_jurisdiction')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project')),
    sa.UniqueConstraint('project_number', name=op.f('uq_project_project_number'))
    )
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_location_code'), ['location_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_managing_code'), ['managing_code'], unique=False)

    op.create_table('user_account',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=100), nullable=False),
    sa.Column('password_hash', sa.String(length=256), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('jurisdiction_code', sa.String(length=12), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("role <> 'district_reviewer' OR jurisdiction_code IS NOT NULL", name=op.f('ck_user_account_district_has_jurisdiction')),
    sa.CheckConstraint("role <> 'enterprise' OR organisation_id IS NOT NULL", name=op.f('ck_user_account_enterprise_has_org')),
    sa.ForeignKeyConstraint(['jurisdiction_code'], ['jurisdiction.code'], name=op.f('fk_user_account_jurisdiction_code_jurisdiction')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_user_account_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_user_account')),
    sa.UniqueConstraint('username', name=op.f('uq_user_account_username'))
    )
    op.create_table('application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('applicant_id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('stages', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('data', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('target_grade', sa.String(length=1), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('instance_id', sa.Integer(), nullable=True),
    sa.Column('rounds', sa.Integer(), nullable=False),
    sa.Column('created_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['applicant_id'], ['organisation.id'], name=op.f('fk_application_applicant_id_organisation')),
    sa.ForeignKeyConstraint(['created_by'], ['user_account.id'], name=op.f('fk_application_created_by_user_account')),
    sa.ForeignKeyConstraint(['instance_id'], ['engine_instance.id'], name=op.f('fk_application_instance_id_engine_instance')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_application_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_application'))
    )
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.create_index('ix_application_org_status', ['applicant_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_application_project_id'), ['project_id'], unique=False)

    op.create_table('project_party',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_project_party_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_project_party_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_project_party')),
    sa.UniqueConstraint('project_id', 'organisation_id', 'role', name='uq_project_party')
    )
    with op.batch_alter_table('project_party', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_party_organisation_id'), ['organisation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_project_party_project_id'), ['project_id'], unique=False)

    op.create_table('stage_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('project_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=32), nullable=False),
    sa.Column('contract_key', sa.String(length=100), nullable=False),
    sa.Column('grade', sa.String(length=1), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('from_permit_system', sa.Boolean(), nullable=False),
    sa.Column('used_for_qualification', sa.Boolean(), nullable=False),
    sa.Column('marked_false', sa.Boolean(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['project_id'], ['project.id'], name=op.f('fk_stage_record_project_id_project')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_record')),
    sa.UniqueConstraint('project_id', 'stage', 'contract_key', name='uq_stage_record')
    )
    with op.batch_alter_table('stage_record', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stage_record_project_id'), ['project_id'], unique=False)

    op.create_table('attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('media_type', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_attachment_application_id_application')),
    sa.ForeignKeyConstraint(['uploaded_by'], ['user_account.id'], name=op.f('fk_attachment_uploaded_by_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment'))
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_application_id'), ['application_id'], unique=False)

    op.create_table('stage_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql'), nullable=False),
    sa.Column('changed_by', sa.String(length=100), nullable=True),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['application.id'], name=op.f('fk_stage_version_application_id_application')),
    sa.ForeignKeyConstraint(['record_id'], ['stage_record.id'], name=op.f('fk_stage_version_record_id_stage_record')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stage_version')),
    sa.UniqueConstraint('record_id', 'version', name='uq_stage_version')
    )
    with op.batch_alter_table('stage_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stage_version_record_id'), ['record_id'], unique=False)




def downgrade():

    with op.batch_alter_table('stage_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stage_version_record_id'))

    op.drop_table('stage_version')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_application_id'))

    op.drop_table('attachment')
    with op.batch_alter_table('stage_record', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stage_record_project_id'))

    op.drop_table('stage_record')
    with op.batch_alter_table('project_party', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_party_project_id'))
        batch_op.drop_index(batch_op.f('ix_project_party_organisation_id'))

    op.drop_table('project_party')
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_application_project_id'))
        batch_op.drop_index('ix_application_org_status')

    op.drop_table('application')
    op.drop_table('user_account')
    with op.batch_alter_table('project', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_managing_code'))
        batch_op.drop_index(batch_op.f('ix_project_location_code'))

    op.drop_table('project')
    op.drop_table('organisation')
    op.drop_table('jurisdiction')

