"""Probe reports: what a re-evaluation (worker or client) found, one row per job.

Revision ID: c440c8207505
Revises: f944bfc9c298
Create Date: 2026-11-22 03:07:36.056255
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = 'c440c8207505'
down_revision: str | None = 'f944bfc9c298'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('probe_reports',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('run_id', sa.String(length=36), nullable=False),
    sa.Column('job_id', sa.String(length=36), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('report', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_probe_reports_job_id_jobs'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['run_id'], ['runs.id'], name=op.f('fk_probe_reports_run_id_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_probe_reports')),
    sa.UniqueConstraint('job_id', name=op.f('uq_probe_reports_job_id'))
    )
    with op.batch_alter_table('probe_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_probe_reports_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_probe_reports_run_id'), ['run_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('probe_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_probe_reports_run_id'))
        batch_op.drop_index(batch_op.f('ix_probe_reports_created_at'))

    op.drop_table('probe_reports')
