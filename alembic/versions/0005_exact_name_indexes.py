"""Triggers, steps and tables: indexes for the exact-name ranker of hybrid search

Every hybrid search also looks for items whose lower-cased name or label is the query
(`#incident`, "Look Up Records"). Without an index that was a sequential scan computing
`lower()` for every row of the kind: 5.6 of the 9.9 ms of a step search on the
2,000-step benchmark installation. With these, two index probes.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("triggers", "steps", "tables")


def upgrade() -> None:
    for table in TABLES:
        for column in ("name", "label"):
            op.create_index(
                f"ix_{table}_lower_{column}",
                table,
                ["installation_id", sa.text(f"lower({column})")],
            )


def downgrade() -> None:
    for table in TABLES:
        for column in ("name", "label"):
            op.drop_index(f"ix_{table}_lower_{column}", table_name=table)
