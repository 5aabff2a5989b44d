"""deletions and merges: every sourced row can be marked deleted or merged; an
account says whether it yields to a CRM account of the same customer

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-03 15:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import context.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = (
    "reps",
    "accounts",
    "account_aliases",
    "people",
    "deals",
    "activities",
    "conversations",
    "conversation_turns",
    "usage_records",
    "subscriptions",
    "invoices",
    "meetings",
    "meeting_attendees",
)


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(
            sa.Column(
                "secondary", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column(
                    "deleted_at",
                    context.types.UTCDateTime(timezone=True),
                    nullable=True,
                )
            )
            batch.add_column(
                sa.Column("merged_into", sa.String(length=255), nullable=True)
            )


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("merged_into")
            batch.drop_column("deleted_at")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("secondary")
