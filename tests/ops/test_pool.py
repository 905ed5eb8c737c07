"""The pooling Ops against plain NumPy loops, and their gradients."""
import itertools

import numpy
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.compile.mode import Mode
from pytensor.gradient import verify_grad

from blocks.ops import (
    AveragePoolGrad,
    DownsampleFactorMaxGradGrad,
    MaxPoolGrad,
    Pool,
    pool_2d,
)

RNG = numpy.random.RandomState(2)
PY_MODE = Mode(linker='py', optimizer='fast_run')
MODES = ['max', 'sum', 'average_inc_pad', 'average_exc_pad']


def _windows(shape, ws, stride, pad, ignore_border):
    """Per output cell: the padded-image rows and columns it covers."""
    rows, cols = shape[0] + 2 * pad[0], shape[1] + 2 * pad[1]
    out = []
    for axis, size in enumerate((rows, cols)):
        # Windows start at multiples of the stride. Without ignore_border
        # a clipped window is kept if it reaches cells its predecessor
        # did not.
        starts, start = [], 0
        while (start + ws[axis] <= size if ignore_border else
               start < size and (not starts or
                                 starts[-1] + ws[axis] < size)):
            starts.append(start)
            start += stride[axis]
        out.append([(s, min(s + ws[axis], size)) for s in starts])
    return out


def loop_pool(x, ws, stride, pad, ignore_border, mode):
    """Theano's ``Pool.perform``, written out cell by cell."""
    h, w = x.shape[-2:]
    row_windows, col_windows = _windows((h, w), ws, stride, pad,
                                        ignore_border)
    out = numpy.zeros(x.shape[:-2] + (len(row_windows), len(col_windows)))
    for (i, (r0, r1)), (j, (c0, c1)) in itertools.product(
            enumerate(row_windows), enumerate(col_windows)):
        cells = [(r - pad[0], c - pad[1])
                 for r in range(r0, r1) for c in range(c0, c1)]
        real = [(r, c) for r, c in cells if 0 <= r < h and 0 <= c < w]
        values = numpy.stack([x[..., r, c] for r, c in real], axis=-1)
        if mode == 'max':
            out[..., i, j] = values.max(axis=-1)
        elif mode == 'sum':
            out[..., i, j] = values.sum(axis=-1)
        elif mode == 'average_inc_pad':
            out[..., i, j] = values.sum(axis=-1) / len(cells)
        else:
            out[..., i, j] = values.sum(axis=-1) / len(real)
    return out


def loop_pool_grad(x, gz, ws, stride, pad, ignore_border, mode):
    """The gradient, by perturbing one input cell at a time (linear modes)
    or by Theano's rule that every maximum gets the gradient (max)."""
    h, w = x.shape[-2:]
    row_windows, col_windows = _windows((h, w), ws, stride, pad,
                                        ignore_border)
    gx = numpy.zeros_like(x)
    out = loop_pool(x, ws, stride, pad, ignore_border, mode)
    for (i, (r0, r1)), (j, (c0, c1)) in itertools.product(
            enumerate(row_windows), enumerate(col_windows)):
        cells = [(r - pad[0], c - pad[1])
                 for r in range(r0, r1) for c in range(c0, c1)]
        real = [(r, c) for r, c in cells if 0 <= r < h and 0 <= c < w]
        for r, c in real:
            if mode == 'max':
                share = x[..., r, c] == out[..., i, j]
            elif mode == 'sum':
                share = 1
            elif mode == 'average_inc_pad':
                share = 1 / len(cells)
            else:
                share = 1 / len(real)
            gx[..., r, c] += share * gz[..., i, j]
    return gx


def _perform(op, *values):
    node = op.make_node(*(pt.as_tensor_variable(v) for v in values))
    storage = [[None]]
    op.perform(node, values, storage)
    return storage[0][0]


GEOMETRIES = [  # ws, stride, pad, ignore_border
    ((2, 2), None, (0, 0), True), ((2, 2), None, (0, 0), False),
    ((3, 2), (1, 2), (0, 0), False), ((3, 2), (2, 1), (1, 1), True),
    ((2, 3), (3, 2), (1, 2), True), ((3, 3), (2, 2), (0, 0), False)]


@pytest.mark.parametrize('mode', MODES)
@pytest.mark.parametrize('ws, stride, pad, ignore_border', GEOMETRIES)
@pytest.mark.parametrize('shape', [(2, 7, 6), (1, 2, 6, 5)])
def test_pool_matches_loop(mode, ws, stride, pad, ignore_border, shape):
    x = RNG.randn(*shape)
    x[..., 0, 1] = x[..., 1, 0]  # a tie for max pooling's gradient rule
    op = Pool(ws, ignore_border, stride, pad, mode)
    expected = loop_pool(x, ws, stride or ws, pad, ignore_border, mode)
    out = _perform(op, x)
    numpy.testing.assert_allclose(out, expected, rtol=1e-12)
    assert tuple(Pool.out_shape(shape, ws, ignore_border, stride,
                                pad)) == expected.shape
    gz = RNG.randn(*expected.shape)
    if mode == 'max':
        gx = _perform(MaxPoolGrad(ws, ignore_border, stride, pad, mode),
                      x, out, gz)
    else:
        gx = _perform(AveragePoolGrad(ws, ignore_border, stride, pad, mode),
                      x, gz)
    numpy.testing.assert_allclose(
        gx, loop_pool_grad(x, gz, ws, stride or ws, pad, ignore_border, mode),
        rtol=1e-12)


