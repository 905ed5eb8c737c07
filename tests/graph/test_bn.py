"""Graph-level batch normalization: training graphs and updates."""
import numpy
import pytensor
import pytest
from numpy.testing import assert_allclose
from pytensor import tensor
from pytensor.compile.mode import Mode

from blocks.bricks import (MLP, BatchNormalization, BatchNormalizedMLP,
                           Sequence, Tanh)
from blocks.graph import (
    ComputationGraph,
    apply_batch_normalization,
    batch_normalization,
    get_batch_normalization_updates,
)
from blocks.initialization import Constant, IsotropicGaussian

RNG = numpy.random.RandomState(8)
PY_MODE = Mode(linker='py', optimizer='fast_run')
DATA = RNG.randn(7, 4) * 2 + 1


def _mlp(**kwargs):
    mlp = BatchNormalizedMLP([Tanh(), Tanh()], [4, 5, 3],
                             weights_init=IsotropicGaussian(0.5),
                             biases_init=Constant(0), **kwargs)
    mlp.initialize()
    return mlp


def _reference(mlp, data, mean_only=False):
    """The MLP by hand, normalizing by the minibatch's statistics."""
    h = data
    for linear in mlp.linear_transformations:
        h = h @ linear.W.get_value()
        h = h - h.mean(0)
        if not mean_only:
            h = h / numpy.sqrt(h.var(0) + 1e-4)
        h = numpy.tanh(h)
    return h


def test_context_manager_enters_every_descendant_and_exits():
    mlp = _mlp()
    bns = [act.children[0] for act in mlp.activations]
    with batch_normalization(mlp):
        assert all(bn._training_mode == [True] for bn in bns)
        with batch_normalization(mlp, bns[0]):  # each brick entered once
            assert bns[0]._training_mode == [True, True]
    assert not any(bn._training_mode for bn in bns)
    with pytest.raises(RuntimeError), batch_normalization(mlp):
        raise RuntimeError
    assert not any(bn._training_mode for bn in bns)


@pytest.mark.parametrize('mean_only', [False, True])
def test_training_graphs_normalize_by_the_minibatch(mean_only):
    mlp = _mlp(mean_only=mean_only)
    x = tensor.matrix('x')
    y = mlp.apply(x)
    with batch_normalization(mlp):
        y_context = mlp.apply(x)
    y_rewritten, = apply_batch_normalization(ComputationGraph([y])).outputs
    inference, context, rewritten = pytensor.function(
        [x], [y, y_context, y_rewritten], mode=PY_MODE)(DATA)
    expected = _reference(mlp, DATA, mean_only)
    assert_allclose(context, expected, rtol=1e-8)
    assert_allclose(rewritten, expected, rtol=1e-8)
    assert not numpy.allclose(inference, expected)


def test_apply_batch_normalization_skips_training_mode_calls():
    first = BatchNormalization(input_dim=4, name='first')
    second = BatchNormalization(input_dim=4, name='second')
    seq = Sequence([first.apply, second.apply])
    seq.initialize()
    x = tensor.matrix('x')
    with batch_normalization(first):
        y = seq.apply(x)
    y_bn, = apply_batch_normalization(ComputationGraph([y])).outputs
    updates = get_batch_normalization_updates(ComputationGraph([y_bn]))
    assert [u[0] for u in updates] == [
        first.population_mean, second.population_mean,
        first.population_stdev, second.population_stdev]


def test_updates_move_the_population_statistics():
    mlp = _mlp()
    x = tensor.matrix('x')
    with batch_normalization(mlp):
        y = mlp.apply(x)
    updates = get_batch_normalization_updates(ComputationGraph([y]))
    bns = [act.children[0] for act in mlp.activations]
    assert len(updates) == 4
    assert [u[0] for u in updates] == [
        bns[0].population_mean, bns[1].population_mean,
        bns[0].population_stdev, bns[1].population_stdev]
    pytensor.function([x], [], updates=updates, mode=PY_MODE)(DATA)
    pre = DATA @ mlp.linear_transformations[0].W.get_value()
    assert_allclose(bns[0].population_mean.get_value(), pre.mean(0))
    assert_allclose(bns[0].population_stdev.get_value(),
                    numpy.sqrt(pre.var(0) + 1e-4))
    # The inference graph now normalizes like the training graph did.
    inference, = pytensor.function([x], [mlp.apply(x)], mode=PY_MODE)(DATA)
    assert_allclose(inference, _reference(mlp, DATA), rtol=1e-8)


def test_update_errors():
    mlp = _mlp(mean_only=True)
    x = tensor.matrix('x')
    with pytest.raises(ValueError, match='no training mode BatchNormaliz'):
        get_batch_normalization_updates(ComputationGraph([mlp.apply(x)]))
    with pytest.raises(ValueError, match='no training mode BatchNormaliz'):
        plain = MLP([Tanh()], [4, 2], weights_init=Constant(0),
                    biases_init=Constant(0))
        get_batch_normalization_updates(ComputationGraph([plain.apply(x)]))
    with batch_normalization(mlp):
        twice = mlp.apply(x) + mlp.apply(2 * x)
    with pytest.raises(ValueError, match='multiple applications of the same'
                       ' BatchNormalization brick'):
        get_batch_normalization_updates(ComputationGraph([twice]))
    updates = get_batch_normalization_updates(ComputationGraph([twice]),
                                              allow_duplicates=True)
    # mean_only: means only, one per call.
    assert len(updates) == 4
    assert all(u[0].name == 'population_mean' for u in updates)
