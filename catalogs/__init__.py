"""The installation catalogs (spec §3) that ship with flowgen, as package data: read them
through `flowgen.shipped` (`catalogs()`, `catalog_file()`), not by path."""
