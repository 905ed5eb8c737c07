"""The convolution Ops against plain NumPy loops, and their gradients."""
import itertools

import numpy
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.compile.mode import Mode
from pytensor.gradient import verify_grad

from blocks.ops import (
    Conv2d,
    Conv2dGradInputs,
    Conv2dGradWeights,
    conv2d,
    get_conv_output_shape,
)

RNG = numpy.random.RandomState(1)
# The Ops run in Python either way; the Python linker spares the tests C
# compilation of the elementwise glue.
PY_MODE = Mode(linker='py', optimizer='fast_run')


def _padding(mode, kshape, dil):
    dil_k = [(k - 1) * d + 1 for k, d in zip(kshape, dil)]
    if mode == 'valid':
        return 0, 0
    if mode == 'full':
        return dil_k[0] - 1, dil_k[1] - 1
    if mode == 'half':
        return dil_k[0] // 2, dil_k[1] // 2
    return (mode, mode) if isinstance(mode, int) else mode


def _geometry(x_shape, w_shape, mode, stride, dil):
    (ph, pw) = _padding(mode, w_shape[2:], dil)
    oh = (x_shape[2] + 2 * ph - (w_shape[2] - 1) * dil[0] - 1) // stride[0] + 1
    ow = (x_shape[3] + 2 * pw - (w_shape[3] - 1) * dil[1] - 1) // stride[1] + 1
    return ph, pw, oh, ow


def _taps(w_shape, oh, ow, stride, dil, ph, pw):
    """(k, c, u, v, i, j, padded row, padded column) for every product."""
    k_, c_, kh, kw = w_shape
    for k, c, u, v, i, j in itertools.product(
            range(k_), range(c_), range(kh), range(kw), range(oh), range(ow)):
        yield k, c, u, v, i, j, i * stride[0] + u * dil[0], \
            j * stride[1] + v * dil[1]


def loop_conv(x, w, mode, stride, flip, dil):
    if flip:
        w = w[:, :, ::-1, ::-1]
    ph, pw, oh, ow = _geometry(x.shape, w.shape, mode, stride, dil)
    xp = numpy.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    out = numpy.zeros((x.shape[0], w.shape[0], oh, ow))
    for k, c, u, v, i, j, r, q in _taps(w.shape, oh, ow, stride, dil, ph, pw):
        out[:, k, i, j] += xp[:, c, r, q] * w[k, c, u, v]
    return out


def loop_grad_inputs(w, gy, x_shape, mode, stride, flip, dil):
    wf = w[:, :, ::-1, ::-1] if flip else w
    ph, pw, oh, ow = _geometry(x_shape, w.shape, mode, stride, dil)
    gxp = numpy.zeros(x_shape[:2] + (x_shape[2] + 2 * ph, x_shape[3] + 2 * pw))
    for k, c, u, v, i, j, r, q in _taps(w.shape, oh, ow, stride, dil, ph, pw):
        gxp[:, c, r, q] += gy[:, k, i, j] * wf[k, c, u, v]
    return gxp[:, :, ph:ph + x_shape[2], pw:pw + x_shape[3]]


def loop_grad_weights(x, gy, w_shape, mode, stride, flip, dil):
    ph, pw, oh, ow = _geometry(x.shape, w_shape, mode, stride, dil)
    xp = numpy.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))
    gw = numpy.zeros(w_shape)
    for k, c, u, v, i, j, r, q in _taps(w_shape, oh, ow, stride, dil, ph, pw):
        gw[k, c, u, v] += (xp[:, c, r, q] * gy[:, k, i, j]).sum()
    return gw[:, :, ::-1, ::-1] if flip else gw


def _run(op, *values):
    """The Op's `perform` on NumPy values, and its static output shape."""
    node = op.make_node(*(pt.as_tensor_variable(v) for v in values))
    storage = [[None]]
    op.perform(node, values, storage)
    return storage[0][0], node.outputs[0].type.shape


