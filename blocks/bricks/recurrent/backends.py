"""Step functions that every PyTensor backend can compile.

:func:`~blocks.bricks.recurrent.recurrent` compiles the step function with
blocks' default mode, whose rewrite :data:`~blocks.compilation.\
NUMPY_UFUNCS_REWRITE` replaces ``tanh``, ``exp`` and ``log`` by
:class:`~blocks.compilation.NumpyUfunc`, a Python operation. When the
function around the scan is compiled by Numba or JAX, the backend rewrites
the step with the scan's mode plus its own rewrites: the rewrite here,
tagged for both backends, turns the NumPy ufuncs back into PyTensor's
elementwise operations, which those backends compile.
"""
from pytensor.compile import optdb
from pytensor.graph.rewriting.basic import in2out, node_rewriter
from pytensor.scalar import basic as scalar
from pytensor.tensor.elemwise import Elemwise

from blocks.compilation import NumpyUfunc

__all__ = ['UNDO_NUMPY_UFUNCS_REWRITE']

#: Prefix of the rewrites' names (``..._numba`` and ``..._jax``).
UNDO_NUMPY_UFUNCS_REWRITE = 'blocks_undo_numpy_ufuncs'

_ELEMWISE = {'tanh': Elemwise(scalar.tanh), 'exp': Elemwise(scalar.exp),
             'log': Elemwise(scalar.log)}


@node_rewriter([NumpyUfunc])
def local_undo_numpy_ufuncs(fgraph, node):
    """Replace a :class:`~blocks.compilation.NumpyUfunc` by an Elemwise."""
    return [_ELEMWISE[node.op.name](node.inputs[0])]


# After blocks' rewrite (47), before elementwise fusion (49). Once per
# backend: the JAX backend excludes whatever is tagged `numba`.
for _backend in ('numba', 'jax'):
    optdb.register(f'{UNDO_NUMPY_UFUNCS_REWRITE}_{_backend}',
                   in2out(local_undo_numpy_ufuncs), _backend, position=47.5)
