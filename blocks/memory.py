"""Keep the memory a compiled function frees for its next call.

A training step allocates the same large arrays at every call (the
outputs of a scan, the gradients of a whole sequence) and frees them at
the end. GNU libc hands blocks above its thresholds back to the system
(``munmap``, or trimming the top of the heap), so the next call gets fresh
pages, and the kernel zeroes each 4 KiB page on its first write. That cost
about 0.45 ms per megabyte here: 26 ms of a 98 ms LSTM training step (50
steps, batch 32, dimension 256), charged to whichever operation first
wrote to the memory. With the thresholds raised, freed memory stays in the
process and is reused; the process keeps its peak memory between calls,
which the next call reaches again anyway.

:func:`keep_freed_memory` raises the thresholds once per process, when
blocks builds its first compile mode, unless blocks' ``keep_freed_memory``
option is false or the user set glibc's own ``MALLOC_MMAP_THRESHOLD_`` /
``MALLOC_TRIM_THRESHOLD_`` variables. Elsewhere than on glibc it does
nothing.
"""
import ctypes
import ctypes.util
import functools
import os
import platform

from blocks.config import config

__all__ = ['MMAP_THRESHOLD', 'TRIM_THRESHOLD', 'keep_freed_memory']

#: Blocks smaller than this come from the heap, not from ``mmap``.
MMAP_THRESHOLD = 256 << 20

#: Free memory at the top of the heap kept rather than returned.
TRIM_THRESHOLD = 1 << 30

# mallopt's parameter numbers (malloc.h).
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

_GLIBC_VARIABLES = ('MALLOC_MMAP_THRESHOLD_', 'MALLOC_TRIM_THRESHOLD_')


@functools.cache
def keep_freed_memory() -> bool:
    """Stop glibc from returning large freed blocks to the system.

    Runs once per process; later calls return the first call's answer
    without doing anything.

    Returns
    -------
    bool
        Whether the thresholds were raised.

    """
    if not config.keep_freed_memory:
        return False
    if any(name in os.environ for name in _GLIBC_VARIABLES):
        return False
    if platform.libc_ver()[0] != 'glibc':
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6')
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    # A fixed mmap threshold also stops glibc's adjusting of both.
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD) and
                mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
