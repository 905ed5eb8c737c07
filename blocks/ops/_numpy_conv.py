"""NumPy kernels of the 2-D convolution Ops (cross-correlation form).

The functions work on an un-flipped kernel (the Ops flip it first when
``filter_flip`` is set) and on explicit paddings. The data movement is one
strided copy (im2col, :func:`columns`) of the image windows, so that each
direction is BLAS products rather than a loop over kernel taps; the
forward pass and the weight gradient also run from columns computed once
for both (:func:`forward_from_columns`, :func:`grad_weights_from_columns`,
used by :mod:`blocks.ops.columns`). The input gradient adds the columns
of its product back to the image with a compiled loop
(:mod:`blocks.ops._conv_kernels`). The products go through
:mod:`blocks.ops._blas` (SciPy's BLAS, the one library whose thread
pool a whole training step then uses).

The layout of the windows depends on the output's width:

* wide outputs keep the batch outermost: im2col gives one
  ``(channels*kh*kw, oh*ow)`` matrix per image, multiplied image by
  image. Inputs and outputs keep their ``(B, C, H, W)`` layout, so
  nothing is transposed; a LeNet's first layer
  (``ow = 24``) runs its forward pass and weight gradient about 3.5 times
  faster than with one ``(channels*kh*kw, B*oh*ow)`` matrix.
* narrow outputs (``ow`` below :data:`BATCH_INNER_BELOW`) put the batch
  innermost, ``(C, H, W, B)``, and im2col gives one
  ``(channels*kh*kw, oh*ow*B)`` matrix: NumPy copies fastest along long
  contiguous runs, and a run is then ``ow * B`` elements rather than
  ``ow``, at the price of transposing the input and the output once. A
  LeNet's second layer (``ow = 8``) runs about 20% faster so.

(``benchmarks/conv.py`` times both layers.)
"""
import numpy
from numpy.lib.stride_tricks import as_strided

from blocks.ops._blas import gemm, gemm_each, gemm_sum
from blocks.ops._conv_kernels import col2im_batch_inner, col2im_batch_outer

#: Outputs narrower than this many columns put the batch innermost.
BATCH_INNER_BELOW = 16


def _out_size(size, k, pad, stride, dil):
    return (size + 2 * pad - ((k - 1) * dil + 1)) // stride + 1


class _Layout:
    """Where the batch axis goes in the work arrays of one convolution."""

    def __init__(self, ow):
        self.batch_inner = ow < BATCH_INNER_BELOW

    def images(self, x, pad):
        """`x` (B, C, H, W) zero-padded, as (B, C, H, W) or (C, H, W, B)."""
        b, c, h, w = x.shape
        ph, pw = pad
        if self.batch_inner:
            out = numpy.zeros((c, h + 2 * ph, w + 2 * pw, b), dtype=x.dtype)
            out[:, ph:ph + h, pw:pw + w] = x.transpose(1, 2, 3, 0)
            return out
        if not ph and not pw:
            return x  # im2col copies anyway
        return numpy.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))

    def columns(self, images, kh, kw, oh, ow, stride, dil):
        """The windows of the padded images, copied: a contiguous
        ``(C, kh, kw, oh, ow, B)`` array with the batch inner, else
        ``(B, C, kh, kw, oh, ow)``; returned as the latter's transposed
        view in the first case, so that both read as
        ``(B, C, kh, kw, oh, ow)``."""
        strides = images.strides
        if self.batch_inner:
            sc, sh, sw, sb = strides
            shape = images.shape[:1] + (kh, kw, oh, ow, images.shape[3])
            steps = (sc, sh * dil[0], sw * dil[1], sh * stride[0],
                     sw * stride[1], sb)
        else:
            sb, sc, sh, sw = strides
            shape = images.shape[:2] + (kh, kw, oh, ow)
            steps = (sb, sc, sh * dil[0], sw * dil[1], sh * stride[0],
                     sw * stride[1])
        view = as_strided(images, shape=shape, strides=steps,
                          writeable=False)
        columns = numpy.ascontiguousarray(view)
        if self.batch_inner:
            return columns.transpose(5, 0, 1, 2, 3, 4)
        return columns

    def matrices(self, columns):
        """:meth:`columns` as BLAS operands: ``(C*kh*kw, oh*ow*B)`` with
        the batch inner, else ``(B, C*kh*kw, oh*ow)`` (no copy of the
        arrays that :meth:`columns` makes)."""
        b, c, kh, kw, oh, ow = columns.shape
        if self.batch_inner:
            return numpy.ascontiguousarray(
                columns.transpose(1, 2, 3, 4, 5, 0)).reshape(c * kh * kw, -1)
        return numpy.ascontiguousarray(columns).reshape(b, c * kh * kw,
                                                        oh * ow)

    def outputs(self, y):
        """`y` (B, K, oh, ow) as (K, oh*ow*B) or (B, K, oh*ow)."""
        b, k = y.shape[:2]
        if self.batch_inner:
            return numpy.ascontiguousarray(y.transpose(1, 2, 3, 0)).reshape(
                k, -1)
        return y.reshape(b, k, -1)

    def from_outputs(self, y2, b, oh, ow):
        """:meth:`outputs` back to (B, K, oh, ow)."""
        k = y2.shape[-2]
        if self.batch_inner:
            return numpy.ascontiguousarray(
                y2.reshape(k, oh, ow, b).transpose(3, 0, 1, 2))
        return y2.reshape(b, k, oh, ow)


