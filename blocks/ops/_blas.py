"""Matrix products of the convolution Ops, through SciPy's BLAS.

NumPy's and SciPy's wheels each bundle an OpenBLAS, and each OpenBLAS
keeps its own pool of threads. blocks links PyTensor's C products (the
dense layers) to SciPy's (:func:`blocks.compilation.configure_blas`); the
convolution Ops multiply through the same library, with
:mod:`scipy.linalg.blas`, so that a training step uses one pool. With two,
the idle threads of each pool spin on the cores the other pool needs: a
LeNet step on two threads ran at half its one-thread speed.

The wrappers are Fortran's: they take column-major arrays without copying
them. A C-ordered ``(m, n)`` array is the column-major ``(n, m)`` matrix
of its transpose, so ``a @ b`` is computed as ``(b.T @ a.T).T``, each
operand passed as it lies in memory with BLAS's transpose flag saying
which way to read it.
"""
import numpy
from scipy.linalg import blas

_GEMM = {numpy.dtype(dtype): blas.get_blas_funcs('gemm', dtype=dtype)
         for dtype in ('float32', 'float64', 'complex64', 'complex128')}


def _transposed(x):
    """`x.T` for BLAS: a column-major array and whether to transpose it."""
    if x.flags.c_contiguous:
        return x.T, 0  # the column-major x.T itself
    if x.flags.f_contiguous:
        return x, 1  # x, read transposed
    return numpy.ascontiguousarray(x).T, 0


def gemm(a, b, out=None, accumulate=False):
    """``a @ b`` of two 2-D arrays, written to `out` if given.

    Parameters
    ----------
    a, b : numpy.ndarray
        The factors, in any memory order (non-contiguous ones are copied).
    out : numpy.ndarray, optional
        A C-contiguous array of the product's shape and dtype to write to.
    accumulate : bool
        Add the product to `out` rather than overwrite it.

    Returns
    -------
    numpy.ndarray
        `out`, or a new C-contiguous array.

    """
    function = _GEMM.get(a.dtype)
    if (function is None or b.dtype != a.dtype or 0 in a.shape
            or 0 in b.shape):
        # No BLAS for these dtypes or sizes (BLAS rejects empty factors).
        product = a @ b
        if out is None:
            return product
        if accumulate:
            out += product
        else:
            out[...] = product
        return out
    b_t, trans_b = _transposed(b)
    a_t, trans_a = _transposed(a)
    if out is None:
        return function(1.0, b_t, a_t, trans_a=trans_b, trans_b=trans_a).T
    if not out.flags.c_contiguous or out.dtype != a.dtype:
        raise ValueError(f"gemm: `out` must be a C-contiguous {a.dtype} "
                         f"array, got {out.dtype} with strides "
                         f"{out.strides}")
    function(1.0, b_t, a_t, beta=1.0 if accumulate else 0.0, c=out.T,
             trans_a=trans_b, trans_b=trans_a, overwrite_c=1)
    return out
