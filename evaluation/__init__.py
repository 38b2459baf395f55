"""Evaluation: run the generator (or a baseline) on case files and analyse the results."""
