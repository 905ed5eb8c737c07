"""SciPy-BLAS products of the convolution Ops against ``numpy.matmul``."""
import numpy
import pytest

from blocks.ops._blas import gemm, gemm_each, gemm_sum

RNG = numpy.random.RandomState(3)
TOLERANCE = {'float32': 1e-5, 'float64': 1e-12}


def _layouts(shape, dtype):
    """The same matrix C-ordered, Fortran-ordered and strided."""
    value = RNG.rand(*shape).astype(dtype)
    strided = numpy.zeros((shape[0], 2 * shape[1]), dtype)[:, ::2]
    strided[...] = value
    return {'C': value, 'F': numpy.asfortranarray(value),
            'strided': strided}


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('a_order', ['C', 'F', 'strided'])
@pytest.mark.parametrize('b_order', ['C', 'F', 'strided'])
def test_gemm_matches_matmul(dtype, a_order, b_order):
    a = _layouts((5, 7), dtype)[a_order]
    b = _layouts((7, 3), dtype)[b_order]
    product = gemm(a, b)
    assert product.dtype == dtype and product.flags.c_contiguous
    numpy.testing.assert_allclose(product, a @ b, rtol=TOLERANCE[dtype])


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_gemm_transposed_views(dtype):
    # The Ops pass `w.reshape(k, -1).T` and `cols.T`: views, not copies.
    a, b = RNG.rand(4, 6).astype(dtype), RNG.rand(3, 6).astype(dtype)
    numpy.testing.assert_allclose(gemm(a.T, a), a.T @ a,
                                  rtol=TOLERANCE[dtype])
    numpy.testing.assert_allclose(gemm(a, b.T), a @ b.T,
                                  rtol=TOLERANCE[dtype])


def _stacks(shape, dtype):
    """The same stack of matrices C-ordered, each matrix Fortran-ordered
    (a transposed view) and strided."""
    value = RNG.rand(*shape).astype(dtype)
    fortran = numpy.ascontiguousarray(value.transpose(0, 2, 1)).transpose(
        0, 2, 1)
    strided = numpy.zeros(shape[:2] + (2 * shape[2],), dtype)[..., ::2]
    strided[...] = value
    return {'C': value, 'F': fortran, 'strided': strided}


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('order', ['C', 'F', 'strided'])
def test_gemm_each_matches_matmul(dtype, order):
    a = _layouts((4, 6), dtype)[order]
    stack = _stacks((3, 6, 5), dtype)[order]
    out = numpy.full((3, 4, 5), numpy.nan, dtype)
    assert gemm_each(a, stack, out) is out
    numpy.testing.assert_allclose(out, numpy.matmul(a, stack),
                                  rtol=TOLERANCE[dtype])


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
@pytest.mark.parametrize('order', ['C', 'F', 'strided'])
def test_gemm_sum_matches_matmul(dtype, order):
    lefts = _stacks((3, 4, 6), dtype)[order]
    rights = _stacks((3, 6, 5), dtype)['F' if order == 'C' else 'C']
    out = numpy.full((4, 5), numpy.nan, dtype)
    assert gemm_sum(lefts, rights, out) is out
    numpy.testing.assert_allclose(
        out, numpy.matmul(lefts, rights).sum(axis=0), rtol=TOLERANCE[dtype])


def test_products_fall_back_to_numpy():
    ints = numpy.arange(6).reshape(2, 3)
    numpy.testing.assert_array_equal(gemm(ints, ints.T), ints @ ints.T)
    mixed = gemm(numpy.ones((2, 2), 'float32'), numpy.ones((2, 2)))
    assert mixed.dtype == 'float64'
    stack = numpy.arange(12).reshape(2, 3, 2)
    out = numpy.zeros((2, 2, 2), int)
    gemm_each(ints[:, :3], stack, out)
    numpy.testing.assert_array_equal(out, numpy.matmul(ints, stack))
    # Empty factors: BLAS rejects them.
    empty = numpy.ones((2, 0, 3), 'float32')
    out = numpy.ones((3, 3), 'float32')
    gemm_sum(empty.transpose(0, 2, 1), empty, out)
    numpy.testing.assert_array_equal(out, numpy.zeros((3, 3)))
    out = numpy.ones((0, 2, 3), 'float32')
    assert gemm_each(numpy.ones((2, 4), 'float32'),
                     numpy.ones((0, 4, 3), 'float32'), out).shape == (0, 2, 3)


def test_products_reject_an_out_they_cannot_write():
    a, stack = numpy.ones((2, 2), 'float32'), numpy.ones((1, 2, 2), 'float32')
    with pytest.raises(ValueError, match='C-contiguous float32'):
        gemm_each(a, stack, numpy.zeros((1, 2, 2), 'float64'))
    with pytest.raises(ValueError, match='C-contiguous float32'):
        gemm_sum(stack, stack, numpy.zeros((2, 2), 'float32', order='F'))
