"""One im2col shared by a convolution and its weight gradient (C mode)."""
import pickle

import numpy
import pytensor
import pytensor.tensor as pt
import pytest

from blocks.compilation import (
    SHARED_CONV_COLUMNS_REWRITE,
    backend_mode,
    c_mode,
    describe,
)
from blocks.ops import (
    Conv2d,
    Conv2dGradInputs,
    Conv2dGradWeights,
    Pool,
    conv2d,
)
from blocks.ops.columns import (
    Conv2dColumns,
    Conv2dFromColumns,
    Conv2dGradsFromColumns,
    Conv2dGradWeightsFromColumns,
)
from tests.ops.test_conv import (
    loop_conv,
    loop_grad_inputs,
    loop_grad_weights,
)

RNG = numpy.random.RandomState(5)


def _ops(function):
    return [type(node.op) for node in function.maker.fgraph.toposort()]


def _compile(inputs, outputs, shared=True):
    mode = c_mode()
    if not shared:
        mode = mode.excluding(SHARED_CONV_COLUMNS_REWRITE)
    return pytensor.function(inputs, outputs, mode=mode,
                             on_unused_input='ignore')


@pytest.fixture(scope='module')
def conv_net():
    """A two-layer conv net's cost and gradients, compiled with and without
    the rewrite. The first layer's output is wide (batch-outer columns),
    the second's narrow (batch-inner)."""
    x, t = pt.tensor4('x'), pt.matrix('t')
    w1 = pytensor.shared(RNG.randn(3, 2, 3, 3) * 0.3, name='w1')
    w2 = pytensor.shared(RNG.randn(4, 3, 3, 3) * 0.2, name='w2')
    v = pytensor.shared(RNG.randn(4 * 7 * 7, 2) * 0.1, name='v')
    h = Pool((2, 2))(pt.maximum(conv2d(x, w1, border_mode='half'), 0))
    y = pt.tanh(conv2d(h, w2)).flatten(2).dot(v)
    cost = ((y - t) ** 2).mean()
    parameters = [w1, w2, v]
    outputs = [cost] + pytensor.grad(cost, parameters + [x])
    values = (RNG.randn(3, 2, 18, 18), RNG.randn(3, 2))
    return {'inputs': [x, t], 'outputs': outputs, 'values': values,
            'parameters': parameters, 'cost': cost,
            'shared': _compile([x, t], outputs),
            'separate': _compile([x, t], outputs, shared=False)}


def test_one_columns_op_per_layer(conv_net):
    ops = _ops(conv_net['shared'])
    assert ops.count(Conv2dColumns) == 2
    assert ops.count(Conv2dFromColumns) == 2
    # Both layers' image gradients are wanted (the first's for `x`): each
    # joins its weight gradient.
    assert ops.count(Conv2dGradsFromColumns) == 2
    assert Conv2dGradWeightsFromColumns not in ops
    assert not {Conv2d, Conv2dGradWeights, Conv2dGradInputs} & set(ops)
    separate = _ops(conv_net['separate'])
    assert Conv2dColumns not in separate
    assert separate.count(Conv2d) == 2


def test_same_numbers_as_without_the_rewrite(conv_net):
    shared = conv_net['shared'](*conv_net['values'])
    separate = conv_net['separate'](*conv_net['values'])
    for got, expected in zip(shared, separate, strict=True):
        numpy.testing.assert_array_equal(got, expected)


def test_conv_net_trains(conv_net):
    x, t = conv_net['inputs']
    parameters = conv_net['parameters']
    grads = pytensor.grad(conv_net['cost'], parameters)
    step = pytensor.function(
        [x, t], conv_net['cost'], mode=c_mode(),
        updates=[(p, p - 0.02 * g) for p, g in zip(parameters, grads)])
    ops = _ops(step)
    assert ops.count(Conv2dColumns) == 2
    # No gradient with respect to `x`: the first layer's weight gradient
    # stays on its own.
    assert ops.count(Conv2dGradsFromColumns) == 1
    assert ops.count(Conv2dGradWeightsFromColumns) == 1
    initial = [p.get_value() for p in parameters]
    try:
        costs = [float(step(*conv_net['values'])) for _ in range(20)]
    finally:
        for p, value in zip(parameters, initial, strict=True):
            p.set_value(value)
    assert costs[-1] < 0.5 * costs[0]


