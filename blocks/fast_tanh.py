"""A float32 ``tanh`` that the C compiler vectorises.

The gates of recurrent steps are ``tanh`` and ``sigmoid`` (computed as
``tanh``, see :mod:`blocks.bricks.recurrent.step_mode`) of small
matrices, at every step. PyTensor's C code calls the C library's scalar
``tanhf``, which no compiler vectorises; blocks' NumPy ufunc
(:class:`~blocks.kernels.NumpyUfunc`) is vectorised but runs as a Python
thunk of its own (about 6 microseconds a call, five calls per LSTM step)
and keeps ``tanh`` out of the fused elementwise loops around it.

:class:`RationalTanh` computes float32 ``tanh`` as the ratio of two
polynomials (degree 13 over 6, the approximation Eigen and so TensorFlow
and PyTorch's CPU kernels use), in plain arithmetic that fuses with its
neighbours into one :class:`~blocks.kernels.FlatElemwise` loop, which GCC
vectorises. Its largest error against the exact value is 3.4e-7 (six
units in the last place of a float32 near 1; NumPy's own float32 ``tanh``
is off by 6e-8); ``tests/test_fast_tanh.py``
checks it on a dense grid.
"""
import numpy
from pytensor.graph.rewriting.basic import node_rewriter
from pytensor.scalar import basic as scalar
from pytensor.tensor.elemwise import Elemwise

__all__ = ['RationalTanh', 'local_rational_tanh', 'rational_tanh']

# Beyond this, tanh rounds to +-1 in float32.
_CLAMP = 7.90531110763549805
# Below this, tanh(x) rounds to x.
_TINY = 0.0004
_NUMERATOR = (4.89352455891786e-03, 6.37261928875436e-04,
              1.48572235717979e-05, 5.12229709037114e-08,
              -8.60467152213735e-11, 2.00018790482477e-13,
              -2.76076847742355e-16)
_DENOMINATOR = (4.89352518554385e-03, 2.26843463243900e-03,
                1.18534705686654e-04, 1.19825839466702e-06)


def _horner(coefficients, variable):
    """C source of the polynomial in `variable` (lowest degree first)."""
    source = f'{coefficients[-1]!r}f'
    for coefficient in reversed(coefficients[:-1]):
        source = f'({source} * {variable} + {coefficient!r}f)'
    return source


_C_FUNCTION = f"""
#ifndef BLOCKS_RATIONAL_TANHF
#define BLOCKS_RATIONAL_TANHF
static inline float blocks_rational_tanhf(float a) {{
    const float x = a > {_CLAMP}f ? {_CLAMP}f :
                    (a < -{_CLAMP}f ? -{_CLAMP}f : a);
    const float x2 = x * x;
    const float p = x * {_horner(_NUMERATOR, 'x2')};
    const float q = {_horner(_DENOMINATOR, 'x2')};
    return (a < {_TINY}f && a > -{_TINY}f) ? a : p / q;
}}
#endif
"""


def rational_tanh(x: numpy.ndarray) -> numpy.ndarray:
    """The approximation in NumPy, in float32 (for Python thunks)."""
    x = numpy.asarray(x, dtype='float32')
    clamped = numpy.clip(x, numpy.float32(-_CLAMP), numpy.float32(_CLAMP))
    x2 = clamped * clamped
    p = numpy.float32(_NUMERATOR[-1])
    for coefficient in reversed(_NUMERATOR[:-1]):
        p = p * x2 + numpy.float32(coefficient)
    q = numpy.float32(_DENOMINATOR[-1])
    for coefficient in reversed(_DENOMINATOR[:-1]):
        q = q * x2 + numpy.float32(coefficient)
    return numpy.where(numpy.abs(x) < numpy.float32(_TINY), x,
                       clamped * p / q).astype('float32')


class RationalTanh(scalar.UnaryScalarOp):
    """Float32 ``tanh`` as a rational function (see the module)."""

    def impl(self, x):
        return rational_tanh(x)

    def pullback(self, inputs, outputs, output_gradients):
        (gz,) = output_gradients
        (y,) = outputs
        return [gz * (1 - y * y)]

    def c_support_code(self, **kwargs):
        return _C_FUNCTION

    def c_code(self, node, name, inputs, outputs, sub):
        (x,), (z,) = inputs, outputs
        if node.inputs[0].type != scalar.float32:
            raise NotImplementedError('RationalTanh computes float32')
        return f'{z} = blocks_rational_tanhf({x});'

    def c_code_cache_version(self):
        return (1,)


_rational_tanh = Elemwise(RationalTanh(scalar.upgrade_to_float,
                                       name='rational_tanh'))


def _tanh_to_rational(fgraph, node):
    """Float32 ``tanh`` as :class:`RationalTanh`."""
    if (not isinstance(node.op.scalar_op, scalar.Tanh) or
            node.inputs[0].dtype != 'float32' or
            node.outputs[0].dtype != 'float32'):
        return None
    return [_rational_tanh(node.inputs[0])]


local_rational_tanh = node_rewriter([Elemwise])(_tanh_to_rational)
