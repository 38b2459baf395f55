"""Process-wide memory settings for the long-running servers (`flowgen serve`,
`flowgen serve-model`)."""

from __future__ import annotations

import ctypes
import ctypes.util

# glibc's mallopt parameter for the number of malloc arenas (malloc.h).
_M_ARENA_MAX = -8


def limit_malloc_arenas(arenas: int = 2) -> bool:
    """Let glibc keep at most `arenas` malloc arenas. By default it opens one per thread
    that allocates (up to 8 per core), and each keeps the memory its thread freed: the
    service's request, generation and database threads held ~40 MB that way after a few
    flows (docs/engine.md, "Memory"). True if set (False off glibc)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        return bool(libc.mallopt(_M_ARENA_MAX, arenas))
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
