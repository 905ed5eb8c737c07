"""SimpleRecurrent, LSTM and GatedRecurrent against NumPy loops."""
import numpy
import pytensor
import pytest
from numpy.testing import assert_allclose
from pytensor import tensor
from pytensor.graph.replace import clone_replace

from blocks.bricks import Tanh
from blocks.bricks.recurrent import GatedRecurrent, LSTM, SimpleRecurrent
from blocks.compilation import function
from blocks.filter import VariableFilter
from blocks.graph import ComputationGraph
from blocks.initialization import IsotropicGaussian
from blocks.roles import INITIAL_STATE, WEIGHT

from tests.bricks.recurrent import reference

FLOATX = pytensor.config.floatX
T, B, DIM = 4, 3, 2


def _make(kind):
    init = dict(weights_init=IsotropicGaussian(0.5), seed=3)
    if kind == 'simple':
        return SimpleRecurrent(dim=DIM, activation=Tanh(), **init)
    if kind == 'lstm':
        return LSTM(dim=DIM, **init)
    return GatedRecurrent(dim=DIM, **init)


def _random(rng, *shape):
    return rng.normal(size=shape).astype(FLOATX)


class Case:
    """One brick, its symbolic calls compiled once, and NumPy data."""

    def __init__(self, kind):
        rng = numpy.random.RandomState(1)
        self.kind = kind
        self.brick = brick = _make(kind)
        brick.initialize()
        for parameter in VariableFilter(roles=[INITIAL_STATE])(
                brick.parameters):
            parameter.set_value(_random(rng, DIM))
        names = brick.apply.sequences
        self.sequence_names = [n for n in names if n != 'mask']
        self.state_names = brick.apply.states
        self.inputs = {name: tensor.tensor3(name)
                       for name in self.sequence_names}
        self.mask = tensor.matrix('mask')
        self.states = {name: tensor.matrix(name + '0')
                       for name in self.state_names}
        self.data = {name: _random(rng, T, B, brick.get_dim(name))
                     for name in self.sequence_names}
        self.data['mask'] = numpy.array(
            [[1, 1, 1], [1, 1, 0], [1, 0, 0], [1, 0, 0]], dtype=FLOATX)
        self.data.update({name + '0': _random(rng, B, DIM)
                          for name in self.state_names})

        inputs, states, mask = self.inputs, self.states, self.mask
        step_inputs = {name: var[0] for name, var in inputs.items()}
        calls = {
            'default': brick.apply(as_list=True, **inputs),
            'masked': brick.apply(as_list=True, mask=mask, **inputs,
                                  **states),
            'reversed': brick.apply(as_list=True, mask=mask, reverse=True,
                                    **inputs, **states),
            'one_step': brick.apply(as_list=True, mask=mask[0],
                                    iterate=False, **step_inputs, **states),
            'with_initial': brick.apply(as_list=True, mask=mask,
                                        return_initial_states=True,
                                        **inputs, **states),
        }
        self.call_names = list(calls)
        flat = [output for outputs in calls.values() for output in outputs]
        variables = (list(inputs.values()) + [mask] +
                     list(states.values()))
        compiled = function(variables, flat, on_unused_input='ignore')
        values = compiled(*[self.data[v.name] for v in variables])
        n = len(self.state_names)
        self.results = {name: values[i * n:(i + 1) * n]
                        for i, name in enumerate(self.call_names)}

    def parameters(self):
        brick = self.brick
        if self.kind == 'simple':
            return [brick.W.get_value()]
        if self.kind == 'lstm':
            return [p.get_value() for p in brick.parameters[:4]]
        return [brick.state_to_state.get_value(),
                brick.state_to_gates.get_value()]

    def step(self):
        return {'simple': reference.simple_step, 'lstm': reference.lstm_step,
                'gru': reference.gru_step}[self.kind]

    def expected(self, mask=None, reverse=False, initial=None):
        if initial is None:
            initial = [self.data[name + '0'] for name in self.state_names]
        sequences = [self.data[name] for name in self.sequence_names]
        return reference.run(self.step(), sequences, initial,
                             self.parameters(), mask=mask, reverse=reverse)


@pytest.fixture(scope='module', params=['simple', 'lstm', 'gru'])
def case(request):
    return Case(request.param)


def test_many_steps_from_trainable_initial_states(case):
    initial = [numpy.tile(parameter.get_value(), (B, 1)) for parameter in
               VariableFilter(roles=[INITIAL_STATE])(case.brick.parameters)]
    expected = case.expected(initial=initial)
    for result, reference_ in zip(case.results['default'], expected,
                                  strict=True):
        assert result.shape == (T, B, DIM)
        assert_allclose(result, reference_, rtol=1e-6, atol=1e-7)


