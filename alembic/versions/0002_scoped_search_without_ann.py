"""Columns and choices: no HNSW or GIN indexes (their searches are scoped to one table)

A column search is filtered to one table's lineage and a value search to one column: a
few dozen rows, found by the unique index and ranked exactly. The approximate indexes
only slowed bulk syncs (HNSW maintenance dominated inserting 150,000 rows) and, filtering
after the scan, could return fewer than k rows.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TABLES = ("columns", "choices")


def upgrade() -> None:
    for table in TABLES:
        op.drop_index(f"ix_{table}_embedding", table_name=table)
        op.drop_index(f"ix_{table}_search", table_name=table)


def downgrade() -> None:
    for table in TABLES:
        op.create_index(
            f"ix_{table}_embedding",
            table,
            ["embedding"],
            postgresql_using="hnsw",
            postgresql_ops={"embedding": "vector_cosine_ops"},
        )
        op.create_index(f"ix_{table}_search", table, ["search"], postgresql_using="gin")
