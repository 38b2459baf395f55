"""Corpus generation and LoRA fine-tuning of the small model (issues 4 and 7)."""
