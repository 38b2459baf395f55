"""The catalog store: SQLAlchemy models of installations and their catalogs (issue 3)."""
