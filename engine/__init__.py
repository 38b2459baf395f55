"""The model engine: one small language model with LoRA adapters, local or remote,
with grammar-constrained decoding (issue 5)."""
