import numpy
import pytest
import pytensor
from pytensor import tensor
from pytensor.compile.mode import Mode

from blocks.theano_expressions import hessian_times_vector, l2_norm
from blocks.utils import shared_floatx

# Python thunks: nothing to compile.
PY_MODE = Mode(linker='py').excluding('fusion')


def evaluate(output, givens=None):
    givens = givens or {}
    return pytensor.function(list(givens), output, mode=PY_MODE)(
        *givens.values())


def test_l2_norm_of_nested_lists_and_numbers():
    assert float(evaluate(l2_norm([3, [1, 2]]))) == pytest.approx(
        numpy.sqrt(14))
    assert float(evaluate(l2_norm([3, [1, 2]], squared=True))) == (
        pytest.approx(14))


def test_l2_norm_of_tensors():
    values = [numpy.arange(6.).reshape(2, 3), numpy.array([1., -2.])]
    tensors = [shared_floatx(value) for value in values]
    expected = numpy.sqrt(sum((value ** 2).sum() for value in values))
    assert float(evaluate(l2_norm(tensors))) == pytest.approx(expected)


@pytest.mark.parametrize('r_op', [False, True])
def test_hessian_times_vector_of_quadratic(r_op):
    # cost = x^T A x / 2 has Hessian A (A symmetric).
    a = numpy.array([[2., 1.], [1., 3.]], dtype=pytensor.config.floatX)
    x = tensor.vector('x')
    v = tensor.vector('v')
    gradient = pytensor.grad(0.5 * x.dot(a).dot(x), x)
    result = hessian_times_vector(gradient, x, v, r_op=r_op)
    value = evaluate(result, {x: numpy.ones(2, dtype=x.dtype),
                              v: numpy.array([1., -1.], dtype=v.dtype)})
    numpy.testing.assert_allclose(value, a.dot([1., -1.]), rtol=1e-5)
