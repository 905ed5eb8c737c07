import logging
import pickle
from collections import OrderedDict

import numpy
import pytensor
import pytest
from pytensor import tensor
from pytensor.compile.mode import Mode
from pytensor.gradient import DisconnectedInputError

from blocks.algorithms import (
    Adam, GradientDescent, Scale, StepClipping, TrainingAlgorithm,
    UpdatesAlgorithm, determinism_error)
from blocks.roles import ALGORITHM_BUFFER, ALGORITHM_HYPERPARAMETER, has_roles
from blocks.utils import shared_floatx

floatX = pytensor.config.floatX
PY_MODE = Mode(linker='py').excluding('fusion')
TRUE_WEIGHTS = numpy.array([1., -2., 0.5])


def regression_batches(n_batches, seed=1):
    rng = numpy.random.RandomState(seed)
    for _ in range(n_batches):
        features = rng.normal(size=(10, 3))
        yield {'features': features.astype(floatX),
               'targets': features.dot(TRUE_WEIGHTS).astype(floatX)}


def regression_problem():
    features = tensor.matrix('features')
    targets = tensor.vector('targets')
    W = shared_floatx(numpy.zeros(3), name='W')
    cost = ((features.dot(W) - targets) ** 2).mean()
    cost.name = 'cost'
    return cost, W, [features, targets]


@pytest.fixture(scope='module')
def trained():
    """Adam on least squares, compiled once with blocks' default mode."""
    cost, W, inputs = regression_problem()
    algorithm = GradientDescent(cost=cost, parameters=[W],
                                step_rule=Adam(learning_rate=0.1))
    algorithm.initialize()
    for batch in regression_batches(300):
        algorithm.process_batch(batch)
    return algorithm, W


def test_gradient_descent_converges_on_least_squares(trained):
    _, W = trained
    numpy.testing.assert_allclose(W.get_value(), TRUE_WEIGHTS, atol=1e-2)


def test_state_variables_list_step_rule_buffers_and_hyperparameters(trained):
    algorithm, W = trained
    state = algorithm.state_variables
    assert W not in state
    buffers = [v for v in state if has_roles(v, [ALGORITHM_BUFFER])]
    assert [v.name for v in buffers] == ['mean', 'variance', 'time']
    assert float(buffers[2].get_value()) == 300
    hyperparameters = {v.name for v in state
                       if has_roles(v, [ALGORITHM_HYPERPARAMETER])}
    assert hyperparameters == {'learning_rate', 'beta1', 'beta2', 'epsilon',
                               'decay_factor'}


def test_algorithm_pickles_into_a_working_copy_with_its_state(trained):
    algorithm, W = trained
    copy = pickle.loads(pickle.dumps(algorithm))
    copy_W, = copy.parameters
    assert copy_W is not W
    numpy.testing.assert_array_equal(copy_W.get_value(), W.get_value())
    for batch in regression_batches(5, seed=2):
        algorithm.process_batch(batch)
        copy.process_batch(batch)
    # Same moments and time step: the same trajectory.
    numpy.testing.assert_allclose(copy_W.get_value(), W.get_value(),
                                  rtol=1e-6)
    assert [float(v.get_value()) for v in copy.state_variables
            if v.name == 'time'] == [305]


def test_updates_are_applied_in_place(trained):
    algorithm, W = trained
    storage = W.get_value(borrow=True, return_internal_type=True)
    algorithm.process_batch(next(regression_batches(1, seed=3)))
    assert W.get_value(borrow=True, return_internal_type=True) is storage


def simple_algorithm(**kwargs):
    x = tensor.vector('x')
    total = shared_floatx(numpy.zeros(2), name='total')
    kwargs.setdefault('theano_func_kwargs', {'mode': PY_MODE})
    return UpdatesAlgorithm(updates=[(total, total + x)], **kwargs), total


def test_updates_algorithm_matches_sources_by_name():
    algorithm, total = simple_algorithm()
    algorithm.initialize()
    assert [v.name for v in algorithm.inputs] == ['x']
    algorithm.process_batch({'x': numpy.ones(2, dtype=floatX)})
    algorithm.process_batch({'x': numpy.ones(2, dtype=floatX)})
    numpy.testing.assert_array_equal(total.get_value(), [2, 2])


