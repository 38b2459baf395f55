"""The HTTP service (`flowgen serve`): the generator, the catalog store and run traces
behind a FastAPI app, with per-installation API keys and bounded generation."""
