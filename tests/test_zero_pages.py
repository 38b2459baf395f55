"""Giving back the zero pages a model load leaves resident (engine/zero_pages.py)."""

from __future__ import annotations

import ctypes
import mmap
import sys

import pytest

from flowgen.engine.zero_pages import (
    PAGE,
    anonymous_memory,
    drop_zero_pages,
    resident_pages,
    subtract,
)

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc/self/maps")


def resident(buffer: mmap.mmap) -> int:
    """How many of the buffer's pages are in memory."""
    start = ctypes.addressof(ctypes.c_char.from_buffer(buffer))
    return int(resident_pages(start, start + len(buffer)).sum())


def zeroed_buffer(pages: int) -> mmap.mmap:
    """Private anonymous memory written with zeros, as llama.cpp clears its KV cache."""
    buffer = mmap.mmap(-1, pages * PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    buffer.write(b"\0" * (pages * PAGE))
    return buffer


def test_subtract_keeps_only_what_is_new() -> None:
    assert subtract([(0, 100)], [(20, 30), (60, 100)]) == [(0, 20), (30, 60)]
    assert subtract([(0, 100)], [(0, 100)]) == []
    assert subtract([(0, 100), (200, 300)], []) == [(0, 100), (200, 300)]


def test_zero_pages_are_given_back_and_data_kept() -> None:
    before = anonymous_memory()
    pages = 8192  # 32 MB, above MIN_REGION
    buffer = zeroed_buffer(pages)
    written = [3, 4, 5000, pages - 1]
    for page in written:
        buffer[page * PAGE + 17] = 0x5A
    assert resident(buffer) == pages

    dropped = drop_zero_pages(before)

    assert dropped >= (pages - len(written)) * PAGE
    assert resident(buffer) == len(written)
    for page in written:  # what was written is still there, the rest reads as zeros
        assert buffer[page * PAGE + 17] == 0x5A
    assert buffer[:PAGE] == b"\0" * PAGE
    assert sum(buffer[3 * PAGE : 6 * PAGE]) == 2 * 0x5A
    buffer.close()


def test_untouched_memory_is_neither_read_nor_counted() -> None:
    before = anonymous_memory()
    fresh = mmap.mmap(-1, 8192 * PAGE, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    fresh[5 * PAGE] = 1  # one page written, the rest never touched
    assert drop_zero_pages(before) == 0
    assert resident(fresh) == 1
    fresh.close()


def test_memory_mapped_before_is_left_alone() -> None:
    buffer = zeroed_buffer(8192)
    before = anonymous_memory()  # already mapped: not the load's memory
    drop_zero_pages(before)
    assert resident(buffer) == 8192
    buffer.close()
