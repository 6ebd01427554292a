"""Jobs say which stage they are in, next to their progress.

Revision ID: 5a7e1c0d9b21
Revises: c440c8207505
Create Date: 2026-12-01 18:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '5a7e1c0d9b21'
down_revision: str | None = 'c440c8207505'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stage', sa.String(length=128), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('jobs', schema=None) as batch_op:
        batch_op.drop_column('stage')
