"""Batch normalization bricks against NumPy statistics."""
import numpy
import pytensor
import pytest
from numpy.testing import assert_allclose
from pytensor import tensor
from pytensor.compile.mode import Mode

from blocks.bricks import (
    BatchNormalization,
    BatchNormalizedMLP,
    Identity,
    Logistic,
    SpatialBatchNormalization,
    Tanh,
)
from blocks.graph import ComputationGraph
from blocks.initialization import Constant, IsotropicGaussian
from blocks.roles import (
    BATCH_NORM_MINIBATCH_ESTIMATE,
    BATCH_NORM_POPULATION_MEAN,
    BATCH_NORM_POPULATION_STDEV,
    BATCH_NORM_SCALE_PARAMETER,
    BATCH_NORM_SHIFT_PARAMETER,
    has_roles,
)
from blocks.select import Selector

RNG = numpy.random.RandomState(7)
PY_MODE = Mode(linker='py', optimizer='fast_run')


def _evaluate(outputs, inputs, *values):
    return pytensor.function(inputs, outputs, mode=PY_MODE)(*values)


def test_inference_mode_uses_population_statistics():
    brick = BatchNormalization(input_dim=(3, 4))
    brick.initialize()
    x = tensor.tensor3('x')
    y = brick.apply(x)
    value = RNG.randn(5, 3, 4)
    out, = _evaluate([y], [x], value)
    assert_allclose(out, value)  # default statistics: the identity
    brick.population_stdev.set_value(3 * brick.population_stdev.get_value())
    brick.population_mean.set_value(numpy.full((3, 4), 0.5))
    out, = _evaluate([y], [x], value)
    # No epsilon in inference mode.
    assert_allclose(out, (value - 0.5) / 3)


def test_training_mode_uses_minibatch_statistics():
    brick = BatchNormalization(input_dim=4, epsilon=1e-3,
                               scale_init=Constant(2),
                               shift_init=Constant(1))
    brick.initialize()
    x = tensor.matrix('x')
    with brick:
        with brick:  # nested use keeps training mode until the last exit
            pass
        y = brick.apply(x)
    assert not brick._training_mode
    value = RNG.randn(6, 4) * 3 + 1
    out, = _evaluate([y], [x], value)
    expected = (value - value.mean(0)) / numpy.sqrt(value.var(0) + 1e-3)
    assert_allclose(out, 2 * expected + 1)
    estimates = [v for v in ComputationGraph([y]).variables
                 if has_roles(v, [BATCH_NORM_MINIBATCH_ESTIMATE])]
    assert len(estimates) == 2
    for estimate in estimates:
        assert estimate.broadcastable[1:] == \
            brick.population_mean.broadcastable


def test_spatial_batch_normalization_is_per_channel():
    brick = SpatialBatchNormalization(input_dim=(3, 4, 5))
    brick.initialize()
    assert brick.broadcastable == (False, True, True)
    assert brick.population_mean.get_value().shape == (3, 1, 1)
    assert brick.population_mean.broadcastable == (False, True, True)
    x = tensor.tensor4('x')
    with brick:
        y = brick.apply(x)
    value = RNG.randn(2, 3, 4, 5) + numpy.arange(3)[:, None, None]
    out, = _evaluate([y], [x], value)
    mean = value.mean(axis=(0, 2, 3), keepdims=True)
    var = value.var(axis=(0, 2, 3), keepdims=True)
    assert_allclose(out, (value - mean) / numpy.sqrt(var + 1e-4))


def test_parameters_buffers_and_roles():
    brick = BatchNormalization(input_dim=3)
    brick.allocate()
    shift, scale = brick.parameters
    assert has_roles(shift, [BATCH_NORM_SHIFT_PARAMETER])
    assert has_roles(scale, [BATCH_NORM_SCALE_PARAMETER])
    assert has_roles(brick.population_mean, [BATCH_NORM_POPULATION_MEAN])
    assert has_roles(brick.population_stdev, [BATCH_NORM_POPULATION_STDEV])
    assert brick.population_mean not in brick.parameters
    assert brick.population_stdev.tag.annotations == [brick]
    mean_only = BatchNormalization(input_dim=3, mean_only=True,
                                   learn_shift=False)
    mean_only.initialize()
    assert list(mean_only.parameters) == []
    x = tensor.matrix('x')
    with mean_only:
        y = mean_only.apply(x)
    value = RNG.randn(4, 3) * 5
    out, = _evaluate([y], [x], value)
    assert_allclose(out, value - value.mean(0))


def test_convolutional_sequence_interface():
    brick = BatchNormalization()
    brick.image_size = (4, 5)
    assert brick.input_dim == (None, 4, 5)
    brick.num_channels = 3
    assert brick.input_dim == (3, 4, 5)
    assert brick.num_output_channels == 3
    assert brick.get_dim('input') == brick.get_dim('output') == (3, 4, 5)
    assert brick.output_dim == (3, 4, 5)
    with pytest.raises(KeyError):
        brick.get_dim('input_')


def test_allocation_errors():
    with pytest.raises(ValueError, match='input_dim and broadcastable must '
                       'be same length'):
        BatchNormalization(input_dim=(3, 4), broadcastable=(True,)).allocate()
    with pytest.raises(ValueError, match=r'expected input_dim to be length '
                       r'>= 2.*input_dim=5'):
        SpatialBatchNormalization(input_dim=5).allocate()


def test_batch_normalized_mlp_structure_and_propagation():
    mlp = BatchNormalizedMLP([Tanh(), Identity()], [4, 5, 6],
                             mean_only=True, learn_shift=False,
                             weights_init=IsotropicGaussian(0.1))
    assert not mlp.use_bias
    bns = [act.children[0] for act in mlp.activations]
    assert all(bn.conserve_memory for bn in bns)
    mlp.conserve_memory = False
    assert not any(bn.conserve_memory for bn in bns)
    mlp.initialize()
    assert [bn.input_dim for bn in bns] == [5, 6]
    assert all(bn.mean_only and not bn.learn_shift for bn in bns)
    assert all(not layer.parameters[1:]
               for layer in mlp.linear_transformations)

    default = BatchNormalizedMLP([Logistic()], [3, 2])
    default.allocate()
    assert '/batchnormalizedmlp/batch_norm_activation_0/' \
        'batchnormalization.batch_norm_shift' in \
        Selector(default).get_parameters()
    with pytest.raises(ValueError, match='an activation brick for every'):
        BatchNormalizedMLP([Tanh(), None], [3, 4, 5])
