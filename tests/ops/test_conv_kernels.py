"""The compiled col2im loops against NumPy's strided additions."""
import numpy
import pytest

from blocks.ops._conv_kernels import col2im_batch_inner, col2im_batch_outer


def numpy_col2im(columns, images, stride, dilation, batch_inner):
    """One strided addition per kernel tap (the loops' definition)."""
    kh, kw, oh, ow = (columns.shape[1:5] if batch_inner
                      else columns.shape[2:6])
    for u in range(kh):
        for v in range(kw):
            rows = slice(u * dilation[0],
                         u * dilation[0] + stride[0] * (oh - 1) + 1,
                         stride[0])
            cols = slice(v * dilation[1],
                         v * dilation[1] + stride[1] * (ow - 1) + 1,
                         stride[1])
            if batch_inner:
                images[:, rows, cols] += columns[:, u, v]
            else:
                images[:, :, rows, cols] += columns[:, :, u, v]
    return images


@pytest.mark.parametrize('batch_inner', [True, False])
@pytest.mark.parametrize('stride, dilation, pad', [((1, 1), (1, 1), (0, 0)),
                                                   ((2, 1), (1, 2), (1, 0)),
                                                   ((1, 3), (2, 1), (2, 3))])
@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_col2im_matches_numpy(batch_inner, stride, dilation, pad, dtype):
    rng = numpy.random.default_rng(0)
    # More images than col2im_batch_inner writes per block, and not a
    # multiple of it.
    batch, channels, (kh, kw), (oh, ow) = 19, 2, (3, 2), (4, 5)
    height = (oh - 1) * stride[0] + (kh - 1) * dilation[0] + 2
    width = (ow - 1) * stride[1] + (kw - 1) * dilation[1] + 1
    padded = rng.normal(size=(batch, channels, height, width)).astype(dtype)
    if batch_inner:
        columns = rng.normal(size=(channels, kh, kw, oh, ow, batch))
    else:
        columns = rng.normal(size=(batch, channels, kh, kw, oh, ow))
    columns = columns.astype(dtype)
    tolerance = 1e-6 if dtype == 'float32' else 1e-12
    if batch_inner:
        # Sums into zeroed padded images, then crops the padding.
        expected = numpy_col2im(columns, numpy.zeros_like(
            padded.transpose(1, 2, 3, 0)), stride, dilation, True)
        expected = expected.transpose(3, 0, 1, 2)[
            :, :, pad[0]:height - pad[0], pad[1]:width - pad[1]]
        out = numpy.full(expected.shape, numpy.nan, dtype=dtype)
        col2im_batch_inner(columns, out, pad, stride, dilation)
        numpy.testing.assert_allclose(out, expected, rtol=tolerance)
    else:
        expected = numpy_col2im(columns, padded.copy(), stride, dilation,
                                False)
        col2im_batch_outer(columns, padded, stride, dilation)
        numpy.testing.assert_allclose(padded, expected, rtol=tolerance)
