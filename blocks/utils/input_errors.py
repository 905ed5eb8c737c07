"""Errors that name the data source when a batch does not fit a function.

PyTensor's own message for a batch of the wrong dtype names a ``function``
the user never called and prints the array. The callers (the training
algorithm, the monitoring evaluators) catch the :class:`TypeError` after
the fact, so that the batches that fit cost nothing, and ask
:func:`input_mismatch_error` for a message that names the source, what it
holds, what the graph expects and how to fix it.
"""
from collections.abc import Sequence
from typing import Any

import numpy

__all__ = ['input_mismatch_error']

_FLOAT_FIX = (
    "Cast the stream, e.g. Cast(stream, '{expected}', "
    "which_sources=('{name}',)) from blocks.data.transformers (or "
    "ForceFloatX with blocks.data.config.floatX = '{expected}'), or build "
    "the graph for {got} data by setting PyTensor's floatX "
    "(PYTENSOR_FLAGS=floatX={got}).")
_INTEGER_FIX = (
    "Cast the stream to an integer type, e.g. Cast(stream, '{expected}', "
    "which_sources=('{name}',)) from blocks.data.transformers, or declare "
    "the input with a float dtype if it really holds real numbers.")
_GENERIC_FIX = (
    "Cast the stream, e.g. Cast(stream, '{expected}', "
    "which_sources=('{name}',)) from blocks.data.transformers, or declare "
    "the input with dtype {got}.")
_STRING_FIX = (
    "Turn the strings into numbers in the stream (a Mapping, or a "
    "dictionary lookup such as TextFile's) before they reach the graph.")
_NDIM_FIX = (
    "Give the stream batches of that shape (a batch iteration scheme or "
    "Batch adds the batch axis), or declare the input with {ndim} "
    "dimension(s).")


def _describe(name: str, value: Any, variable: Any) -> str | None:
    """What is wrong with feeding ``value`` to ``variable``, or ``None``."""
    expected = getattr(variable.type, 'dtype', None)
    expected_ndim = getattr(variable.type, 'ndim', None)
    if expected is None:  # not a tensor input: nothing to say
        return None
    try:
        array = numpy.asarray(value)
    except Exception:  # noqa: BLE001 - ragged data: let PyTensor's stand
        return None
    got = array.dtype
    head = (f"the source {name!r} holds {got} data (shape {array.shape}), "
            f"but the graph input {name!r} expects {expected}")
    if got.kind in 'USOV' and got.kind != numpy.dtype(expected).kind:
        kind = 'string' if got.kind in 'US' else f'{got} (non-numeric)'
        return (f"the source {name!r} holds {kind} data, but the graph "
                f"input {name!r} expects {expected} numbers. "
                + _STRING_FIX)
    if not numpy.can_cast(got, expected, casting='safe'):
        expected_kind = numpy.dtype(expected).kind
        if got.kind == 'f' and expected_kind == 'f':
            fix = _FLOAT_FIX
        elif got.kind == 'f' and expected_kind in 'iu':
            fix = _INTEGER_FIX
        else:
            fix = _GENERIC_FIX
        return (f"{head}: PyTensor does not convert it silently. "
                + fix.format(expected=expected, got=got, name=name))
    if expected_ndim is not None and array.ndim != expected_ndim:
        return (f"the source {name!r} has {array.ndim} dimension(s) (shape "
                f"{array.shape}), but the graph input {name!r} expects "
                f"{expected_ndim}. " + _NDIM_FIX.format(ndim=array.ndim))
    return None


def input_mismatch_error(inputs: Sequence[Any], values: Sequence[Any],
                         consumer: str) -> TypeError | None:
    """An error naming the sources that do not fit their graph inputs.

    Parameters
    ----------
    inputs
        The input variables of the compiled function, named after the
        sources that feed them.
    values
        The values given for them, in the same order.
    consumer
        What was fed, for the message (``"the training algorithm"``).

    Returns
    -------
    TypeError or None
        ``None`` when every value fits, so that the caller re-raises the
        original error.

    Examples
    --------
    >>> import numpy
    >>> from pytensor import tensor
    >>> features = tensor.matrix('features', dtype='float32')
    >>> error = input_mismatch_error([features], [numpy.zeros((2, 3))],
    ...                              'the training algorithm')
    >>> print(str(error)[:72])
    the training algorithm cannot use the batch: the source 'features' holds
    """
    problems = [problem for variable, value in zip(inputs, values,
                                                   strict=True)
                if (problem := _describe(str(variable.name), value,
                                         variable)) is not None]
    if not problems:
        return None
    return TypeError(f"{consumer} cannot use the batch: "
                     + "\n".join(problems))
