"""application statuses that say where things stand: an application whose notice is on the
board reads in_publicity (it read submitted before the lifecycle had the status)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 22:10:00

"""
from alembic import op

# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.execute("""
        UPDATE application SET status = 'in_publicity'
        WHERE status = 'submitted' AND EXISTS (
            SELECT 1 FROM publicity_notice
            WHERE publicity_notice.application_id = application.id
              AND publicity_notice.status = 'open')""")


def downgrade():
    op.execute("""
        UPDATE application SET status = 'submitted'
        WHERE status IN ('in_publicity', 'objection', 'pushing', 'push_failed')""")
