"""Versioned createFlow and populateInputs templates, shared by inference and training (issue 6)."""