CASES = [{'border_mode': 'valid'},  # ow 17: batch outer
         {'border_mode': 'full', 'subsample': (2, 1), 'filter_flip': False},
         {'border_mode': (1, 2), 'filter_dilation': (2, 1)},
         # ow 10: batch inner, padded.
         {'border_mode': 'half', 'subsample': (2, 2)}]


@pytest.mark.parametrize('params', CASES)
def test_against_numpy_loops(params):
    x, w = pt.tensor4('x'), pt.tensor4('w')
    y = conv2d(x, w, **params)
    weights = pt.tensor4('weights')
    cost = (y * weights).sum()
    f = _compile([x, w, weights], [y] + pytensor.grad(cost, [w, x]))
    assert _ops(f).count(Conv2dColumns) == 1
    assert _ops(f).count(Conv2dGradsFromColumns) == 1
    xv, wv = RNG.randn(2, 2, 7, 19), RNG.randn(3, 2, 3, 2)
    mode = params['border_mode']
    stride = params.get('subsample', (1, 1))
    flip = params.get('filter_flip', True)
    dil = params.get('filter_dilation', (1, 1))
    expected = loop_conv(xv, wv, mode, stride, flip, dil)
    gy = RNG.randn(*expected.shape)
    got_y, got_gw, got_gx = f(xv, wv, gy)
    numpy.testing.assert_allclose(got_y, expected, rtol=1e-12, atol=1e-12)
    numpy.testing.assert_allclose(
        got_gw, loop_grad_weights(xv, gy, wv.shape, mode, stride, flip, dil),
        rtol=1e-12, atol=1e-12)
    numpy.testing.assert_allclose(
        got_gx, loop_grad_inputs(wv, gy, xv.shape, mode, stride, flip, dil),
        rtol=1e-12, atol=1e-12)


def _count_columns(outputs, inputs):
    return _ops(_compile(inputs, outputs)).count(Conv2dColumns)


def test_not_applied_to_other_images_parameters_or_kernel_sizes():
    x, x2, w, gy = (pt.tensor4(name) for name in ('x', 'x2', 'w', 'gy'))
    y = Conv2d(border_mode='half')(x, w)
    kernel = w.shape[-2:]
    other_image = Conv2dGradWeights(border_mode='half')(x2, gy, kernel)
    other_mode = Conv2dGradWeights(border_mode='valid')(x, gy, kernel)
    other_flip = Conv2dGradWeights(border_mode='half', filter_flip=False)(
        x, gy, kernel)
    # A kernel size the rewrite cannot prove to be w's.
    unknown_size = Conv2dGradWeights(border_mode='half')(x, gy, (3, 3))
    inputs = [x, x2, w, gy]
    for grad in (other_image, other_mode, other_flip, unknown_size):
        assert _count_columns([y, grad], inputs) == 0
    same = Conv2dGradWeights(border_mode='half')(x, gy, kernel)
    assert _count_columns([y, same], inputs) == 1


def test_constant_kernel_sizes_match_static_shapes():
    x, gy = pt.tensor4('x'), pt.tensor4('gy')
    w = pt.tensor4('w', shape=(2, 3, 3, 3))
    y = Conv2d()(x, w)
    assert _count_columns([y, Conv2dGradWeights()(x, gy, (3, 3))],
                          [x, w, gy]) == 1
    assert _count_columns([y, Conv2dGradWeights()(x, gy, (3, 2))],
                          [x, w, gy]) == 0


def test_convolutions_of_one_image_pair_with_their_own_gradients():
    x, w, v = (pt.tensor4(name) for name in ('x', 'w', 'v'))
    y, z = conv2d(x, w), conv2d(x, v)
    cost = (y ** 2).sum() + (z ** 3).sum()
    # Each gradient's kernel size is Shape_i of its own filters.
    assert _count_columns([y, z] + pytensor.grad(cost, [w, v]),
                          [x, w, v]) == 2
    # Kernels of one constant size: one copy of the windows for all four.
    w, v = (pt.tensor4(name, shape=(2, None, 3, 3)) for name in 'wv')
    y, z = conv2d(x, w), conv2d(x, v)
    cost = (y ** 2).sum() + (z ** 3).sum()
    f = _compile([x, w, v], [cost] + pytensor.grad(cost, [w, v]))
    assert _ops(f).count(Conv2dColumns) == 1
    values = RNG.randn(2, 1, 6, 5), RNG.randn(2, 1, 3, 3), \
        RNG.randn(2, 1, 3, 3)
    separate = _compile([x, w, v], [cost] + pytensor.grad(cost, [w, v]),
                        shared=False)
    for got, expected in zip(f(*values), separate(*values), strict=True):
        numpy.testing.assert_array_equal(got, expected)


