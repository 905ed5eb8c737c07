"""NumPy kernels of the 2-D convolution Ops (cross-correlation form).

All three functions work on an un-flipped kernel (the Ops flip it first
when ``filter_flip`` is set) and on explicit paddings. The data movement is
one strided copy (im2col) into a ``(channels*kh*kw, batch*oh*ow)`` matrix,
laid out so that each direction is a single large BLAS product rather than a
loop over the batch.
"""
import numpy
from numpy.lib.stride_tricks import as_strided


def _pad(x, pad):
    ph, pw = pad
    if not ph and not pw:
        return x
    return numpy.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def _out_size(size, k, pad, stride, dil):
    return (size + 2 * pad - ((k - 1) * dil + 1)) // stride + 1


def _im2col(xp, kh, kw, oh, ow, stride, dil):
    """``(C, kh, kw, B, oh, ow)`` windows of the padded input, copied."""
    b, c = xp.shape[:2]
    sb, sc, sh, sw = xp.strides
    view = as_strided(
        xp, shape=(c, kh, kw, b, oh, ow),
        strides=(sc, sh * dil[0], sw * dil[1], sb, sh * stride[0],
                 sw * stride[1]),
        writeable=False)
    return numpy.ascontiguousarray(view)


def corr_forward(x, w, pad, stride, dil):
    """Cross-correlation of `x` (B, C, H, W) with `w` (K, C, kh, kw)."""
    b, c, h, wd = x.shape
    k, _, kh, kw = w.shape
    oh = _out_size(h, kh, pad[0], stride[0], dil[0])
    ow = _out_size(wd, kw, pad[1], stride[1], dil[1])
    if oh <= 0 or ow <= 0:
        raise ValueError(
            f"conv2d: the filter ({kh}, {kw}) with dilation {tuple(dil)} "
            f"does not fit the image ({h}, {wd}) padded by {tuple(pad)}: "
            f"use a smaller filter, more padding or a larger image")
    cols = _im2col(_pad(x, pad), kh, kw, oh, ow, stride, dil)
    out = w.reshape(k, -1) @ cols.reshape(c * kh * kw, -1)
    return numpy.ascontiguousarray(
        out.reshape(k, b, oh, ow).transpose(1, 0, 2, 3))


def corr_grad_weights(x, gy, kshape, pad, stride, dil):
    """Gradient of :func:`corr_forward` with respect to the kernel."""
    b, c = x.shape[:2]
    kh, kw = kshape
    k, oh, ow = gy.shape[1:]
    if oh <= 0 or ow <= 0 or b == 0:
        return numpy.zeros((k, c, kh, kw), dtype=numpy.result_type(x, gy))
    cols = _im2col(_pad(x, pad), kh, kw, oh, ow, stride, dil)
    gy2 = gy.transpose(1, 0, 2, 3).reshape(k, -1)
    return (gy2 @ cols.reshape(c * kh * kw, -1).T).reshape(k, c, kh, kw)


def corr_grad_input(w, gy, ishape, pad, stride, dil):
    """Gradient of :func:`corr_forward` with respect to the input."""
    k, c, kh, kw = w.shape
    b, _, oh, ow = gy.shape
    h, wd = ishape
    ph, pw = pad
    dtype = numpy.result_type(w, gy)
    gxp = numpy.zeros((c, b, h + 2 * ph, wd + 2 * pw), dtype=dtype)
    if oh > 0 and ow > 0 and b > 0:
        gy2 = gy.transpose(1, 0, 2, 3).reshape(k, -1)
        cols = (w.reshape(k, -1).T @ gy2).reshape(c, kh, kw, b, oh, ow)
        sh, sw = stride
        for u in range(kh):
            r0 = u * dil[0]
            rows = slice(r0, r0 + sh * (oh - 1) + 1, sh)
            for v in range(kw):
                c0 = v * dil[1]
                gxp[:, :, rows, slice(c0, c0 + sw * (ow - 1) + 1, sw)] += \
                    cols[:, u, v]
    gx = gxp[:, :, ph:ph + h, pw:pw + wd].transpose(1, 0, 2, 3)
    return numpy.ascontiguousarray(gx)
