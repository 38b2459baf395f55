"""Give back the zero-filled pages a model load leaves resident (Linux).

llama.cpp clears its KV cache when it creates a context: every page of a 4,096-token
cache is written with zeros and stays resident (~90 MB for SmolLM2-135M), though a flow's
conversations fill a third of it. An anonymous private page dropped with
`madvise(MADV_DONTNEED)` reads back as zeros on its next touch, so dropping pages that
hold only zeros changes no byte the program can see; it only returns memory that was
never used. `anonymous_memory()` before the load and `drop_zero_pages()` after it
limit this to the memory the load itself mapped (docs/engine.md, "Memory").
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache
from pathlib import Path
from typing import Any

PAGE = 4096
_MADV_DONTNEED = 4
# Only regions this large are scanned: llama.cpp's buffers (KV cache, compute buffer,
# logits). Small new mappings may be other threads' heaps, in use while we scan.
MIN_REGION = 16 << 20
# Pages scanned per step, so the scan holds one small view at a time.
_CHUNK_PAGES = 2048

Ranges = list[tuple[int, int]]


def anonymous_memory() -> Ranges:
    """The process's private, writable, anonymous mappings as (start, end)."""
    ranges: Ranges = []
    try:
        lines = Path("/proc/self/maps").read_text().splitlines()
    except OSError:  # not Linux
        return ranges
    for line in lines:
        fields = line.split()
        # An anonymous mapping has no path (the heap and stack are named; left alone).
        if len(fields) == 5 and fields[1] == "rw-p":
            start, end = (int(x, 16) for x in fields[0].split("-"))
            ranges.append((start, end))
    return ranges


def subtract(ranges: Ranges, old: Ranges) -> Ranges:
    """The parts of `ranges` outside every range of `old` (the kernel merges a new
    mapping into an adjacent old one, so a new buffer may be the tail of a range)."""
    left: Ranges = []
    for start, end in ranges:
        pieces = [(start, end)]
        overlapping = [
            (o_start, o_end) for o_start, o_end in old if o_start < end and o_end > start
        ]
        for o_start, o_end in overlapping:
            pieces = [
                part
                for s, e in pieces
                for part in ((s, min(e, o_start)), (max(s, o_end), e))
                if part[0] < part[1]
            ]
        left += pieces
    return left


@cache
def _libc() -> Any:
    """glibc with `madvise` and `mincore` typed; None where there is no C library."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    libc = ctypes.CDLL(name, use_errno=True)
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    return libc


def resident_pages(start: int, end: int) -> Any:
    """Which pages of [start, end) are in memory, as a numpy bool array (mincore);
    None if it cannot be read."""
    import numpy as np

    libc = _libc()
    residency = (ctypes.c_ubyte * ((end - start) // PAGE))()
    if libc is None or libc.mincore(start, end - start, residency) != 0:
        return None
    return (np.ctypeslib.as_array(residency) & 1).astype(bool)


def drop_zero_pages(before: Ranges) -> int:
    """madvise away the resident all-zero pages of the anonymous memory mapped since
    `before` (regions of at least MIN_REGION); returns the bytes given back (0 off Linux).

    Only resident pages: a page holding zeros in memory was written with them (a
    cleared buffer, as llama.cpp's cache), while another thread's fresh buffer that it
    has not filled yet is not resident at all, so it is neither read nor dropped. Left
    unguarded: a zero page of another thread's new buffer of 16 MB or more, written with
    zeros and then written again between the check and the madvise; nothing in flowgen
    fills such a buffer while a model loads."""
    import numpy as np

    libc = _libc()
    if libc is None:
        return 0
    dropped = 0
    for start, end in subtract(anonymous_memory(), before):
        if end - start < MIN_REGION:
            continue
        for chunk in range(start, end, _CHUNK_PAGES * PAGE):
            size = min(_CHUNK_PAGES * PAGE, end - chunk)
            in_memory = resident_pages(chunk, chunk + size)
            if in_memory is None:
                continue
            words = np.ctypeslib.as_array(
                (ctypes.c_uint64 * (size // 8)).from_address(chunk)
            ).reshape(-1, PAGE // 8)
            zero = np.zeros(size // PAGE, dtype=bool)
            zero[in_memory] = ~words[in_memory].any(axis=1)  # reads resident pages only
            # Runs of zero pages, each given back with one call.
            edges = np.flatnonzero(np.diff(np.concatenate(([0], zero.view(np.int8), [0]))))
            for first, last in zip(edges[::2], edges[1::2], strict=True):
                length = int(last - first) * PAGE
                if libc.madvise(chunk + int(first) * PAGE, length, _MADV_DONTNEED) == 0:
                    dropped += length
    return dropped
