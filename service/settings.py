"""The service's limits, from `FLOWGEN_SERVICE_*` variables or the `flowgen serve` flags."""

from __future__ import annotations

import os

from pydantic import BaseModel, Field

from flowgen.flow.catalog import MAX_CATALOG_BYTES
from flowgen.graph.generator import MAX_REQUIREMENT_CHARS


class ServiceSettings(BaseModel):
    # One generation at a time uses both cores of a small CPU host; the embedded engine
    # decodes one call at a time anyway. A vLLM backend takes more.
    max_running: int = Field(1, ge=1)
    # Requests beyond running + waiting are answered 429 at once instead of piling up.
    max_waiting: int = Field(4, ge=0)
    generation_timeout_s: float = Field(300.0, gt=0)
    max_requirement_chars: int = Field(MAX_REQUIREMENT_CHARS, ge=1)
    # A catalog file has no use for more; the file loader alone allows MAX_CATALOG_BYTES.
    max_catalog_bytes: int = Field(min(MAX_CATALOG_BYTES, 20_000_000), ge=1)
    # Catalogs with more items than this are synced as a background job (202 + status URL).
    sync_job_items: int = Field(2000, ge=0)
    adapter: str = "default"

    @classmethod
    def from_env(cls, **overrides: object) -> ServiceSettings:
        values: dict[str, object] = {}
        for name in cls.model_fields:
            raw = os.environ.get(f"FLOWGEN_SERVICE_{name.upper()}")
            if raw is not None:
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)
