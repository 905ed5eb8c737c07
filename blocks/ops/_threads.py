"""The NumPy work of the Ops split over as many threads as the BLAS uses.

The matrix products of a convolution use SciPy's OpenBLAS threads (see
:mod:`blocks.ops._blas`); the copies of image windows and the pooling are
whole-array NumPy operations, which release the GIL, so that threads run
them in parallel. :func:`split` cuts such work along its first axis into
as many parts as SciPy's OpenBLAS has threads (``OPENBLAS_NUM_THREADS``,
``OMP_NUM_THREADS`` or threadpoolctl set that number), so one setting
bounds the threads of a whole training step. Small work runs unsplit.
"""
import ctypes
import functools
import glob
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy
import scipy

#: Arrays of fewer elements than this per thread are not split: starting
#: a task costs tens of microseconds.
MIN_ELEMENTS = 1 << 16


@functools.cache
def _blas_threads() -> Callable[[], int]:
    """A function giving the thread count of SciPy's bundled OpenBLAS
    (1 where there is none, e.g. SciPy from conda)."""
    library_dir = os.path.join(os.path.dirname(scipy.__file__), os.pardir,
                               'scipy.libs')
    for path in sorted(glob.glob(os.path.join(library_dir,
                                              'libscipy_openblas-*.so'))):
        try:
            getter = ctypes.CDLL(path).scipy_openblas_get_num_threads
        except (OSError, AttributeError):
            continue
        getter.restype = ctypes.c_int
        return getter
    return lambda: 1


def threads() -> int:
    """The number of threads of SciPy's OpenBLAS, read at each call (so
    that threadpoolctl's changes count)."""
    return _blas_threads()()


_executor: ThreadPoolExecutor | None = None
_executor_key: tuple[int, int] | None = None


def _workers(count: int) -> ThreadPoolExecutor:
    global _executor, _executor_key
    # A forked process inherits the executor but not its threads.
    key = (os.getpid(), count)
    if _executor_key != key:
        if _executor is not None and _executor_key[0] == key[0]:
            _executor.shutdown(wait=False)
        _executor = ThreadPoolExecutor(count, 'blocks-ops')
        _executor_key = key
    return _executor


def split(function: Callable[[int, int], object], size: int,
          elements: int) -> None:
    """Call ``function(start, stop)`` over parts of ``range(size)``.

    Parameters
    ----------
    function : callable
        Does the work of rows `start` to `stop` of the first axis; the
        parts must not write to the same memory.
    size : int
        The length of the first axis.
    elements : int
        The elements the whole work touches: small work runs in one call.

    """
    parts = min(threads(), size, elements // MIN_ELEMENTS)
    if parts <= 1:
        function(0, size)
        return
    bounds = [size * i // parts for i in range(parts + 1)]
    workers = _workers(parts - 1)
    futures = [workers.submit(function, start, stop)
               for start, stop in zip(bounds[1:-1], bounds[2:])]
    function(bounds[0], bounds[1])
    for future in futures:
        future.result()


def copy(x):
    """``numpy.ascontiguousarray(x)``, copied by :func:`split`."""
    if x.ndim == 0 or x.flags.c_contiguous:
        return numpy.ascontiguousarray(x)
    out = numpy.empty(x.shape, dtype=x.dtype)

    def part(start, stop):
        out[start:stop] = x[start:stop]

    split(part, x.shape[0], x.size)
    return out
