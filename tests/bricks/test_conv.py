"""Convolutional and pooling bricks against SciPy and the reference's
shape rules."""
import pickle

import numpy
import pytensor
import pytest
from numpy.testing import assert_allclose
from pytensor import tensor
from pytensor.compile.mode import Mode
from scipy.signal import convolve2d

from blocks.bricks import Rectifier, Tanh
from blocks.bricks.bn import SpatialBatchNormalization
from blocks.bricks.conv import (
    AveragePooling,
    Convolutional,
    ConvolutionalSequence,
    ConvolutionalTranspose,
    Flattener,
    MaxPooling,
)
from blocks.initialization import Constant, IsotropicGaussian
from blocks.roles import BIAS, FILTER, has_roles

FLOATX = pytensor.config.floatX
RNG = numpy.random.RandomState(5)
# The Ops run in Python anyway: the Python linker spares C compilation.
PY_MODE = Mode(linker='py', optimizer='fast_run')


def _evaluate(outputs, inputs, *values):
    return pytensor.function(inputs, outputs, mode=PY_MODE)(*values)


def _init(brick):
    brick.weights_init = IsotropicGaussian(0.5)
    brick.biases_init = Constant(0.25)
    brick.initialize()
    return brick


def test_convolutional_is_a_true_convolution():
    conv = _init(Convolutional((3, 2), 4, 2, image_size=(6, 5),
                               batch_size=3))
    x = tensor.tensor4('x')
    value = RNG.randn(3, 2, 6, 5).astype(FLOATX)
    out, = _evaluate([conv.apply(x)], [x], value)
    W = conv.W.get_value()
    expected = numpy.array([[sum(convolve2d(value[b, c], W[k, c], 'valid')
                                 for c in range(2)) + 0.25
                             for k in range(4)] for b in range(3)])
    assert_allclose(out, expected, rtol=1e-10)
    assert out.shape[1:] == conv.get_dim('output') == (4, 4, 4)
    assert has_roles(conv.W, [FILTER]) and has_roles(conv.b, [BIAS])
    assert conv.b.get_value().shape == (4,)


def test_convolutional_get_dim_reference_example():
    conv = Convolutional((3, 3), 7, 5, image_size=(17, 13))
    assert conv.get_dim('input_') == (5, 17, 13)
    assert conv.get_dim('output') == (7, 15, 11)
    assert conv.num_output_channels == 7
    with pytest.raises(ValueError):
        conv.get_dim('nothing')


@pytest.mark.parametrize('border_mode, expected', [
    ('valid', (2, 6, 5)), ('full', (2, 10, 9)), ('half', (2, 8, 7)),
    ((1, 0), (2, 8, 5))])
def test_border_modes_and_untied_biases(border_mode, expected):
    conv = _init(Convolutional((3, 3), 2, 1, image_size=(8, 7),
                               border_mode=border_mode, tied_biases=False))
    assert conv.get_dim('output') == expected
    assert conv.b.get_value().shape == expected
    x = tensor.tensor4('x')
    out, = _evaluate([conv.apply(x)], [x], RNG.randn(1, 1, 8, 7))
    assert out.shape[1:] == expected


def test_untied_biases_need_image_size():
    conv = Convolutional((3, 3), 2, 1, tied_biases=False)
    with pytest.raises(ValueError, match='Cannot infer bias size without '
                       'image_size specified'):
        conv.allocate()


@pytest.mark.parametrize('border_mode, expected', [
    ('valid', (19, 21)), ((2, 1), (15, 19)), ('full', (13, 13)),
    ('half', (15, 17))])
def test_transpose_original_image_size(border_mode, expected):
    brick = ConvolutionalTranspose((4, 5), 2, 3, image_size=(6, 9),
                                   step=(3, 2), border_mode=border_mode)
    assert brick.original_image_size == expected
    assert brick.get_dim('output') == (2,) + expected


def test_transpose_unused_edge_and_explicit_size():
    brick = ConvolutionalTranspose((3, 3), 2, 3, image_size=(4, 4),
                                   step=(2, 2), border_mode=(1, 1),
                                   unused_edge=(1, 1))
    assert brick.original_image_size == (8, 8)
    brick.original_image_size = (9, 7)
    assert brick.get_dim('output') == (2, 9, 7)


def test_transpose_needs_a_size():
    brick = _init(ConvolutionalTranspose((3, 3), 2, 3))
    with pytest.raises(ValueError, match="can't infer original_image_size"):
        brick.apply(tensor.tensor4())


