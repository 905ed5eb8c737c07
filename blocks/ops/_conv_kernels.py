"""Compiled loops of the convolution's data movement (Numba).

The input gradient of a convolution adds each column of the product
``filters.T @ output_gradient`` back to the image cells it came from
(col2im). NumPy does it as one strided addition per kernel tap, each a pass
over the whole image: 2.4 ms for a LeNet's second layer (20 channels, 5x5,
batch 128, float32), where this loop, one pass that adds contiguous runs,
takes 0.6 ms. Numba is a dependency of PyTensor; the loops compile on
first use and are cached on disk (``cache=True``).

Both work on the padded images of :class:`blocks.ops._numpy_conv._Layout`:
``(C, H, W, B)`` with the batch innermost, ``(B, C, H, W)`` otherwise.
"""
import numba


@numba.njit(nogil=True, cache=True)
def col2im_batch_inner(columns, images, stride, dilation):
    """``images[c, r*s0 + u*d0, q*s1 + v*d1, :] += columns[c, u, v, r, q, :]``
    for `columns` of shape ``(C, kh, kw, oh, ow, B)``."""
    channels, kh, kw, oh, ow, batch = columns.shape
    for c in range(channels):
        for u in range(kh):
            for v in range(kw):
                for r in range(oh):
                    row = images[c, r * stride[0] + u * dilation[0]]
                    source = columns[c, u, v, r]
                    for q in range(ow):
                        target = row[q * stride[1] + v * dilation[1]]
                        values = source[q]
                        for b in range(batch):
                            target[b] += values[b]


@numba.njit(nogil=True, cache=True)
def col2im_batch_outer(columns, images, stride, dilation):
    """``images[b, c, r*s0 + u*d0, q*s1 + v*d1] += columns[b, c, u, v, r,
    q]`` for `columns` of shape ``(B, C, kh, kw, oh, ow)``."""
    batch, channels, kh, kw, oh, ow = columns.shape
    for b in range(batch):
        for c in range(channels):
            for u in range(kh):
                for v in range(kw):
                    for r in range(oh):
                        row = images[b, c, r * stride[0] + u * dilation[0]]
                        source = columns[b, c, u, v, r]
                        start = v * dilation[1]
                        for q in range(ow):
                            row[start + q * stride[1]] += source[q]