def test_missing_source_error_names_sources_inputs_and_fix():
    algorithm, _ = simple_algorithm()
    algorithm.initialize()
    with pytest.raises(ValueError, match=r"(?s)Didn't find all sources.*"
                       r"\['y'\].*\['x'\].*name the input variables"):
        algorithm.process_batch({'y': numpy.ones(2, dtype=floatX)})


@pytest.mark.parametrize('initialize', [False, True])
def test_check_sources_reports_mismatch_before_training(initialize):
    algorithm, _ = simple_algorithm()
    if initialize:
        algorithm.initialize()
    algorithm.check_sources(('x',))
    with pytest.raises(ValueError, match=r"(?s)Didn't find all sources.*"
                       r"\['features'\].*\['x'\]"):
        algorithm.check_sources(('features',))
    with pytest.raises(ValueError, match=r"(?s)mismatch of variable names "
                       r"and data sources.*on_unused_sources='warn'"):
        algorithm.check_sources(('x', 'y'))


def test_unused_sources_raise_by_default():
    algorithm, _ = simple_algorithm()
    algorithm.initialize()
    with pytest.raises(ValueError, match='mismatch of variable names'):
        algorithm.process_batch({'x': numpy.ones(2, dtype=floatX),
                                 'y': numpy.ones(2, dtype=floatX)})


def test_unused_sources_warn_once(caplog):
    algorithm, total = simple_algorithm(on_unused_sources='warn')
    algorithm.initialize()
    batch = {'x': numpy.ones(2, dtype=floatX), 'y': 1}
    with caplog.at_level(logging.WARNING):
        algorithm.process_batch(batch)
        algorithm.process_batch(dict(batch))
    assert caplog.text.count('Blocks tried to match the sources') == 1
    numpy.testing.assert_array_equal(total.get_value(), [2, 2])


def test_unused_sources_ignored(caplog):
    algorithm, total = simple_algorithm(on_unused_sources='ignore')
    algorithm.initialize()
    with caplog.at_level(logging.WARNING):
        algorithm.process_batch({'x': numpy.ones(2, dtype=floatX), 'y': 1})
    assert caplog.text == ''
    numpy.testing.assert_array_equal(total.get_value(), [1, 1])


def test_wrong_on_unused_sources_value_reported_when_extras_occur():
    algorithm, _ = simple_algorithm(on_unused_sources='loud')
    algorithm.initialize()
    algorithm.process_batch({'x': numpy.ones(2, dtype=floatX)})
    with pytest.raises(ValueError,
                       match='Wrong value of on_unused_sources: loud.'):
        algorithm.process_batch({'x': numpy.ones(2, dtype=floatX), 'y': 1})


def test_add_updates_and_reinitialize_recompiles():
    algorithm, total = simple_algorithm()
    assert isinstance(algorithm, TrainingAlgorithm)
    counter = shared_floatx(0., name='counter')
    algorithm.add_updates(OrderedDict([(counter, counter + 1)]))
    with pytest.raises(ValueError, match='updates should be a list'):
        algorithm.add_updates({counter: counter + 1})
    algorithm.initialize()
    first_function = algorithm._function
    algorithm.initialize()
    assert algorithm._function is not first_function
    algorithm.process_batch({'x': numpy.ones(2, dtype=floatX)})
    assert float(counter.get_value()) == 1
    assert len(algorithm.updates) == 2


def test_theano_func_kwargs_reach_the_compiled_function():
    algorithm, _ = simple_algorithm(
        theano_func_kwargs={'profile': True, 'mode': PY_MODE})
    algorithm.initialize()
    assert algorithm._function.profile


def test_updates_default_to_an_empty_list():
    assert UpdatesAlgorithm().updates == []


def test_gradient_descent_builds_updates_and_norms():
    cost, W, inputs = regression_problem()
    extra = shared_floatx(0., name='extra')
    user_updates = [(extra, extra + 1)]
    algorithm = GradientDescent(
        cost=cost, parameters=[W], step_rule=Scale(0.5),
        updates=user_updates, theano_func_kwargs={'mode': PY_MODE})
    # The user's list is extended in place.
    assert algorithm.updates is user_updates
    assert [variable for variable, _ in algorithm.updates] == [extra, W]
    assert algorithm.total_gradient_norm.name == 'total_gradient_norm'
    assert algorithm.total_step_norm.name == 'total_step_norm'
    batch = next(regression_batches(1))
    function = pytensor.function(
        inputs,
        [algorithm.total_gradient_norm, algorithm.total_step_norm],
        mode=PY_MODE)
    gradient_norm, step_norm = function(batch['features'], batch['targets'])
    assert step_norm == pytest.approx(0.5 * gradient_norm)


