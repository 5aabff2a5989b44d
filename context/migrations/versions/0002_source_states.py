"""source states: each source's cursor and health

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 14:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import context.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("cursor", sa.JSON(), nullable=True),
        sa.Column(
            "last_success_at", context.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "last_error_at", context.types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("records_seen", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", name="uq_source_states_source"),
    )


def downgrade() -> None:
    op.drop_table("source_states")
