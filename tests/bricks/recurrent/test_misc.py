"""Bidirectional and RecurrentStack against NumPy compositions of children."""
import numpy
import pytensor
import pytest
from numpy.testing import assert_allclose
from pytensor import tensor

from blocks.bricks import Tanh
from blocks.bricks.recurrent import (Bidirectional, LSTM, RecurrentStack,
                                     SimpleRecurrent,
                                     RECURRENTSTACK_SEPARATOR)
from blocks.compilation import function
from blocks.initialization import Constant, IsotropicGaussian

from tests.bricks.recurrent import reference

FLOATX = pytensor.config.floatX
T, B, DIM = 3, 2, 2
RNG = numpy.random.RandomState(4)
X = RNG.normal(size=(T, B, DIM)).astype(FLOATX)
X4 = RNG.normal(size=(T, B, 4 * DIM)).astype(FLOATX)
MASK = numpy.array([[1, 1], [1, 0], [1, 0]], dtype=FLOATX)


def _lstm_parameters(lstm):
    return [p.get_value() for p in lstm.parameters[:4]]


def _initial(brick, batch=B):
    return [numpy.tile(p.get_value(), (batch, 1))
            for p in brick.parameters if p.name.startswith('initial')]


@pytest.fixture(scope='module')
def bidirectional():
    brick = Bidirectional(
        LSTM(dim=DIM), weights_init=IsotropicGaussian(0.5), seed=2)
    brick.initialize()
    x, mask = tensor.tensor3('x'), tensor.matrix('mask')
    outputs = brick.apply(x, mask=mask)
    values = function([x, mask], outputs)(X4, MASK)
    return brick, values


def test_bidirectional_concatenates_forward_and_flipped_backward(
        bidirectional):
    brick, (states, cells) = bidirectional
    forward, backward = brick.children
    assert [forward.name, backward.name] == ['forward', 'backward']
    assert forward.W_state is not backward.W_state
    assert not numpy.allclose(forward.W_state.get_value(),
                              backward.W_state.get_value())
    expected_forward = reference.run(
        reference.lstm_step, [X4], _initial(forward),
        _lstm_parameters(forward), mask=MASK)
    expected_backward = reference.run(
        reference.lstm_step, [X4], _initial(backward),
        _lstm_parameters(backward), mask=MASK, reverse=True)
    for result, f, b in zip([states, cells], expected_forward,
                            expected_backward, strict=True):
        assert result.shape == (T, B, 2 * DIM)
        assert_allclose(result[..., :DIM], f, rtol=1e-6)
        assert_allclose(result[..., DIM:], b[::-1], rtol=1e-6)


def test_bidirectional_delegates_and_doubles_output_dims(bidirectional):
    brick, _ = bidirectional
    assert brick.apply.outputs == ['states', 'cells']
    assert brick.apply.sequences == ['inputs', 'mask']
    assert brick.get_dim('states') == 2 * DIM
    assert brick.get_dim('inputs') == 4 * DIM


def _stack(skip_connections):
    transitions = [SimpleRecurrent(dim=DIM, activation=Tanh()),
                   LSTM(dim=DIM)]
    stack = RecurrentStack(transitions, skip_connections=skip_connections,
                           weights_init=IsotropicGaussian(0.5),
                           biases_init=Constant(0.3), seed=6)
    stack.initialize()
    return stack


def _expected_stack(stack, x, inputs_1=None, mask=MASK, states=None):
    """The stack as a NumPy composition of its children."""
    simple, lstm = stack.transitions
    if states is None:
        states = _initial(simple) + _initial(lstm)
    (level_0,) = reference.run(reference.simple_step, [x], states[:1],
                               [simple.W.get_value()], mask=mask)
    linear = stack.forks[0].children[0]
    forked = level_0 @ linear.W.get_value()
    if linear.parameters[1:]:
        forked = forked + linear.b.get_value()
    if inputs_1 is not None:
        forked = forked + inputs_1
    level_1 = reference.run(reference.lstm_step, [forked], states[1:],
                            _lstm_parameters(lstm), mask=mask)
    return [level_0] + level_1


@pytest.fixture(scope='module', params=[False, True],
                ids=['plain', 'skip_connections'])
