"""The flow contract (spec §1–3): models of flows and catalogs, and the validator."""
