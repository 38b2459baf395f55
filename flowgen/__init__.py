"""Flowgen: turn a business user's requirement into a low-code workflow (flow JSON).

Data flows through the top-level packages in this order:
requirement -> ``flowgen.graph`` (LangGraph state machine) -> ``flowgen.tools`` (catalog
retrieval) -> ``flowgen.db`` (Postgres/pgvector), and back as a flow that
``flowgen.flow`` models and validates and ``flowgen.metrics`` scores.
"""

__version__ = "0.1.0"