def test_transpose_is_the_adjoint_of_the_convolution():
    """<conv(x), y> == <x, conv_transpose(y)> with shared filters."""
    forward = _init(Convolutional((3, 2), 3, 2, image_size=(7, 6),
                                  step=(2, 1), border_mode=(1, 1),
                                  use_bias=False))
    backward = ConvolutionalTranspose(
        (3, 2), 2, 3, image_size=forward.get_dim('output')[1:],
        step=(2, 1), border_mode=(1, 1), original_image_size=(7, 6),
        use_bias=False, weights_init=Constant(0))
    backward.initialize()
    backward.W.set_value(forward.W.get_value().transpose(1, 0, 2, 3))
    x, y = tensor.tensor4('x'), tensor.tensor4('y')
    xv = RNG.randn(2, 2, 7, 6)
    yv = RNG.randn(2, 3, *forward.get_dim('output')[1:])
    fx, ty, grad = _evaluate(
        [forward.apply(x), backward.apply(y),
         pytensor.grad(backward.apply(y).sum(), backward.W)], [x, y], xv, yv)
    assert ty.shape == xv.shape
    assert_allclose((fx * yv).sum(), (xv * ty).sum(), rtol=1e-10)
    assert numpy.abs(grad).sum() > 0  # the transposed convolution trains


def test_pooling_bricks():
    x = tensor.tensor4('x')
    value = RNG.randn(2, 3, 7, 6)
    max_pool = MaxPooling((2, 2), input_dim=(3, 7, 6))
    avg_pool = AveragePooling((3, 3), step=(2, 2), padding=(1, 1),
                              input_dim=(3, 7, 6))
    inc_pool = AveragePooling((3, 3), step=(2, 2), padding=(1, 1),
                              include_padding=True, input_dim=(3, 7, 6))
    outs = _evaluate([max_pool.apply(x), avg_pool.apply(x),
                      inc_pool.apply(x)], [x], value)
    assert outs[0].shape[1:] == max_pool.get_dim('output') == (3, 3, 3)
    assert_allclose(outs[0][..., 0, 0], value[..., :2, :2].max(axis=(2, 3)))
    assert avg_pool.mode == 'average_exc_pad'
    assert inc_pool.mode == 'average_inc_pad'
    assert outs[1].shape[1:] == avg_pool.get_dim('output') == (3, 4, 3)
    # The corner window holds 4 real cells and 5 padded ones.
    corner = value[..., :2, :2].sum(axis=(2, 3))
    assert_allclose(outs[1][..., 0, 0], corner / 4)
    assert_allclose(outs[2][..., 0, 0], corner / 9)
    assert max_pool.get_dim('other') is None


@pytest.mark.parametrize('input_dim, kwargs, expected', [
    ((1, 10, 13), {'pooling_size': (3, 4)}, (1, 3, 3)),
    ((1, 12, 15), {'pooling_size': (5, 7), 'ignore_border': False},
     (1, 3, 3)),
    ((1, 6, 10), {'pooling_size': (6, 2), 'padding': (3, 1)}, (1, 2, 6))])
def test_pooling_get_dim_reference_cases(input_dim, kwargs, expected):
    assert MaxPooling(input_dim=input_dim, **kwargs).get_dim('output') == \
        expected


def test_pooling_properties():
    pool = MaxPooling((2, 2))
    assert pool.input_dim == (None, None, None)
    pool.image_size = (4, 6)
    pool.num_channels = 3
    assert pool.input_dim == (3, 4, 6)
    assert pool.num_output_channels == 3


def test_max_pooling_unpickles_from_before_padding():
    pool = MaxPooling((2, 2), step=(1, 1))
    for name in ('mode', 'padding', 'ignore_border'):
        del pool.__dict__[name]
    restored = pickle.loads(pickle.dumps(pool))
    assert (restored.mode, restored.padding, restored.ignore_border) == \
        ('max', (0, 0), False)
    assert restored.step == (1, 1)


def test_convolutional_sequence_reference_example():
    seq = ConvolutionalSequence(
        [Convolutional((7, 7), 5, border_mode=(1, 1)), Tanh()],
        num_channels=8, image_size=(8, 11))
    seq.push_allocation_config()
    assert seq.get_dim('output') == (5, 4, 7)
    assert seq.get_dim('input_') == (8, 8, 11)