@pytest.mark.parametrize('mode', ['valid', 'full', 'half', 1, (2, 1)])
@pytest.mark.parametrize('stride', [(1, 1), (2, 3)])
@pytest.mark.parametrize('dil', [(1, 1), (2, 1)])
@pytest.mark.parametrize('flip', [True, False])
# The last size gives outputs wider than BATCH_INNER_BELOW: the kernels'
# other layout.
@pytest.mark.parametrize('sizes', [((7, 6), (3, 2)), ((6, 5), (2, 3)),
                                   ((4, 37), (2, 3))])
def test_conv_ops_match_loops(mode, stride, dil, flip, sizes):
    image, kernel = sizes
    x = RNG.randn(2, 3, *image)
    w = RNG.randn(4, 3, *kernel)
    params = {'border_mode': mode, 'subsample': stride, 'filter_flip': flip,
                  'filter_dilation': dil}
    expected = loop_conv(x, w, mode, stride, flip, dil)
    out, static = _run(Conv2d(**params), x, w)
    numpy.testing.assert_allclose(out, expected, rtol=1e-10, atol=1e-12)
    assert static == expected.shape
    assert get_conv_output_shape(x.shape, w.shape, mode, stride,
                                 dil) == expected.shape

    gy = RNG.randn(*expected.shape)
    gx, _ = _run(Conv2dGradInputs(**params), w, gy, numpy.array(image))
    numpy.testing.assert_allclose(
        gx, loop_grad_inputs(w, gy, x.shape, mode, stride, flip, dil),
        rtol=1e-10, atol=1e-12)
    gw, _ = _run(Conv2dGradWeights(**params), x, gy, numpy.array(kernel))
    numpy.testing.assert_allclose(
        gw, loop_grad_weights(x, gy, w.shape, mode, stride, flip, dil),
        rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize('image', [(7, 6), (4, 37)])
def test_conv_ops_in_float32(image):
    # float32 products go through SciPy's single-precision BLAS.
    x = RNG.randn(2, 3, *image).astype('float32')
    w = RNG.randn(4, 3, 3, 2).astype('float32')
    params = {'border_mode': 'half', 'subsample': (1, 1),
              'filter_flip': True, 'filter_dilation': (1, 1)}
    args = ('half', (1, 1), True, (1, 1))
    out, _ = _run(Conv2d(**params), x, w)
    gy = RNG.randn(*out.shape).astype('float32')
    gx, _ = _run(Conv2dGradInputs(**params), w, gy, numpy.array(image))
    gw, _ = _run(Conv2dGradWeights(**params), x, gy, numpy.array((3, 2)))
    for got, expected in ((out, loop_conv(x, w, *args)),
                          (gx, loop_grad_inputs(w, gy, x.shape, *args)),
                          (gw, loop_grad_weights(x, gy, w.shape, *args))):
        assert got.dtype == 'float32'
        numpy.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_get_conv_output_shape_passes_none_through():
    assert get_conv_output_shape((None, 3, 17, None), (8, 3, 3, 3), 'valid',
                                 (1, 1)) == (None, 8, 15, None)
    assert get_conv_output_shape((1, 1, 10, 10), (1, 1, 3, 3), (1, 2),
                                 (2, 2), (2, 1)) == (1, 1, 4, 6)


@pytest.fixture(scope='module')
def shape_graph():
    """A conv layer and its gradients, compiled with and without values."""
    x, w = pt.tensor4('x'), pt.tensor4('w')
    y = conv2d(x, w, border_mode=(1, 0), subsample=(2, 1))
    outputs = [y] + pytensor.grad((y ** 2).sum(), [x, w])
    values = pytensor.function([x, w], outputs, mode=PY_MODE)
    shapes = pytensor.function([x, w], [o.shape for o in outputs],
                               mode=PY_MODE)
    return values, shapes


def test_infer_shape_runs_no_op(shape_graph):
    values, shapes = shape_graph
    x, w = RNG.randn(2, 3, 7, 6), RNG.randn(4, 3, 3, 2)
    y, _gx, _gw = values(x, w)
    assert [tuple(s) for s in shapes(x, w)] == [y.shape, x.shape, w.shape]
    ops = {type(node.op) for node in shapes.maker.fgraph.apply_nodes}
    assert not ops & {Conv2d, Conv2dGradInputs, Conv2dGradWeights}


CASES = [{'border_mode': 'half', 'subsample': (2, 1),
          'filter_dilation': (1, 2)},
         {'border_mode': 'full', 'filter_flip': False},
         {'border_mode': (1, 2), 'subsample': (2, 2)}]


@pytest.mark.parametrize('params', CASES)
def test_conv_gradients(params):
    x, w = RNG.randn(2, 2, 5, 6), RNG.randn(3, 2, 3, 2)
    gy = RNG.randn(*get_conv_output_shape(
        x.shape, w.shape, params['border_mode'],
        params.get('subsample', (1, 1)),
        params.get('filter_dilation', (1, 1))))
    verify_grad(lambda a, b: conv2d(a, b, **params), [x, w], rng=RNG,
                mode=PY_MODE)
    verify_grad(lambda b, g: Conv2dGradInputs(**params)(b, g, (5, 6)),
                [w, gy], rng=RNG, mode=PY_MODE)
    verify_grad(lambda a, g: Conv2dGradWeights(**params)(a, g, (3, 2)),
                [x, gy], rng=RNG, mode=PY_MODE)


@pytest.mark.parametrize('make, match', [
    (lambda: conv2d(pt.matrix(), pt.tensor4()), '4-d tensor'),
    (lambda: conv2d(pt.tensor('x', shape=(None, 3, 5, 5)),
                    pt.tensor('w', shape=(2, 4, 3, 3))), '3 channels'),
    (lambda: conv2d(pt.tensor('x', shape=(None, 3, 5, 5)),
                    pt.tensor('w', shape=(2, 3, 6, 3))), 'do not fit'),
    (lambda: conv2d(pt.tensor4(), pt.tensor4(), border_mode='same'),
     'border_mode'),
    (lambda: conv2d(pt.tensor4(), pt.tensor4(), subsample=(0, 1)),
     'subsample'),
])
def test_conv_bad_input(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_conv_runtime_errors_name_the_values():
    x, w = pt.tensor4('x'), pt.tensor4('w')
    y = conv2d(x, w)
    with pytest.raises(ValueError, match=r'does not fit the image \(4, 4\)'):
        y.eval({x: numpy.zeros((1, 1, 4, 4)), w: numpy.zeros((1, 1, 5, 5))},
               mode=PY_MODE)
    with pytest.raises(ValueError, match='2 channels but the filters expect'):
        y.eval({x: numpy.zeros((1, 2, 4, 4)), w: numpy.zeros((1, 1, 3, 3))},
               mode=PY_MODE)


def test_shape_hints_give_constant_shapes_and_are_checked():
    """``input_shape``/``filter_shape`` make the output's sizes constants
    (as Theano's hints did), so a wrong hint is caught when the Op runs."""
    x, w = pt.tensor4('x'), pt.tensor4('w')
    y = conv2d(x, w, input_shape=(None, 1, 6, 5), filter_shape=(2, 1, 3, 3))
    assert y.type.shape == (None, 2, 4, 3)
    shape = pytensor.function([x, w], y.shape, mode=PY_MODE)
    assert tuple(shape(numpy.zeros((3, 1, 6, 5)),
                       numpy.zeros((2, 1, 3, 3)))) == (3, 2, 4, 3)
    with pytest.raises(ValueError, match=r'the input has shape '
                       r'\(3, 1, 7, 5\), but the Op was told '
                       r'\(None, 1, 6, 5\)'):
        y.eval({x: numpy.zeros((3, 1, 7, 5)), w: numpy.zeros((2, 1, 3, 3))},
               mode=PY_MODE)