def test_many_steps_with_mask_keep_states_where_padded(case):
    mask = case.data['mask']
    expected = case.expected(mask=mask)
    for result, reference_ in zip(case.results['masked'], expected,
                                  strict=True):
        assert_allclose(result, reference_, rtol=1e-6, atol=1e-7)
    # Batch entry 2 has one step of data: later steps repeat it.
    states = case.results['masked'][0]
    assert_allclose(states[3, 2], states[0, 2])
    assert not numpy.allclose(states[3, 0], states[0, 0])


def test_reverse_outputs_in_processing_order(case):
    mask = case.data['mask']
    expected = case.expected(mask=mask, reverse=True)
    for result, reference_ in zip(case.results['reversed'], expected,
                                  strict=True):
        assert_allclose(result, reference_, rtol=1e-6, atol=1e-7)


def test_one_step(case):
    mask = case.data['mask']
    step_data = [case.data[name][0] for name in case.sequence_names]
    states = [case.data[name + '0'] for name in case.state_names]
    expected = case.step()(*step_data, *states, *case.parameters(),
                           mask=mask[0])
    for result, reference_ in zip(case.results['one_step'], expected,
                                  strict=True):
        assert result.shape == (B, DIM)
        assert_allclose(result, reference_, rtol=1e-6, atol=1e-7)


def test_return_initial_states_prepends_the_given_states(case):
    with_initial = case.results['with_initial']
    for name, result, masked in zip(case.state_names, with_initial,
                                    case.results['masked'], strict=True):
        assert result.shape == (T + 1, B, DIM)
        assert_allclose(result[0], case.data[name + '0'])
        assert_allclose(result[1:], masked)


def test_parameters_and_roles(case):
    brick = case.brick
    names = [p.name for p in brick.parameters]
    expected = {'simple': ['W', 'initial_state'],
                'lstm': ['W_state', 'W_cell_to_in', 'W_cell_to_forget',
                         'W_cell_to_out', 'initial_state', 'initial_cells'],
                'gru': ['state_to_state', 'state_to_gates',
                        'initial_state']}[case.kind]
    assert names == expected
    initial = VariableFilter(roles=[INITIAL_STATE])(brick.parameters)
    assert [p.name for p in initial] == [n for n in names
                                          if n.startswith('initial')]
    weights = VariableFilter(roles=[WEIGHT])(brick.parameters)
    assert len(weights) == len(names) - len(initial)


def test_get_dim():
    lstm = LSTM(dim=5)
    gru = GatedRecurrent(dim=5)
    simple = SimpleRecurrent(dim=5, activation=Tanh())
    assert lstm.get_dims(['inputs', 'states', 'cells', 'mask']) == [
        20, 5, 5, 0]
    assert gru.get_dims(['inputs', 'gate_inputs', 'states', 'mask']) == [
        5, 10, 5, 0]
    assert simple.get_dims(['inputs', 'states', 'mask']) == [5, 5, 0]
    with pytest.raises(ValueError):
        lstm.get_dim('unknown')


def test_gated_recurrent_initializes_gates_as_two_blocks():
    gru = GatedRecurrent(dim=3, weights_init=IsotropicGaussian(1), seed=5)
    gru.initialize()
    rng = numpy.random.RandomState(5)
    IsotropicGaussian(1).generate(rng, (3, 3))
    update = IsotropicGaussian(1).generate(rng, (3, 3))
    reset = IsotropicGaussian(1).generate(rng, (3, 3))
    assert_allclose(gru.state_to_gates.get_value(),
                    numpy.hstack([update, reset]))


@pytest.mark.parametrize('kind', ['simple', 'lstm', 'gru'])
def test_gradients_match_finite_differences(kind):
    brick = _make(kind)
    brick.initialize()
    rng = numpy.random.RandomState(2)
    sequence_names = [n for n in brick.apply.sequences if n != 'mask']
    inputs = {name: tensor.tensor3(name) for name in sequence_names}
    mask = numpy.array([[1, 1], [1, 0], [1, 0]], dtype=FLOATX)
    outputs = brick.apply(mask=mask, as_list=True, **inputs)
    cost = sum((output * _random(rng, 3, 2, DIM)).sum()
               for output in outputs)
    weights = VariableFilter(roles=[WEIGHT])(ComputationGraph(cost))
    weight_inputs = [tensor.tensor(dtype=w.dtype, shape=(None,) * w.ndim)
                     for w in weights]
    symbols = list(inputs.values()) + weight_inputs

    def cost_of(*values):
        return clone_replace(cost, dict(zip(
            list(inputs.values()) + weights, values, strict=True)))

    points = ([_random(rng, 3, 2, brick.get_dim(name))
               for name in sequence_names] +
              [w.get_value() for w in weights])
    assert len(symbols) == len(points)
    pytensor.gradient.verify_grad(cost_of, points, rng=rng,
                                  mode=pytensor.compile.mode.get_mode(
                                      'FAST_COMPILE'))
