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
which way to read it. Stacks of matrices (one per image) are multiplied
in a loop that calls the wrapper directly: it costs about as much as
``numpy.matmul`` on a stack.
"""
import functools

import numpy


@functools.cache
def _gemms() -> dict:
    # Imported on first use: scipy.linalg takes a fifth of a second.
    from scipy.linalg import blas
    return {numpy.dtype(dtype): blas.get_blas_funcs('gemm', dtype=dtype)
            for dtype in ('float32', 'float64', 'complex64', 'complex128')}


def _function(*arrays):
    """The BLAS ``gemm`` for `arrays`, or None where BLAS cannot help (an
    integer or mixed dtype, or an empty factor, which BLAS rejects)."""
    dtype = arrays[0].dtype
    if any(a.dtype != dtype or 0 in a.shape for a in arrays):
        return None
    return _gemms().get(dtype)


def _transposed(x):
    """`x.T` for BLAS: a column-major array and whether to transpose it."""
    if x.flags.c_contiguous:
        return x.T, 0  # the column-major x.T itself
    if x.flags.f_contiguous:
        return x, 1  # x, read transposed
    return numpy.ascontiguousarray(x).T, 0


def _transposed_stack(stack):
    """:func:`_transposed` for each matrix of a 3-D `stack` (all share
    their strides, so the first says how to pass them all)."""
    if stack[0].flags.c_contiguous:
        return stack.transpose(0, 2, 1), 0
    if stack[0].flags.f_contiguous:
        return stack, 1
    return numpy.ascontiguousarray(stack).transpose(0, 2, 1), 0


def _check_out(out, dtype):
    # The wrapper would silently write to a copy of any other array.
    if not out.flags.c_contiguous or out.dtype != dtype:
        raise ValueError(f"gemm: `out` must be a C-contiguous {dtype} "
                         f"array, got {out.dtype} with strides "
                         f"{out.strides}")


def gemm(a, b):
    """``a @ b`` of two 2-D arrays in any memory order, C-contiguous."""
    function = _function(a, b)
    if function is None:
        return a @ b
    b_t, trans_b = _transposed(b)
    a_t, trans_a = _transposed(a)
    return function(1.0, b_t, a_t, trans_a=trans_b, trans_b=trans_a).T


def gemm_each(a, stack, out):
    """``out[i] = a @ stack[i]`` for each matrix of the 3-D `stack`.

    `out` is a C-contiguous 3-D array of the products' dtype; returned.

    """
    function = _function(a, stack)
    if function is None:
        return numpy.matmul(a, stack, out=out)
    _check_out(out, a.dtype)
    a_t, trans_a = _transposed(a)
    stack_t, trans_stack = _transposed_stack(stack)
    for matrix, product in zip(stack_t, out.transpose(0, 2, 1),
                               strict=True):
        function(1.0, matrix, a_t, 0.0, product, trans_stack, trans_a, 1)
    return out


def gemm_sum(lefts, rights, out):
    """``out = sum(lefts[i] @ rights[i] for i)`` of two 3-D stacks.

    `out` is a C-contiguous 2-D array of the products' dtype; returned.
    The sum accumulates in `out`: no stack of products is made.

    """
    function = _function(lefts, rights)
    if function is None:
        out[...] = numpy.matmul(lefts, rights).sum(axis=0)
        return out
    _check_out(out, lefts.dtype)
    lefts_t, trans_left = _transposed_stack(lefts)
    rights_t, trans_right = _transposed_stack(rights)
    for i, (right, left) in enumerate(zip(rights_t, lefts_t, strict=True)):
        function(1.0, right, left, 1.0 if i else 0.0, out.T, trans_right,
                 trans_left, 1)
    return out
