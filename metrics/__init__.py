"""Scoring generated flows against gold ones: FlowSim (spec §4), LCSS and error rates."""
