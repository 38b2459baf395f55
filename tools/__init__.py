"""Retrieval tools over one installation's catalog, called by the graph (issue 3)."""
