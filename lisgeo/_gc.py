"""Bulk allocation without Python's cyclic garbage collector scanning it over and over."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a bulk of long-lived objects is made: a network's
    hundreds of thousands of node, adjacency and attribute dicts (built, copied or read back from a
    pickle). Every full collection meanwhile would scan all of them again: about 1.2 s of D2N2's
    network build and 1 s of reading it back (``benchmarks/README.md``). Reference counting still
    frees whatever is dropped; the collector's state on entry is restored on exit (nesting is safe:
    only the outermost pause turns it back on)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def collect_never() -> None:
    """Turn the cyclic garbage collector off for the rest of a one-shot process: the ``lisgeo``
    command, never a caller's Python session.

    A command makes millions of long-lived objects (a network's dicts, map pages' element trees,
    frames' text) and little cyclic garbage: each full collection scans them all again for almost
    nothing. Measured on D2N2 (``benchmarks/README.md``): a cold ``lisgeo build`` about 2 s
    faster, with the same peak memory (1.58 GB in one process, with and without the collector).
    Reference counting still frees everything that is not in a cycle, and the process ends when
    the command does."""
    gc.disable()
