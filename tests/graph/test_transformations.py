import numpy
import pytensor
import pytest
from pytensor import tensor
from pytensor.compile.mode import Mode

from blocks.filter import VariableFilter
from blocks.graph import (ComputationGraph, apply_dropout, apply_noise,
                          collect_parameters)
from blocks.graph.transformations import SharedRandomStreams
from blocks.roles import add_role, COLLECTED, COLLECTOR, DROPOUT, PARAMETER
from blocks.utils import shared_floatx

floatX = pytensor.config.floatX
PY_MODE = Mode(linker='py').excluding('fusion')


def dropout_function(drop_prob, **kwargs):
    x = tensor.vector('x')
    y = x * 1
    cg = apply_dropout(ComputationGraph([y]), [y], drop_prob, **kwargs)
    return pytensor.function([x], cg.outputs[0], mode=PY_MODE), cg, y


def test_dropout_scales_kept_values_and_drops_the_rest():
    function, _, _ = dropout_function(0.25, seed=1)
    values = function(numpy.ones(4000, dtype=floatX))
    numpy.testing.assert_allclose(numpy.unique(values), [0, 1 / 0.75],
                                  rtol=1e-6)
    assert (values == 0).mean() == pytest.approx(0.25, abs=0.03)


def test_dropout_custom_divisor():
    function, _, _ = dropout_function(0.5, seed=1, custom_divisor=4.)
    values = function(numpy.ones(100, dtype=floatX))
    assert set(numpy.unique(values)) == {0, 0.25}


def test_dropout_is_reproducible_given_a_seed_and_new_each_call():
    first, _, _ = dropout_function(0.5, seed=3)
    second, _, _ = dropout_function(0.5, seed=3)
    other, _, _ = dropout_function(0.5, seed=4)
    ones = numpy.ones(200, dtype=floatX)
    mask = first(ones)
    numpy.testing.assert_array_equal(mask, second(ones))
    assert (mask != other(ones)).any()
    assert (mask != first(ones)).any()


def test_dropout_default_seed_comes_from_config():
    from blocks.config import config
    by_default, _, _ = dropout_function(0.5)
    by_seed, _, _ = dropout_function(0.5, seed=config.default_seed)
    ones = numpy.ones(200, dtype=floatX)
    numpy.testing.assert_array_equal(by_default(ones), by_seed(ones))


def test_dropout_tags_replacements():
    _, cg, y = dropout_function(0.5, rng=SharedRandomStreams(2))
    dropped, = VariableFilter(roles=[DROPOUT])(cg.variables)
    assert dropped.tag.replacement_of is y
    assert dropped.dtype == y.dtype


# PyTensor deprecates its RandomStream; users may still pass one.
@pytest.mark.filterwarnings('ignore::DeprecationWarning')
def test_dropout_accepts_pytensor_random_stream():
    from pytensor.tensor.random.utils import RandomStream
    with pytest.warns(FutureWarning):
        rng = RandomStream(5)
    function, _, _ = dropout_function(0.5, rng=rng)
    values = function(numpy.ones(100, dtype=floatX))
    assert set(numpy.unique(values)) <= {0, 2}


def test_apply_noise_adds_gaussian_noise_of_given_level():
    x = tensor.vector('x')
    y = x + 0
    cg = apply_noise(ComputationGraph([y]), [y], 0.5, seed=1)
    function = pytensor.function([x], cg.outputs[0], mode=PY_MODE)
    noise = function(numpy.zeros(5000, dtype=floatX))
    assert noise.std() == pytest.approx(0.5, rel=0.05)
    assert abs(noise.mean()) < 0.05
    again = apply_noise(ComputationGraph([y]), [y], 0.5, seed=1)
    numpy.testing.assert_array_equal(
        pytensor.function([x], again.outputs[0], mode=PY_MODE)(
            numpy.zeros(5000, dtype=floatX)), noise)


def test_collect_parameters():
    x = tensor.matrix('x')
    W1 = shared_floatx(numpy.ones((3, 2)), name='W1')
    W2 = shared_floatx(2 * numpy.ones((2, 4)), name='W2')
    for W in (W1, W2):
        add_role(W, PARAMETER)
    cost = x.dot(W1).dot(W2).sum()
    new_cg = collect_parameters(ComputationGraph(cost), [W1, W2])
    collected, = new_cg.shared_variables
    assert collected.name == 'collected_parameters'
    assert collected.tag.roles == [COLLECTOR]
    assert collected.ndim == 1
    numpy.testing.assert_array_equal(collected.get_value(),
                                     [1] * 6 + [2] * 8)
    new_W1, new_W2 = VariableFilter(roles=[COLLECTED])(new_cg.variables)
    assert new_W1.tag.replacement_of is W1
    assert new_W2.tag.replacement_of is W2
    function = pytensor.function([], [new_W1, new_W2], mode=PY_MODE)
    value1, value2 = function()
    numpy.testing.assert_array_equal(value1, W1.get_value())
    numpy.testing.assert_array_equal(value2, W2.get_value())
