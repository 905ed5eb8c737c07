"""How log values are shown to people: short, and the same for every log.

:class:`~blocks.extensions.Printing` and
:class:`~blocks.extensions.ProgressBar` show log records with
:func:`format_record`: floats with a few significant digits, arrays
summarised, flags as booleans whichever backend stored them (the SQLite
log reads ``True`` back as ``1``).
"""
import numbers
from typing import Any

import numpy

from blocks.extensions.protocol import is_flag

__all__ = ['format_record', 'format_value']

#: Arrays with at most this many elements are shown whole.
MAX_SHOWN_ELEMENTS = 6


def format_value(value: Any, digits: int = 6) -> str:
    """A short text for a log value.

    Parameters
    ----------
    value : object
        The value.
    digits : int
        Significant digits of floats.

    Examples
    --------
    >>> format_value(0.009999999776482582)
    '0.01'
    >>> format_value(numpy.float32(1 / 3), digits=3)
    '0.333'
    >>> format_value(numpy.arange(3.0))
    '[0 1 2]'
    >>> format_value(numpy.zeros((100, 10), dtype='float32'))
    'array(shape=(100, 10), dtype=float32, mean=0, min=0, max=0)'
    """
    if isinstance(value, bool | numpy.bool_):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return f"{float(value):.{digits}g}"
    if isinstance(value, numpy.ndarray):
        return _format_array(value, digits)
    return str(value)


def _format_array(array: numpy.ndarray, digits: int) -> str:
    if array.ndim == 0:
        return format_value(array.item(), digits)
    numeric = array.dtype.kind in 'biuf'
    if array.size <= MAX_SHOWN_ELEMENTS and array.ndim == 1:
        return '[' + ' '.join(format_value(item, digits)
                              for item in array.tolist()) + ']'
    if not numeric or array.size == 0:
        return f"array(shape={array.shape}, dtype={array.dtype})"
    finite = array[numpy.isfinite(array)] if array.dtype.kind == 'f' else array
    if finite.size == 0:
        return f"array(shape={array.shape}, dtype={array.dtype}, no finite)"
    stats = ', '.join(f"{name}={format_value(function(finite), digits)}"
                      for name, function in (('mean', numpy.mean),
                                             ('min', numpy.min),
                                             ('max', numpy.max)))
    return f"array(shape={array.shape}, dtype={array.dtype}, {stats})"


def format_record(name: str, value: Any, digits: int = 6) -> str:
    """A short text for the value of the log record or status key ``name``.

    Flags of the log protocol (``training_finish_requested``,
    ``*_best_so_far``, ...) are shown as booleans even when the log
    stored them as integers.

    Examples
    --------
    >>> format_record('training_finish_requested', 1)
    'True'
    >>> format_record('iterations_done', 1)
    '1'
    """
    if (is_flag(name) and isinstance(value, numbers.Integral)
            and value in (0, 1)):
        return str(bool(value))
    return format_value(value, digits)
