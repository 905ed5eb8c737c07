"""Blocks' kernels: the row-by-row and per-block loops of FlatElemwise."""
import numpy
import pytest
from numpy.testing import assert_allclose
from pytensor import tensor

from blocks.compilation import c_mode, function


@pytest.fixture(scope='module')
def rows_function():
    x = tensor.tensor3('x')
    y = tensor.tensor3('y')
    row = tensor.tensor3('row', shape=(1, 1, None))
    s = tensor.scalar('s')
    outputs = [x * row + y * s + x * y, (x - y) * row]
    compiled = function([x, y, row, s], outputs, mode=c_mode())
    assert any(type(node.op).__name__ == 'FlatElemwise'
               for node in compiled.maker.fgraph.apply_nodes)
    return compiled


def _layouts():
    rng = numpy.random.default_rng(0)
    x = rng.normal(size=(5, 6, 8))
    y = rng.normal(size=(5, 6, 16))
    return {
        'contiguous': (x.copy(), y[:, :, :8].copy()),
        'column slice': (x, y[:, :, 8:]),
        'reversed time': (x[::-1], y[::-1, :, :8]),
        'strided rows': (x[:, ::2], y[:, ::2, :8]),
        'strided innermost': (x[:, :, ::2], y[:, :, :4]),
        'transposed': (x.transpose(1, 0, 2), y[:, :, :8].transpose(1, 0, 2)),
        'empty': (x[:0], y[:0, :, :8]),
    }


@pytest.mark.parametrize('layout', list(_layouts()))
def test_flat_kernel_matches_numpy_in_every_layout(rows_function, layout):
    x, y = _layouts()[layout]
    row = numpy.random.default_rng(1).normal(size=(1, 1, x.shape[2]))
    results = rows_function(x, y, row, 0.5)
    expected = [x * row + y * 0.5 + x * y, (x - y) * row]
    for result, reference in zip(results, expected, strict=True):
        assert result.shape == reference.shape
        assert_allclose(result, reference, rtol=1e-12)


def test_a_row_of_the_wrong_length_is_refused(rows_function):
    x, y = _layouts()['contiguous']
    with pytest.raises(ValueError):
        rows_function(x, y, numpy.ones((1, 1, 3)), 0.5)


@pytest.fixture(scope='module')
def blocks_function():
    """A convolution's bias and ReLU: inputs broadcast along the trailing
    axes, one value per kernel call."""
    x = tensor.tensor4('x')
    bias = tensor.tensor4('bias', shape=(1, None, 1, 1))
    scale = tensor.tensor4('scale', shape=(None, None, 1, 1))
    column = tensor.tensor4('column', shape=(1, 1, None, 1))
    pre = x + bias
    outputs = [pre, tensor.maximum(pre, 0) * scale, x * column - bias]
    compiled = function([x, bias, scale, column], outputs, mode=c_mode())
    flat = [node for node in compiled.maker.fgraph.apply_nodes
            if type(node.op).__name__ == 'FlatElemwise']
    # The loop has a block kernel, for the three broadcast inputs.
    assert [len(node.op._kernel_parts(node, 'k')[3]) for node in flat] == [3]
    return compiled


@pytest.mark.parametrize('layout', ['contiguous', 'transposed', 'one image',
                                    'empty'])
def test_block_kernel_matches_numpy(blocks_function, layout):
    rng = numpy.random.default_rng(2)
    x = rng.normal(size=(3, 4, 5, 6))
    x = {'contiguous': x, 'transposed': x.transpose(0, 1, 3, 2)[..., :5],
         'one image': x[:1], 'empty': x[:0]}[layout]
    b, c, h, _ = x.shape
    bias = rng.normal(size=(1, c, 1, 1))
    scale = rng.normal(size=(max(b, 1), c, 1, 1))[:b]
    column = rng.normal(size=(1, 1, h, 1))
    results = blocks_function(x, bias, scale, column)
    expected = [x + bias, numpy.maximum(x + bias, 0) * scale,
                x * column - bias]
    for result, reference in zip(results, expected, strict=True):
        assert result.shape == reference.shape
        assert_allclose(result, reference, rtol=1e-12)


def test_a_block_input_of_the_wrong_size_is_refused(blocks_function):
    x = numpy.ones((2, 3, 4, 5))
    with pytest.raises(ValueError):
        blocks_function(x, numpy.ones((1, 2, 1, 1)), numpy.ones((2, 3, 1, 1)),
                        numpy.ones((1, 1, 4, 1)))
