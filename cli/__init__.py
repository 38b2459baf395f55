"""The `flowgen` command line (typer + rich)."""
