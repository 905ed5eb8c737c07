"""SciPy-BLAS products of the convolution Ops against ``numpy.matmul``."""
import numpy
import pytest

from blocks.ops._blas import gemm

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


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_gemm_writes_and_accumulates_into_out(dtype):
    a, b = RNG.rand(2, 3, 4).astype(dtype), RNG.rand(2, 4, 5).astype(dtype)
    out = numpy.full((3, 5), numpy.nan, dtype)
    assert gemm(a[0], b[0], out=out) is out
    numpy.testing.assert_allclose(out, a[0] @ b[0], rtol=TOLERANCE[dtype])
    gemm(a[1], b[1], out=out, accumulate=True)
    numpy.testing.assert_allclose(out, (a @ b).sum(axis=0),
                                  rtol=TOLERANCE[dtype])
    # A row of a C-contiguous 3-d array, as the Ops write per image.
    images = numpy.zeros((2, 3, 5), dtype)
    gemm(a[1], b[1], out=images[1])
    numpy.testing.assert_allclose(images, [numpy.zeros((3, 5)), a[1] @ b[1]],
                                  rtol=TOLERANCE[dtype])


def test_gemm_falls_back_to_numpy():
    ints = numpy.arange(6).reshape(2, 3)
    numpy.testing.assert_array_equal(gemm(ints, ints.T), ints @ ints.T)
    empty = numpy.ones((2, 0), 'float32')
    out = numpy.ones((2, 2), 'float32')
    gemm(empty, empty.T, out=out, accumulate=True)
    numpy.testing.assert_array_equal(out, numpy.ones((2, 2)))
    gemm(empty, empty.T, out=out)
    numpy.testing.assert_array_equal(out, numpy.zeros((2, 2)))
    mixed = gemm(numpy.ones((2, 2), 'float32'), numpy.ones((2, 2)))
    assert mixed.dtype == 'float64'


def test_gemm_rejects_an_out_it_cannot_write():
    a = numpy.ones((2, 2), 'float32')
    with pytest.raises(ValueError, match='C-contiguous float32'):
        gemm(a, a, out=numpy.zeros((2, 2), 'float32', order='F'))
    with pytest.raises(ValueError, match='C-contiguous float32'):
        gemm(a, a, out=numpy.zeros((2, 2), 'float64'))
