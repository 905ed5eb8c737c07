"""The rational float32 tanh of blocks' C mode."""
import numpy
import pytensor
from numpy.testing import assert_allclose
from pytensor import tensor

from blocks.compilation import c_mode, function
from blocks.fast_tanh import RationalTanh, rational_tanh
from blocks.kernels import NumpyUfunc

GRID = numpy.linspace(-12, 12, 200_001).astype('float32')


def test_approximation_is_within_four_tenths_of_a_millionth():
    exact = numpy.tanh(GRID.astype('float64'))
    assert numpy.abs(rational_tanh(GRID) - exact).max() < 4e-7
    # Odd, and exactly +-1 far out, as tanh rounds in float32.
    assert_allclose(rational_tanh(-GRID), -rational_tanh(GRID), rtol=0)
    assert rational_tanh(numpy.float32(50.0)) == numpy.float32(1.0)
    tiny = numpy.float32(1e-5)
    assert rational_tanh(tiny) == tiny


def _scalar_ops(compiled):
    found = set()
    for node in compiled.maker.fgraph.apply_nodes:
        op = node.op
        found.add(type(op))
        scalar_op = getattr(op, 'scalar_op', None)
        if scalar_op is not None:
            found.add(type(scalar_op))
            for inner in getattr(scalar_op, 'fgraph', None) and \
                    scalar_op.fgraph.apply_nodes or ():
                found.add(type(inner.op))
    return found


def test_c_mode_fuses_float32_tanh_into_one_loop():
    x = tensor.vector('x', dtype='float32')
    compiled = function([x], tensor.tanh(x) * 2 + 1, mode=c_mode())
    found = _scalar_ops(compiled)
    assert RationalTanh in found and NumpyUfunc not in found
    assert len(compiled.maker.fgraph.apply_nodes) == 1
    # Against the exact value: the C loop's rounding (fused multiply-adds)
    # differs from the NumPy version's.
    exact = numpy.tanh(GRID.astype('float64')) * 2 + 1
    assert numpy.abs(compiled(GRID) - exact).max() < 1e-6


def test_float64_tanh_is_left_to_numpy():
    x = tensor.vector('x', dtype='float64')
    compiled = function([x], tensor.tanh(x), mode=c_mode())
    assert RationalTanh not in _scalar_ops(compiled)
    value = GRID.astype('float64')
    assert_allclose(compiled(value), numpy.tanh(value), rtol=1e-15)


def test_gradient_of_the_rational_tanh():
    x = tensor.vector('x', dtype='float32')
    y = tensor.elemwise.Elemwise(RationalTanh(
        pytensor.scalar.upgrade_to_float))(x)
    compiled = function([x], pytensor.grad(y.sum(), x), mode=c_mode())
    value = GRID[::100]
    exact = 1 - numpy.tanh(value.astype('float64')) ** 2
    assert numpy.abs(compiled(value) - exact).max() < 2e-6
