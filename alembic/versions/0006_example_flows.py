"""Example flows: each installation's own flows and the shared library

The generator shows the model the solved flows nearest to a requirement. An
installation's own flows (synced with its catalog or by `flowgen flows sync`) are the
best guide to how that customer builds; the shared library (the training corpus) is
offered only where its steps and tables exist.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "example_flows",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "installation_id",
            sa.String(100),
            sa.ForeignKey("installations.id", ondelete="CASCADE"),
        ),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("written_for", sa.Text, nullable=False),
        sa.Column("requirement", sa.Text, nullable=False),
        sa.Column("flow", JSONB, nullable=False),
        sa.Column("steps", ARRAY(sa.Text), nullable=False),
        sa.Column("tables", ARRAY(sa.Text), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("embedding", Vector(384), nullable=False),
    )
    op.create_index("ix_example_flows_installation_id", "example_flows", ["installation_id"])
    op.create_index(
        "ux_example_flows_library_name",
        "example_flows",
        [sa.text("coalesce(installation_id, '')"), "name"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_table("example_flows")
