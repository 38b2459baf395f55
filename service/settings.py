"""The service's limits, from `FLOWGEN_SERVICE_*` variables or the `flowgen serve` flags.

They are defined with every other setting in `flowgen.settings`."""

from __future__ import annotations

from flowgen.settings import ServiceSettings

__all__ = ["ServiceSettings"]