def test_forward_only_function_is_unchanged():
    x, w = pt.tensor4('x'), pt.tensor4('w')
    f = _compile([x, w], conv2d(x, w, border_mode='half'))
    ops = _ops(f)
    assert Conv2d in ops and Conv2dColumns not in ops


def test_static_and_inferred_shapes():
    x = pt.tensor4('x', shape=(2, 3, 9, None))
    w, gy = pt.tensor4('w', shape=(4, 3, 3, 2)), pt.tensor4('gy')
    op = {'border_mode': 'full', 'subsample': (2, 1)}
    cols = Conv2dColumns(**op)(x, (3, 2))
    y = Conv2dFromColumns(**op)(cols, w)
    gw = Conv2dGradWeightsFromColumns(**op)(cols, gy)
    assert cols.type.shape == (2, 3, 3, 2, 6, None)
    assert y.type.shape == (2, 4, 6, None)
    assert gw.type.shape == (None, 3, 3, 2)
    xv, wv = RNG.randn(2, 3, 9, 5), RNG.randn(4, 3, 3, 2)
    gyv = RNG.randn(2, 4, 6, 6)
    mode = c_mode()
    values = pytensor.function([x, w, gy], [cols, y, gw], mode=mode)(
        xv, wv, gyv)
    shapes = pytensor.function([x, w, gy], [cols.shape, y.shape, gw.shape],
                               mode=mode, on_unused_input='ignore')
    assert [tuple(s) for s in shapes(xv, wv, gyv)] == [
        v.shape for v in values]
    assert not set(_ops(shapes)) & {
        Conv2dColumns, Conv2dFromColumns, Conv2dGradWeightsFromColumns}
    numpy.testing.assert_allclose(
        values[1], loop_conv(xv, wv, 'full', (2, 1), True, (1, 1)),
        rtol=1e-12, atol=1e-12)


def test_no_gradient_and_clear_errors():
    x, w = pt.tensor4('x'), pt.tensor4('w')
    cols = Conv2dColumns()(x, (3, 3))
    with pytest.raises(NotImplementedError, match='after differentiation'):
        pytensor.grad(Conv2dFromColumns()(cols, w).sum(), x)
    with pytest.raises(ValueError, match='6-d'):
        Conv2dFromColumns()(x, w)
    f = pytensor.function([x, w], Conv2dFromColumns()(cols, w),
                          mode=c_mode())
    with pytest.raises(ValueError, match=r'do not match filters of shape '
                                         r'\(2, 1, 2, 2\)'):
        f(RNG.randn(1, 1, 5, 5), RNG.randn(2, 1, 2, 2))


def test_only_the_c_mode_shares_columns():
    reported = 'shared convolution columns'
    assert reported in describe(c_mode())['optimizer']
    assert reported not in describe(c_mode().excluding(
        SHARED_CONV_COLUMNS_REWRITE))['optimizer']
    assert reported not in describe(backend_mode('numba'))['optimizer']


def test_the_c_mode_pickles_with_the_rewrite():
    # Checkpoints pickle a compiled function's mode.
    mode = pickle.loads(pickle.dumps(c_mode()))
    assert 'shared convolution columns' in describe(mode)['optimizer']


def test_transposed_convolution_keeps_its_forward_pass_apart():
    # A transposed convolution's forward pass is a Conv2dGradInputs of its
    # input `y`; the gradient of a cost of its output with respect to `y`
    # is a Conv2d of that output's gradient, whose weight-gradient partner
    # also reads `y`. Joining the forward pass with that weight gradient
    # would make the joined Op need its own output (a cycle).
    y = pt.tensor4('y')
    w = pytensor.shared(RNG.randn(3, 2, 3, 3), name='w')
    out = Conv2dGradInputs()(w, y, (9, 9))
    cost = (out ** 2).sum()
    outputs = [cost] + pytensor.grad(cost, [w, y])
    shared = _compile([y], outputs)
    assert Conv2dColumns in _ops(shared)
    assert Conv2dGradsFromColumns not in _ops(shared)
    value = RNG.randn(2, 3, 7, 7)
    separate = _compile([y], outputs, shared=False)
    for got, expected in zip(shared(value), separate(value), strict=True):
        numpy.testing.assert_array_equal(got, expected)