def test_convolutional_sequence_pushes_dims_through_layers():
    conv1 = Convolutional((3, 3), 4, border_mode='full')
    conv2 = Convolutional((2, 2), 5, tied_biases=False)
    bn = SpatialBatchNormalization()
    pool = MaxPooling((2, 2), step=(1, 1))
    seq = ConvolutionalSequence(
        [conv1.apply, Rectifier().apply, MaxPooling((2, 2)), conv2, bn,
         pool, AveragePooling((2, 2))],
        num_channels=2, image_size=(9, 8), batch_size=4, use_bias=True,
        weights_init=IsotropicGaussian(0.1), biases_init=Constant(0))
    seq.initialize()
    assert conv1.get_dim('output') == (4, 11, 10)
    assert seq.layers[2].get_dim('output') == (4, 5, 5)
    assert conv2.num_channels == 4 and conv2.image_size == (5, 5)
    assert conv2.get_dim('output') == (5, 4, 4)
    assert conv2.batch_size == 4
    assert conv2.b.get_value().shape == (5, 4, 4)  # untied, own value kept
    assert conv1.border_mode == 'full'  # not pushed: the sequence has None
    assert bn.input_dim == (5, 4, 4)
    assert pool.get_dim('output') == (5, 3, 3)
    assert seq.get_dim('output') == (5, 1, 1)
    x = tensor.tensor4('x')
    out, = _evaluate([seq.apply(x)], [x], RNG.randn(4, 2, 9, 8))
    assert out.shape == (4, 5, 1, 1)


def test_convolutional_sequence_pushes_explicit_settings():
    conv = Convolutional((3, 3), 4, border_mode='full', tied_biases=False)
    seq = ConvolutionalSequence([conv], num_channels=1, image_size=(5, 5),
                                border_mode='valid', tied_biases=True)
    seq.push_allocation_config()
    assert (conv.border_mode, conv.tied_biases) == ('valid', True)
    assert seq.get_dim('output') == (4, 3, 3)
    only_activations = ConvolutionalSequence([Tanh()], num_channels=2,
                                             image_size=(3, 4))
    only_activations.push_allocation_config()
    assert only_activations.get_dim('output') == (2, 3, 4)


def test_flattener():
    x = tensor.tensor4('x')
    out, = _evaluate([Flattener().apply(x)], [x], numpy.ones((2, 3, 4, 5)))
    assert out.shape == (2, 60)


def test_bad_input_errors_name_brick_argument_and_values():
    conv = _init(Convolutional((3, 3), 2, 3, name='conv'))
    with pytest.raises(ValueError, match=r'Convolutional /conv expects a '
                       r'4-d input.*got a 3-d'):
        conv.apply(tensor.tensor3())
    with pytest.raises(ValueError, match=r'num_channels=3, but its input '
                       r'.* has 2 channels'):
        conv.apply(tensor.tensor('x', shape=(None, 2, 5, 5)))
    too_big = Convolutional((5, 5), 2, 1, image_size=(4, 6), name='big',
                            weights_init=Constant(0), biases_init=Constant(0))
    with pytest.raises(ValueError, match=r'/big: filter_size \(5, 5\) does '
                       r'not fit image_size \(4, 6\)'):
        too_big.initialize()
    with pytest.raises(ValueError, match=r'MaxPooling /pool \(pooling_size='
                       r'\(0, 2\).*must be >= 1'):
        MaxPooling((0, 2), name='pool')
    pool = MaxPooling((4, 4), name='pool')
    with pytest.raises(ValueError, match=r'/pool: pooling_size \(4, 4\) .*'
                       r'does not fit an input of \(3, 3\)'):
        pool.apply(tensor.tensor('x', shape=(1, 1, 3, 3)))


def test_conv_net_from_bricks_differentiates_under_jax():
    """A brick-built conv net under the JAX backend: JAX needs each shape
    as a constant, which the layers' shapes are when ``image_size`` is
    known (the flattener's gradient reshapes to the pooled shape)."""
    pytest.importorskip('jax')
    from blocks.bricks import Linear
    from blocks.compilation import backend_mode
    convs = ConvolutionalSequence(
        [Convolutional((3, 3), 3), Rectifier(), MaxPooling((2, 2))],
        num_channels=2, image_size=(6, 6),
        weights_init=IsotropicGaussian(0.5), biases_init=Constant(0.1))
    linear = Linear(12, 1, weights_init=IsotropicGaussian(0.5),
                    biases_init=Constant(0))
    convs.initialize()
    linear.initialize()
    x = tensor.tensor4('x')
    cost = linear.apply(Flattener().apply(convs.apply(x))).sum()
    parameters = list(convs.children[0].parameters) + list(linear.parameters)
    grads = pytensor.grad(cost, parameters)
    value = RNG.randn(4, 2, 6, 6).astype(FLOATX)
    expected = _evaluate(grads, [x], value)
    got = pytensor.function([x], grads, mode=backend_mode('jax'))(value)
    for a, b in zip(got, expected, strict=True):
        assert_allclose(a, b, rtol=1e-4, atol=1e-5)
