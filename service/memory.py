"""Process-wide memory settings for the long-running servers (`flowgen serve`,
`flowgen serve-model`)."""

from __future__ import annotations

import ctypes
import ctypes.util

# glibc's mallopt parameters (malloc.h).
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8
# glibc's own starting threshold: blocks from 128 KiB up get their own mapping.
MMAP_THRESHOLD = 128 * 1024


def tune_malloc(arenas: int = 2) -> bool:
    """Keep freed memory from piling up in glibc's malloc; True if set (False off glibc).

    At most `arenas` malloc arenas: by default glibc opens one per thread that allocates
    (up to 8 per core), and each keeps the memory its thread freed: the service's
    request, generation and database threads held ~40 MB that way after a few flows.
    A fixed mmap threshold: glibc raises it each time a mapped block is freed, after
    which every large block (a 192 KiB row of logits, copied per decoded token) comes
    from the heap and stays there when freed: ~20 MB more after four flows
    (docs/engine.md, "Memory")."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        arenas_set = libc.mallopt(_M_ARENA_MAX, arenas)
        threshold_set = libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    except (OSError, AttributeError):  # not glibc (musl has no mallopt)
        return False
    return bool(arenas_set and threshold_set)
