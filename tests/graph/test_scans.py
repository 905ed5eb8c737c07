"""Computation graphs with recurrent bricks: the graph follows scans."""
import io
import pickle

import numpy
import pytensor
import pytest
from numpy.testing import assert_allclose
from pytensor import tensor

from blocks.bricks import Linear, Tanh
from blocks.bricks.recurrent import LSTM, SimpleRecurrent
from blocks.compilation import function
from blocks.filter import VariableFilter, get_brick
from blocks.graph import (
    ComputationGraph,
    apply_dropout,
    apply_noise,
    collect_parameters,
)
from blocks.initialization import Constant, IsotropicGaussian
from blocks.model import Model
from blocks.roles import COLLECTED, DROPOUT, INITIAL_STATE, OUTPUT
from blocks.serialization import dump, load

FLOATX = pytensor.config.floatX
X = numpy.random.RandomState(3).normal(size=(3, 2, 2)).astype(FLOATX)


def _network():
    """A Linear in front of an LSTM, and a second, alike SimpleRecurrent."""
    x = tensor.tensor3('x')
    init = dict(weights_init=IsotropicGaussian(0.5), seed=1)
    linear = Linear(input_dim=2, output_dim=8, biases_init=Constant(0.1),
                    name='linear', **init)
    lstm = LSTM(dim=2, name='lstm', **init)
    first = SimpleRecurrent(dim=2, activation=Tanh(), name='first', **init)
    second = SimpleRecurrent(dim=2, activation=Tanh(), name='second',
                             **init)
    for brick in (linear, lstm, first, second):
        brick.initialize()
    second.W.set_value(2 * first.W.get_value())
    states, cells = lstm.apply(linear.apply(x))
    cost = (states.sum() + first.apply(x).sum() +
            (second.apply(x) ** 2).sum())
    cost.name = 'cost'
    return x, cost, (linear, lstm, first, second)


@pytest.fixture(scope='module')
def network():
    x, cost, bricks = _network()
    cg = ComputationGraph(cost)
    value = function([x], cost)(X)
    return x, cost, bricks, cg, value


def test_scans_of_the_graph_are_listed(network):
    x, cost, (linear, lstm, first, second), cg, _ = network
    assert sorted(scan.name for scan in cg.scans) == [
        'first_apply_scan', 'lstm_apply_scan', 'second_apply_scan']
    inner_bricks = {get_brick(var) for var in cg.scan_variables
                    if get_brick(var) is not None}
    assert {lstm, first, second} <= inner_bricks


def test_alike_scans_stay_distinct():
    rnn = SimpleRecurrent(dim=2, activation=Tanh())
    x = tensor.tensor3('x')
    cg = ComputationGraph(rnn.apply(x).sum() + rnn.apply(2 * x).sum())
    first, second = cg.scans
    # Equal as ops (a set would keep one) but two loops of the graph.
    assert first == second and first is not second
    assert len(cg.scan_variables) == 2 * len(
        ComputationGraph(first.inner_outputs).variables)


def test_parameters_found_through_scans(network):
    x, cost, (linear, lstm, first, second), cg, _ = network
    expected = {p for brick in (linear, lstm, first, second)
                for p in brick.parameters}
    assert set(cg.parameters) == expected
    assert len(cg.parameters) == len(expected)
    initial = VariableFilter(roles=[INITIAL_STATE])(cg.parameters)
    assert {p.name for p in initial} == {'initial_state', 'initial_cells'}
    names = set(Model(cost).get_parameter_dict())
    assert {'/lstm.W_state', '/lstm.initial_cells', '/first.W', '/second.W',
            '/first.initial_state', '/linear.b'} <= names
    assert {brick.name for brick in Model(cost).get_top_bricks()} == {
        'linear', 'lstm', 'first', 'second'}


def test_variable_filter_finds_step_variables(network):
    x, cost, (linear, lstm, first, second), cg, _ = network
    inner_outputs = VariableFilter(bricks=[lstm], roles=[OUTPUT],
                                   name='states')(cg.scan_variables)
    assert inner_outputs
    assert all(var.ndim == 2 for var in inner_outputs)
    outer_outputs = VariableFilter(bricks=[lstm], roles=[OUTPUT],
                                   name='states')(cg.variables)
    # The sequence of states, and the initial state from `initial_states`.
    assert [var.ndim for var in VariableFilter(applications=[lstm.apply])(
        outer_outputs)] == [3]
    assert [var.ndim for var in VariableFilter(
        applications=[lstm.initial_states])(outer_outputs)] == [2]


def test_collect_parameters_keeps_values(network):
    x, cost, bricks, cg, value = network
    collected = collect_parameters(cg, cg.parameters)
    assert [v.name for v in collected.shared_variables] == [
        'collected_parameters']
    assert len(VariableFilter(roles=[COLLECTED])(collected.variables)) == \
        len(cg.parameters)
    assert not set(cg.parameters) & set(collected.variables)
    assert_allclose(function([x], collected.outputs)(X)[0], value)


def test_replace_dropout_and_noise(network):
    x, cost, (linear, lstm, first, second), cg, value = network
    doubled = cg.replace({x: 2 * x})
    expected = function([x], cost)(2 * X)
    assert_allclose(function([x], doubled.outputs)(X)[0], expected)

    states = VariableFilter(applications=[first.apply],
                            roles=[OUTPUT])(cg.variables)
    dropped = apply_dropout(cg, states, 0.5, seed=1)
    assert VariableFilter(roles=[DROPOUT])(dropped.variables)
    noisy = apply_noise(cg, states, 0.1, seed=1)
    values = function([x], dropped.outputs + noisy.outputs)(X)
    assert not numpy.allclose(values[0], value)
    assert not numpy.allclose(values[1], value)


def test_snapshot_of_recurrent_graph(network):
    x, cost, (linear, lstm, first, second), cg, value = network
    snapshot = cg.get_snapshot({'x': X})
    (states,) = VariableFilter(applications=[second.apply],
                               roles=[OUTPUT])(cg.variables)
    assert snapshot[states].shape == (3, 2, 2)
    assert_allclose(snapshot[states], function([x], states)(X))


def test_recurrent_graph_pickles_and_loads_back(network):
    x, cost, (linear, lstm, first, second), cg, value = network
    model = Model(cost)
    stream = io.BytesIO()
    dump(model, stream)
    stream.seek(0)
    loaded = load(stream)
    loaded_x, = loaded.inputs
    assert_allclose(function([loaded_x], loaded.outputs)(X)[0], value)
    loaded_lstm = [b for b in loaded.get_top_bricks() if b.name == 'lstm'][0]
    assert {p.name for p in loaded_lstm.parameters} >= {'W_state',
                                                        'initial_cells'}
    # The step function's inner graph, annotated, survives too.
    (states,) = VariableFilter(applications=[lstm.apply], roles=[OUTPUT],
                               name='states')(cg.variables)
    call = states.tag.annotations[1]
    inner = pickle.loads(pickle.dumps((call.inner_inputs,
                                       call.inner_outputs)))
    assert len(inner[0]) == 3 and len(inner[1]) == 2
    assert get_brick(inner[1][0]).name == 'lstm'
