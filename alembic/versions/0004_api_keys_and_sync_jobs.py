"""API keys of the HTTP service (hashed) and catalog sync jobs

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("secret_sha256", sa.String(64), nullable=False),
        sa.Column(
            "installation_id",
            sa.String(100),
            sa.ForeignKey("installations.id", ondelete="CASCADE"),
        ),
        sa.Column("label", sa.Text),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "sync_jobs",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "installation_id",
            sa.String(100),
            sa.ForeignKey("installations.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("summary", JSONB),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_sync_jobs_installation_id", "sync_jobs", ["installation_id"])


def downgrade() -> None:
    op.drop_table("sync_jobs")
    op.drop_table("api_keys")
