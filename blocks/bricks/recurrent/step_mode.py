"""The mode that step functions (scan's inner functions) compile with.

:func:`~blocks.bricks.recurrent.recurrent` gives scan blocks' default mode
(:func:`step_mode`); without it scan would compile the step with
PyTensor's default mode, whatever the function around it uses.

Two rewrites of this module adapt that mode to the step functions:

* :data:`SIGMOID_AS_TANH_REWRITE` computes ``sigmoid(x)`` as
  ``0.5 * tanh(0.5 * x) + 0.5``, which blocks' NumPy ufunc rewrite
  (:data:`~blocks.compilation.NUMPY_UFUNCS_REWRITE`) then computes with
  NumPy's vectorised ``tanh``: the gates of an LSTM or a GRU (forward and,
  through scan's gradient, backward) otherwise spend most of their time in
  the C library's scalar ``exp``.
* ``blocks_undo_numpy_ufuncs_{numba,jax}``: when the function around the
  scan is compiled by Numba or JAX, the backend rewrites the step with the
  scan's mode plus its own rewrites; these rewrites, tagged for the
  backends, turn :class:`~blocks.compilation.NumpyUfunc` operations and
  the C mode's :class:`~blocks.fast_tanh.RationalTanh` (which they cannot
  compile) back into PyTensor's elementwise operations.
"""
from pytensor.compile import optdb
from pytensor.compile.mode import get_mode, Mode
from pytensor.graph.rewriting.basic import in2out, node_rewriter
from pytensor.scalar import basic as scalar
from pytensor.scalar.math import Sigmoid
from pytensor.tensor import tanh
from pytensor.tensor.elemwise import Elemwise

from blocks.compilation import default_mode, describe, NumpyUfunc
from blocks.fast_tanh import RationalTanh

__all__ = ['step_mode', 'SIGMOID_AS_TANH_REWRITE',
           'UNDO_NUMPY_UFUNCS_REWRITE']

#: Name of the rewrite computing ``sigmoid`` through ``tanh``.
SIGMOID_AS_TANH_REWRITE = 'blocks_sigmoid_as_tanh'

#: Before blocks' NumPy ufunc rewrite (47).
SIGMOID_AS_TANH_POSITION = 46.5

#: Prefix of the rewrites' names (``..._numba`` and ``..._jax``).
UNDO_NUMPY_UFUNCS_REWRITE = 'blocks_undo_numpy_ufuncs'

_ELEMWISE = {'tanh': Elemwise(scalar.tanh), 'exp': Elemwise(scalar.exp),
             'log': Elemwise(scalar.log)}


def step_mode() -> Mode:
    """The mode of step functions: blocks' default, or the user's choice.

    When the user chose a mode (``PYTENSOR_FLAGS``), it is that mode
    rather than the ``cvm`` mode scan falls back to.
    """
    mode = get_mode(default_mode())
    if 'NumPy tanh' in describe(mode)['optimizer']:
        mode = mode.register((in2out(local_sigmoid_as_tanh,
                                     name=SIGMOID_AS_TANH_REWRITE),
                              SIGMOID_AS_TANH_POSITION))
    return mode


def _sigmoid_as_tanh(fgraph, node):
    """``sigmoid(x)`` as ``0.5 * tanh(0.5 * x) + 0.5``."""
    if not isinstance(node.op.scalar_op, Sigmoid):
        return None
    (x,) = node.inputs
    if x.dtype not in ('float32', 'float64'):
        return None
    # Python floats keep x's dtype (float32 stays float32).
    result = tanh(x * 0.5) * 0.5 + 0.5
    return [result.astype(node.outputs[0].dtype)]


# Defined apart from the function it wraps, so that the mode, which holds
# it, pickles (with checkpoints) by reference to the function.
local_sigmoid_as_tanh = node_rewriter([Elemwise])(_sigmoid_as_tanh)


@node_rewriter([NumpyUfunc, Elemwise])
def local_undo_numpy_ufuncs(fgraph, node):
    """Replace blocks' C-mode ``tanh``, ``exp`` and ``log`` by PyTensor's."""
    if isinstance(node.op, NumpyUfunc):
        return [_ELEMWISE[node.op.name](node.inputs[0])]
    if isinstance(node.op.scalar_op, RationalTanh):
        return [_ELEMWISE['tanh'](node.inputs[0])]
    return None


# After blocks' rewrite (47), before elementwise fusion (49). Once per
# backend: the JAX backend excludes whatever is tagged `numba`.
for _backend in ('numba', 'jax'):
    optdb.register(f'{UNDO_NUMPY_UFUNCS_REWRITE}_{_backend}',
                   in2out(local_undo_numpy_ufuncs), _backend, position=47.5)