def stack_results(request):
    skip = request.param
    stack = _stack(skip)
    x, x1, mask = (tensor.tensor3('x'), tensor.tensor3('x1'),
                   tensor.matrix('mask'))
    states = [tensor.matrix(f's{i}') for i in range(3)]
    state_names = ['states', 'states#1', 'cells#1']
    extra = {'inputs#1': x1} if skip else {}
    given = dict(zip(state_names, states, strict=True))
    step_given = {name: value[0] for name, value in extra.items()}
    calls = [
        stack.apply(inputs=x, mask=mask, as_list=True, **extra),
        stack.apply(inputs=x, mask=mask, low_memory=True, as_list=True,
                    **extra),
        stack.apply(inputs=x[0], mask=mask[0], iterate=False, as_list=True,
                    **given, **step_given),
        stack.apply(inputs=x[0], mask=mask[0], iterate=False, as_list=True,
                    low_memory=True, **given, **step_given),
        stack.apply(inputs=x, mask=mask, return_initial_states=True,
                    as_list=True, **given, **extra),
    ]
    flat = [output for outputs in calls for output in outputs]
    x1_value = RNG.normal(size=(T, B, 4 * DIM)).astype(FLOATX)
    state_values = [RNG.normal(size=(B, DIM)).astype(FLOATX)
                    for _ in range(3)]
    values = function([x, x1, mask] + states, flat,
                      on_unused_input='ignore')(X, x1_value, MASK,
                                                *state_values)
    results = [values[3 * i:3 * i + 3] for i in range(len(calls))]
    return stack, skip, x1_value, state_values, results


def test_stack_equals_composition_of_children_in_both_modes(stack_results):
    stack, skip, x1_value, _, results = stack_results
    expected = _expected_stack(stack, X, x1_value if skip else None)
    for outputs in results[:2]:
        for result, reference_ in zip(outputs, expected, strict=True):
            assert_allclose(result, reference_, rtol=1e-6)


def test_stack_one_step_in_both_modes(stack_results):
    stack, skip, x1_value, state_values, results = stack_results
    expected = _expected_stack(
        stack, X[:1], x1_value[:1] if skip else None, mask=MASK[:1],
        states=state_values)
    for outputs in results[2:4]:
        for result, reference_ in zip(outputs, expected, strict=True):
            assert_allclose(result, reference_[0], rtol=1e-6)


def test_stack_return_initial_states(stack_results):
    stack, skip, x1_value, state_values, results = stack_results
    expected = _expected_stack(stack, X, x1_value if skip else None,
                               states=state_values)
    for result, initial, reference_ in zip(results[4], state_values,
                                           expected, strict=True):
        assert result.shape == (T + 1, B, DIM)
        assert_allclose(result[0], initial)
        assert_allclose(result[1:], reference_, rtol=1e-6)


def test_stack_application_lists_and_fork_bias(stack_results):
    stack, skip, *_ = stack_results
    assert [t.name for t in stack.transitions] == ['simplerecurrent#0',
                                                    'lstm#1']
    expected_sequences = (['inputs', 'inputs#1', 'mask'] if skip
                          else ['inputs', 'mask'])
    assert stack.apply.sequences == expected_sequences
    assert stack.low_memory_apply.sequences == expected_sequences
    assert stack.apply.states == ['states', 'states#1', 'cells#1']
    assert stack.apply.outputs == ['states', 'states#1', 'cells#1']
    assert stack.initial_states.outputs == stack.apply.states
    linear = stack.forks[0].children[0]
    assert len(linear.parameters) == (1 if skip else 2)
    assert stack.get_dim('inputs#1') == 4 * DIM
    assert stack.get_dim('states') == DIM


def test_stack_reverse_is_not_implemented():
    stack = RecurrentStack([SimpleRecurrent(dim=2, activation=Tanh())])
    with pytest.raises(NotImplementedError, match='reverse'):
        stack.apply(inputs=tensor.tensor3(), reverse=True)


@pytest.mark.parametrize('name, expected', [
    ('states', ('states', 0)), ('states#3', ('states', 3)),
    ('a#b', ('a#b', 0)), ('a#1#2', ('a#1', 2)), ('mask', ('mask', 0))])
def test_split_suffix(name, expected):
    assert RecurrentStack.split_suffix(name) == expected


def test_suffix():
    assert RECURRENTSTACK_SEPARATOR == '#'
    assert RecurrentStack.suffix('mask', 2) == 'mask'
    assert RecurrentStack.suffix('states', 0) == 'states'
    assert RecurrentStack.suffix('states', 2) == 'states#2'
    assert RecurrentStack.suffixes(['inputs', 'mask'], 1) == ['inputs#1']
