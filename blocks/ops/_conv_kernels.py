"""Compiled loops of the convolution's data movement (Numba).

The input gradient of a convolution adds each column of the product
``filters.T @ output_gradient`` back to the image cells it came from
(col2im). NumPy does it as one strided addition per kernel tap, each a pass
over the whole image: 2.4 ms for a LeNet's second layer (20 channels, 5x5,
batch 128, float32), where this loop, one pass that adds contiguous runs,
takes 0.6 ms. Numba is a dependency of PyTensor; the loops compile on
first use and are cached on disk (``cache=True``).

Both take the columns in the layout of
:class:`blocks.ops._numpy_conv._Layout`: ``(C, kh, kw, oh, ow, B)`` with
the batch innermost, ``(B, C, kh, kw, oh, ow)`` otherwise.
"""
import numba
import numpy

#: Images written together by :func:`col2im_batch_inner`.
_IMAGES_PER_BLOCK = 16


@numba.njit(nogil=True, cache=True)
def col2im_batch_inner(columns, out, pad, stride, dilation):
    """``out[b, c, y - pad0, x - pad1] = sum of columns[c, u, v, r, q, b]``
    over ``y = r*s0 + u*d0``, ``x = q*s1 + v*d1``, for `columns` of shape
    ``(C, kh, kw, oh, ow, B)`` and `out` of shape ``(B, C, H, W)``.

    Each channel's padded image, ``(H + 2*pad0, W + 2*pad1, B)``, is
    summed in a scratch tile that stays in cache, then written to `out`
    in its ``(B, C, H, W)`` layout: no padded ``(C, H, W, B)`` array, and
    no transposition of it afterwards.

    """
    channels, kh, kw, oh, ow, batch = columns.shape
    height, width = out.shape[2], out.shape[3]
    tile = numpy.empty((height + 2 * pad[0], width + 2 * pad[1], batch),
                       columns.dtype)
    for c in range(channels):
        tile[:] = 0
        for u in range(kh):
            for v in range(kw):
                for r in range(oh):
                    row = tile[r * stride[0] + u * dilation[0]]
                    source = columns[c, u, v, r]
                    for q in range(ow):
                        target = row[q * stride[1] + v * dilation[1]]
                        values = source[q]
                        for b in range(batch):
                            target[b] += values[b]
        # A block of images at a time: each tile row is read for a few
        # contiguous output rows rather than once per image.
        for first in range(0, batch, _IMAGES_PER_BLOCK):
            last = min(first + _IMAGES_PER_BLOCK, batch)
            for y in range(height):
                for x in range(width):
                    cell = tile[y + pad[0], x + pad[1]]
                    for b in range(first, last):
                        out[b, c, y, x] = cell[b]


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
