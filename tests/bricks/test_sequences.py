import pickle

import numpy
import pytensor
import pytest
from numpy.testing import assert_allclose
from pytensor import tensor

from blocks.bricks import (FeedforwardSequence, Identity, Linear, MLP,
                           Sequence, Tanh)
from blocks.compilation import function
from blocks.filter import VariableFilter, get_brick
from blocks.initialization import Constant, IsotropicGaussian
from blocks.model import Model
from blocks.roles import BIAS, PARAMETER, WEIGHT
from blocks.select import Selector

FLOATX = pytensor.config.floatX
X = numpy.random.RandomState(3).uniform(-1, 1, (4, 16)).astype(FLOATX)


class MyLinear(Linear):
    pass


@pytest.fixture(scope='module')
def mlps():
    x = tensor.matrix('x')
    mlp = MLP(activations=[Tanh(), None], dims=[16, 8, 4],
              weights_init=IsotropicGaussian(0.1), biases_init=Constant(0.5),
              seed=1)
    lazy_mlp = MLP(activations=[None], weights_init=IsotropicGaussian(),
                   biases_init=Constant(1), use_bias=False)
    # The quirk upstream tests use: the dims are given after construction.
    lazy_mlp.dims = [16, 8]
    tanh = Tanh()
    sequence = Sequence([Linear(16, 8, weights_init=Constant(0.1),
                                biases_init=Constant(0)).apply, tanh.apply,
                         tanh])
    bricks = [mlp, lazy_mlp, sequence]
    outputs = [brick.apply(x) for brick in bricks]
    for brick in bricks:
        brick.initialize()
    values = function([x], outputs)(X)
    return dict(zip(['mlp', 'lazy_mlp', 'sequence'],
                    zip(bricks, outputs, values, strict=True), strict=True))


def test_mlp_output(mlps):
    mlp, _, value = mlps['mlp']
    W0, b0, W1, b1 = [p.get_value() for layer in mlp.linear_transformations
                      for p in layer.parameters]
    assert_allclose(value, numpy.tanh(X.dot(W0) + b0).dot(W1) + b1,
                    rtol=1e-5)


def test_mlp_pushes_dims_and_use_bias(mlps):
    mlp, _, _ = mlps['mlp']
    assert [(layer.input_dim, layer.output_dim)
            for layer in mlp.linear_transformations] == [(16, 8), (8, 4)]
    assert (mlp.input_dim, mlp.output_dim) == (16, 4)
    lazy_mlp, _, value = mlps['lazy_mlp']
    layer, = lazy_mlp.linear_transformations
    assert (layer.input_dim, layer.output_dim) == (16, 8)
    assert layer.use_bias is False and len(layer.parameters) == 1
    assert_allclose(value, X.dot(layer.W.get_value()), rtol=1e-5)


def test_sequence_chains_applications(mlps):
    sequence, output, value = mlps['sequence']
    linear, tanh = sequence.children
    assert isinstance(tanh, Tanh)
    assert sequence.apply.inputs == ['input_']
    assert sequence.apply.outputs == ['output']
    assert get_brick(output) is sequence
    assert_allclose(value, numpy.tanh(numpy.tanh(X.sum(1, keepdims=True)
                                                 * 0.1 * numpy.ones(8))),
                    rtol=1e-5)


def test_mlp_children_and_names():
    tanh = Tanh()
    mlp = MLP([tanh, None, tanh.apply], [2, 3, 4, 5])
    assert [child.name for child in mlp.children] == [
        'linear_0', 'tanh', 'linear_1', 'linear_2']
    mlp = MLP([Identity()], [2, 3], prototype=MyLinear())
    assert [child.name for child in mlp.children] == ['mylinear_0',
                                                      'identity']
    assert isinstance(mlp.children[0], MyLinear)


def test_mlp_use_bias_is_pushed_only_when_given():
    mlp = MLP([None, None], [2, 3, 4])
    mlp.linear_transformations[1].use_bias = False
    mlp.allocate()
    assert [len(layer.parameters) for layer in mlp.linear_transformations] \
        == [2, 1]


def test_mlp_with_inconsistent_activations_and_dims():
    with pytest.raises(ValueError, match=r"MLP 'mlp' has 2 layers \(one per "
                       r"activation\), so it needs 3 dims .* got 2: \[4, 5\]"):
        MLP([Tanh(), None], [4, 5])
    mlp = MLP([Tanh(), None])
    mlp.dims = [4, 5]
    with pytest.raises(ValueError, match="so it needs 3 dims"):
        mlp.allocate()


def test_feedforward_sequence_dims():
    first, second = Linear(), Linear()
    sequence = FeedforwardSequence([first.apply, Tanh().apply, second.apply])
    sequence.input_dim = 3
    sequence.output_dim = 5
    assert (first.input_dim, second.output_dim) == (3, 5)
    assert (sequence.input_dim, sequence.output_dim) == (3, 5)


def test_model_lists_hierarchical_parameter_names():
    x = tensor.matrix('x')
    mlp = MLP([Tanh(), None], [3, 4, 2])
    model = Model(mlp.apply(x))
    assert set(model.get_parameter_dict()) == {
        '/mlp/linear_0.W', '/mlp/linear_0.b',
        '/mlp/linear_1.W', '/mlp/linear_1.b'}
    assert model.get_top_bricks() == [mlp]
    assert set(Selector([mlp]).get_parameters()) == set(
        model.get_parameter_dict())


def test_variable_filter_selects_weights_of_given_bricks():
    x = tensor.matrix('x')
    mlp = MLP([Tanh(), Tanh(), None], [3, 4, 5, 2])
    variables = Model(mlp.apply(x)).variables
    first, second, third = mlp.linear_transformations
    weights = VariableFilter(roles=[WEIGHT], bricks=[first, third])(variables)
    assert weights == [first.W, third.W]
    biases = VariableFilter(roles=[BIAS], bricks=[Linear])(variables)
    assert set(biases) == {first.b, second.b, third.b}
    assert set(VariableFilter(roles=[PARAMETER])(variables)) == {
        p for layer in (first, second, third) for p in layer.parameters}


def test_mlp_pickles_and_applies_again():
    mlp = MLP([Tanh(), None], [3, 4, 2], weights_init=Constant(1),
              biases_init=Constant(0))
    mlp.initialize()
    loaded = pickle.loads(pickle.dumps(mlp))
    assert [c.name for c in loaded.children] == ['linear_0', 'tanh',
                                                 'linear_1']
    output = loaded.apply(tensor.matrix('x'))
    assert set(Model(output).get_parameter_dict()) == {
        '/mlp/linear_0.W', '/mlp/linear_0.b',
        '/mlp/linear_1.W', '/mlp/linear_1.b'}