def columns(x, kshape, pad, stride, dil):
    """The windows of `x` (B, C, H, W) that a kernel of rows and columns
    `kshape` meets, copied: ``(B, C, kh, kw, oh, ow)``, in the memory
    order that :class:`_Layout` picks for the output width ``ow``."""
    h, wd = x.shape[2:]
    kh, kw = kshape
    oh = _out_size(h, kh, pad[0], stride[0], dil[0])
    ow = _out_size(wd, kw, pad[1], stride[1], dil[1])
    if oh <= 0 or ow <= 0:
        raise ValueError(
            f"conv2d: the filter ({kh}, {kw}) with dilation {tuple(dil)} "
            f"does not fit the image ({h}, {wd}) padded by {tuple(pad)}: "
            f"use a smaller filter, more padding or a larger image")
    layout = _Layout(ow)
    return layout.columns(layout.images(x, pad), kh, kw, oh, ow, stride, dil)


def forward_from_columns(cols, w):
    """:func:`corr_forward` from the :func:`columns` of its input."""
    b, _, _, _, oh, ow = cols.shape
    k = w.shape[0]
    layout = _Layout(ow)
    matrices = layout.matrices(cols)
    w2 = w.reshape(k, -1)
    if layout.batch_inner:
        return layout.from_outputs(gemm(w2, matrices), b, oh, ow)
    out = numpy.empty((b, k, oh, ow), dtype=numpy.result_type(cols, w))
    gemm_each(w2, matrices, out.reshape(b, k, -1))
    return out


def output_gradient_matrices(gy):
    """The output gradient `gy` (B, K, oh, ow) as the operand of both
    gradients' products: ``(K, oh*ow*B)`` with the batch inner (a
    transposed copy), else ``(B, K, oh*ow)`` (a view). A convolution's
    backward pass computes it once for both
    (:class:`blocks.ops.columns.Conv2dGradsFromColumns`)."""
    return _Layout(gy.shape[3]).outputs(gy)


def grad_weights_from_columns(cols, gy, gy_matrices=None):
    """:func:`corr_grad_weights` from the :func:`columns` of the input;
    `gy_matrices` is :func:`output_gradient_matrices` of `gy` where the
    caller has it."""
    b, c, kh, kw, oh, ow = cols.shape
    k = gy.shape[1]
    if b == 0:
        return numpy.zeros((k, c, kh, kw), dtype=numpy.result_type(cols, gy))
    layout = _Layout(ow)
    matrices = layout.matrices(cols)
    gy2 = layout.outputs(gy) if gy_matrices is None else gy_matrices
    if layout.batch_inner:
        # (C*kh*kw, K) rather than (K, C*kh*kw): SciPy's OpenBLAS computes
        # this shape a quarter faster; the transposed copy is small.
        return gemm(matrices, gy2.T).T.reshape(k, c, kh, kw)
    # One small product per image, summed in place: no transposed copy of
    # the windows or of the gradient, which cost more than the sum.
    grad = numpy.empty((k, c * kh * kw), dtype=numpy.result_type(cols, gy))
    return gemm_sum(gy2, matrices.transpose(0, 2, 1), grad).reshape(
        k, c, kh, kw)


def corr_forward(x, w, pad, stride, dil):
    """Cross-correlation of `x` (B, C, H, W) with `w` (K, C, kh, kw)."""
    return forward_from_columns(columns(x, w.shape[2:], pad, stride, dil), w)


def corr_grad_weights(x, gy, kshape, pad, stride, dil):
    """Gradient of :func:`corr_forward` with respect to the kernel."""
    k, oh, ow = gy.shape[1:]
    if oh <= 0 or ow <= 0:
        return numpy.zeros((k, x.shape[1]) + tuple(kshape),
                           dtype=numpy.result_type(x, gy))
    return grad_weights_from_columns(columns(x, kshape, pad, stride, dil), gy)


def corr_grad_input(w, gy, ishape, pad, stride, dil, gy_matrices=None):
    """Gradient of :func:`corr_forward` with respect to the input;
    `gy_matrices` as in :func:`grad_weights_from_columns`."""
    k, c, kh, kw = w.shape
    b, _, oh, ow = gy.shape
    dtype = numpy.result_type(w, gy)
    out_shape = (b, c) + tuple(ishape)
    if oh <= 0 or ow <= 0 or b == 0:
        return numpy.zeros(out_shape, dtype=dtype)
    layout = _Layout(ow)
    w2t = w.reshape(k, -1).T
    gy2 = layout.outputs(gy) if gy_matrices is None else gy_matrices
    if layout.batch_inner:
        cols = gemm(w2t, gy2)
        out = numpy.empty(out_shape, dtype=dtype)
        col2im_batch_inner(cols.reshape(c, kh, kw, oh, ow, b), out,
                           tuple(pad), tuple(stride), tuple(dil))
        return out
    (ph, pw), (h, wd) = pad, ishape
    images = numpy.zeros((b, c, h + 2 * ph, wd + 2 * pw), dtype=dtype)
    cols = gemm_each(w2t, gy2, numpy.empty((b, c * kh * kw, oh * ow),
                                           dtype=dtype))
    col2im_batch_outer(cols.reshape(b, c, kh, kw, oh, ow), images,
                       tuple(stride), tuple(dil))
    return numpy.ascontiguousarray(images[:, :, ph:ph + h, pw:pw + wd])
