import logging

import numpy
import pytest
from pytensor import tensor

from blocks.algorithms import GradientDescent
from blocks.bricks import MLP, Tanh
from blocks.model import Model
from blocks.roles import add_role, PARAMETER
from blocks.utils import shared_floatx


@pytest.fixture
def model():
    x = tensor.matrix('x')
    mlp = MLP([Tanh(), Tanh()], [3, 4, 2], name='mlp')
    y = mlp.apply(x)
    return Model(y.sum()), mlp


def test_top_bricks_and_hierarchical_parameter_names(model):
    model, mlp = model
    assert model.get_top_bricks() == [mlp]
    assert set(model.get_parameter_dict()) == {
        '/mlp/linear_0.W', '/mlp/linear_0.b',
        '/mlp/linear_1.W', '/mlp/linear_1.b'}
    assert model.get_parameter_dict()['/mlp/linear_0.W'] is (
        mlp.linear_transformations[0].W)


def test_parameters_without_a_brick_use_their_name():
    W = shared_floatx(numpy.ones(2), name='W')
    add_role(W, PARAMETER)
    model = Model((tensor.vector('x') * W).sum())
    assert list(model.get_parameter_dict()) == ['W']
    assert model.get_top_bricks() == []


def test_top_bricks_with_the_same_name_raise():
    x = tensor.matrix('x')
    first = MLP([Tanh()], [3, 2], name='same')
    second = MLP([Tanh()], [2, 2], name='same')
    with pytest.raises(ValueError, match='top bricks with the same name'):
        Model(second.apply(first.apply(x)))


def test_get_and_set_parameter_values_round_trip(model):
    model, mlp = model
    values = model.get_parameter_values()
    new_values = {name: value + 1 for name, value in values.items()}
    model.set_parameter_values(new_values)
    for name, value in model.get_parameter_values().items():
        numpy.testing.assert_allclose(value, values[name] + 1)


def test_set_parameter_values_logs_unknown_and_missing_names(model, caplog):
    model, _ = model
    values = model.get_parameter_values()
    values.pop('/mlp/linear_1.b')
    values['/mlp/linear_9.W'] = numpy.zeros(3)
    with caplog.at_level(logging.ERROR, logger='blocks.model'):
        model.set_parameter_values(values)
    assert "unknown parameter names: ['/mlp/linear_9.W']" in caplog.text
    assert ("missing values for parameters: ['/mlp/linear_1.b']" in
            caplog.text)


def test_set_parameter_values_shape_mismatch_names_both_shapes(model):
    model, _ = model
    with pytest.raises(ValueError, match=r'Shape mismatch for parameter: '
                       r'/mlp/linear_0.W. Expected \(3, 4\), got \(4, 3\).'):
        model.set_parameter_values({'/mlp/linear_0.W': numpy.zeros((4, 3))})


def test_check_sanity_warns_when_parameters_differ(model, caplog):
    model, mlp = model
    parameters = list(model.get_parameter_dict().values())
    algorithm = GradientDescent(cost=model.outputs[0],
                                parameters=parameters[:-1])
    with caplog.at_level(logging.WARNING, logger='blocks.model'):
        model.check_sanity(algorithm)
    assert 'different parameters for model and algorithm' in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger='blocks.model'):
        model.check_sanity(GradientDescent(cost=model.outputs[0],
                                           parameters=parameters))
    assert caplog.text == ''