@pytest.mark.parametrize('imgshape, ws, pad, ignore_border, expected', [
    ((10, 13), (3, 4), (0, 0), True, [3, 3]),
    ((12, 15), (5, 7), (0, 0), False, [3, 3]),
    ((6, 10), (6, 2), (3, 1), True, [2, 6])])
def test_out_shape_reference_cases(imgshape, ws, pad, ignore_border,
                                   expected):
    assert Pool.out_shape(imgshape, ws, ignore_border, pad=pad) == expected


@pytest.mark.parametrize('mode', MODES)
def test_pool_gradients(mode):
    x = RNG.randn(2, 5, 6)
    pool = Pool((3, 2), True, (2, 1), (1, 1), mode)
    verify_grad(pool, [x], rng=RNG, mode=PY_MODE)
    out = _perform(pool, x)
    gz = RNG.randn(*out.shape)
    if mode == 'max':
        grad = MaxPoolGrad(*pool._params().values())
        verify_grad(lambda g: grad(x, out, g), [gz], rng=RNG, mode=PY_MODE)
        grad_grad = DownsampleFactorMaxGradGrad(*pool._params().values())
        verify_grad(lambda g: grad_grad(x, out, g), [x], rng=RNG,
                    mode=PY_MODE)
    else:
        grad = AveragePoolGrad(*pool._params().values())
        verify_grad(lambda g: grad(x, g), [gz], rng=RNG, mode=PY_MODE)


def test_infer_shape_runs_no_pool():
    x = pt.tensor4('x')
    y = pool_2d(x, (2, 3), ignore_border=False, stride=(1, 2))
    gx = pytensor.grad(y.sum(), x)
    fn = pytensor.function([x], [y.shape, gx.shape], mode=PY_MODE)
    assert not any(isinstance(node.op, Pool | MaxPoolGrad)
                   for node in fn.maker.fgraph.apply_nodes)
    value = RNG.randn(1, 2, 5, 7)
    assert [tuple(s) for s in fn(value)] == [(1, 2, 4, 3), value.shape]


@pytest.mark.parametrize('kwargs, match', [
    ({'ws': (0, 2)}, r'ws \(the pooling window\) must be >= 1'),
    ({'ws': (2, 2), 'mode': 'median'}, 'mode must be one of'),
    ({'ws': (2, 2), 'pad': (2, 0)}, 'smaller than the pooling window'),
    ({'ws': (2, 2), 'pad': (1, 0), 'ignore_border': False},
     'only with ignore_border=True'),
])
def test_pool_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pool_2d(pt.tensor4(), **kwargs)


def test_pool_window_larger_than_image():
    with pytest.raises(ValueError, match=r'does not fit the input.s \(3, 3\)'):
        pool_2d(pt.tensor('x', shape=(1, 1, 3, 3)), (4, 4))


@pytest.fixture(scope='module')
def c_max_pool():
    """Max pooling and its gradient in blocks' C mode, where the C loops
    take unpadded windows two columns wide with a column stride of two
    (others run NumPy's code); one compiled module serves every window
    height and row stride (they are run-time parameters)."""
    from blocks.compilation import c_mode

    def compile_for(ws, stride, dtype):
        x = pt.tensor('x', dtype=dtype, shape=(None,) * 3)
        gz = pt.tensor('gz', dtype=dtype, shape=(None,) * 3)
        op = Pool(ws, True, stride, (0, 0), 'max')
        out = op(x)
        grad = MaxPoolGrad(**op._params())(x, out, gz)
        return pytensor.function([x, gz], [out, grad], mode=c_mode())
    return compile_for


@pytest.mark.parametrize('ws, stride', [((2, 2), None), ((3, 2), (1, 2)),
                                        ((2, 2), (3, 2)), ((4, 2), (2, 2)),
                                        ((2, 3), (3, 1))])
@pytest.mark.parametrize('layout', ['contiguous', 'strided'])
def test_c_max_pooling_matches_loop(c_max_pool, ws, stride, layout):
    x = RNG.randn(3, 8, 14)
    x[..., 0, 1] = x[..., 1, 0]  # a tie: both cells get the gradient
    x[1, 2, 3] = numpy.nan  # NaN wins, as in numpy.maximum
    if layout == 'strided':
        x = x[:, :, ::2]
    fn = c_max_pool(ws, stride, 'float64')
    assert any(type(node.op) is MaxPoolGrad for node in
               fn.maker.fgraph.apply_nodes)
    expected = loop_pool(x, ws, stride or ws, (0, 0), True, 'max')
    gz = RNG.randn(*expected.shape)
    out, gx = fn(x, gz)
    numpy.testing.assert_array_equal(out, expected)
    numpy.testing.assert_allclose(
        gx, loop_pool_grad(x, gz, ws, stride or ws, (0, 0), True, 'max'),
        rtol=1e-12)


def test_c_max_pooling_float32_and_errors(c_max_pool):
    fn = c_max_pool((2, 2), None, 'float32')
    x = RNG.rand(2, 5, 4).astype('float32')
    gz = RNG.rand(2, 2, 2).astype('float32')
    out, gx = fn(x, gz)
    numpy.testing.assert_array_equal(
        out, loop_pool(x, (2, 2), (2, 2), (0, 0), True, 'max'))
    assert gx.dtype == 'float32' and not gx[:, 4].any()  # uncovered row
    with pytest.raises(ValueError, match=r'\(2, 2\) window .* does not fit '
                       r"the input's \(1, 4\) rows and columns"):
        fn(x[:, :1], gz)