def test_gradients_given_as_pairs_or_ordered_dict():
    cost, W, inputs = regression_problem()
    gradient = pytensor.grad(cost, W)
    from_pairs = GradientDescent(gradients=[(W, gradient)])
    assert isinstance(from_pairs.gradients, OrderedDict)
    assert from_pairs.parameters == [W]
    from_dict = GradientDescent(gradients=OrderedDict([(W, gradient)]))
    assert from_dict.parameters == [W]


def test_gradients_for_other_parameters_than_listed(caplog):
    cost, W, inputs = regression_problem()
    V = shared_floatx(numpy.zeros(3), name='V')
    gradients = OrderedDict([(W, pytensor.grad(cost, W))])
    with caplog.at_level(logging.WARNING):
        algorithm = GradientDescent(gradients=gradients, parameters=[V])
    assert 'does not match keys in provided gradient' in caplog.text
    assert algorithm.parameters == [W]
    with pytest.raises(ValueError, match='Cannot infer parameter list'):
        GradientDescent(gradients=dict(gradients), parameters=[V])
    with pytest.raises(ValueError, match='Cannot infer parameter list'):
        GradientDescent(gradients=dict(gradients))
    assert determinism_error.startswith('Cannot infer parameter list')


def test_cost_is_unused_when_gradients_are_given(caplog):
    cost, W, inputs = regression_problem()
    with caplog.at_level(logging.WARNING):
        GradientDescent(cost=cost, gradients=[(W, pytensor.grad(cost, W))])
    assert 'gradients already specified directly; cost is unused' in (
        caplog.text)


@pytest.mark.parametrize('keyword', ['known_grads', 'consider_constant'])
def test_gradient_options_conflict_with_given_gradients(keyword):
    cost, W, inputs = regression_problem()
    value = {cost: tensor.constant(1.)} if keyword == 'known_grads' else []
    with pytest.raises(ValueError, match=f'{keyword} has no effect'):
        GradientDescent(gradients=[(W, pytensor.grad(cost, W))],
                        **{keyword: value})


def test_consider_constant_is_passed_to_grad():
    W = shared_floatx(numpy.ones(2) * 3, name='W')
    hidden = W * 2
    cost = (hidden * W).sum()
    algorithm = GradientDescent(cost=cost, parameters=[W],
                                consider_constant=[hidden])
    # d/dW (c * W) with c = 2W held constant is 2W = 6.
    gradient = pytensor.function([], algorithm.gradients[W], mode=PY_MODE)
    numpy.testing.assert_allclose(gradient(), [6, 6])


@pytest.mark.parametrize('kwargs, message', [
    ({'parameters': []}, "can't infer gradients; no cost specified"),
    ({'cost': tensor.scalar()}, "can't infer gradients; no parameters"),
])
def test_missing_cost_or_parameters(kwargs, message):
    with pytest.raises(ValueError, match=message):
        GradientDescent(**kwargs)


def test_parameter_the_cost_does_not_depend_on_is_named():
    cost, W, inputs = regression_problem()
    unused = shared_floatx(numpy.zeros(2), name='unused_bias')
    with pytest.raises(DisconnectedInputError,
                       match=r"does not depend on the parameter "
                             r"'unused_bias' \(index 1"):
        GradientDescent(cost=cost, parameters=[W, unused])


def test_non_scalar_cost_is_rejected_with_a_fix():
    W = shared_floatx(numpy.zeros(3), name='W')
    with pytest.raises(TypeError, match=r'(?s)cost must be a scalar, got a '
                       r'1-dimensional.*cost.mean\(\)'):
        GradientDescent(cost=W * 2, parameters=[W])


def test_step_clipping_limits_total_step_norm():
    cost, W, inputs = regression_problem()
    algorithm = GradientDescent(cost=cost * 1000, parameters=[W],
                                step_rule=StepClipping(0.1))
    batch = next(regression_batches(1))
    function = pytensor.function(
        inputs,
        [algorithm.total_gradient_norm, algorithm.total_step_norm],
        mode=PY_MODE)
    gradient_norm, step_norm = function(batch['features'], batch['targets'])
    assert gradient_norm > 0.1
    assert step_norm == pytest.approx(0.1)
