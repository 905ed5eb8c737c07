"""The @recurrent protocol: control keywords, states, contexts, errors."""
import logging

import numpy
import pytensor
import pytest
from numpy.testing import assert_allclose
from pytensor import tensor
from pytensor.graph.basic import equal_computations
from pytensor.scan.op import Scan

from blocks.bricks import Identity, Tanh
from blocks.bricks.base import application
from blocks.bricks.recurrent import BaseRecurrent, SimpleRecurrent, recurrent
from blocks.compilation import default_mode, describe, function
from blocks.filter import get_application_call, get_brick, VariableFilter
from blocks.graph import ComputationGraph
from blocks.initialization import Constant, Identity as IdentityInit
from blocks.roles import INPUT

FLOATX = pytensor.config.floatX


class Accumulator(BaseRecurrent):
    """States accumulate inputs; outputs are not all states."""

    def __init__(self, dim, **kwargs):
        super().__init__(**kwargs)
        self.dim = dim

    def get_dim(self, name):
        if name in ['inputs', 'states', 'outputs', 'states_2', 'outputs_2']:
            return self.dim
        if name == 'mask':
            return 0
        return super().get_dim(name)

    @recurrent(sequences=['inputs', 'mask'], states=['states', 'states_2'],
               outputs=['outputs', 'states_2', 'outputs_2', 'states'],
               contexts=[])
    def apply(self, inputs=None, states=None, states_2=None, mask=None):
        next_states = states + inputs
        next_states_2 = states_2 + .5
        if mask is not None:
            next_states = (mask[:, None] * next_states +
                           (1 - mask[:, None]) * states)
        outputs = 10 * next_states
        outputs_2 = 10 * next_states_2
        return outputs, next_states_2, outputs_2, next_states


class Counter(BaseRecurrent):
    """No sequences: the bare decorator, lists from properties."""

    @recurrent
    def count(self, states, offset, increment=1):
        return states + increment + offset

    @count.property('sequences')
    def count_sequences(self):
        return []

    @count.property('states')
    def count_states(self):
        return ['states']

    @count.property('outputs')
    def count_outputs(self):
        return ['states']

    @count.property('contexts')
    def count_contexts(self):
        return ['offset']

    @application(outputs=['states'])
    def initial_states(self, batch_size, *args, **kwargs):
        return tensor.zeros((batch_size, 2))

    def get_dim(self, name):
        return {'states': 2, 'offset': 2}[name]


def test_outputs_that_are_not_states_keep_their_length():
    brick = Accumulator(dim=1)
    x = tensor.tensor3('x')
    outputs = brick.apply(inputs=x, return_initial_states=True)
    values = function([x], outputs)(numpy.ones((3, 2, 1), dtype=FLOATX))
    out, states_2, out_2, states = values
    assert out.shape == out_2.shape == (3, 2, 1)
    assert states.shape == states_2.shape == (4, 2, 1)
    assert_allclose(states[:, 0, 0], [0, 1, 2, 3])
    assert_allclose(out[:, 0, 0], [10, 20, 30])
    assert_allclose(states_2[:, 0, 0], [0, .5, 1, 1.5])
    assert_allclose(out_2[:, 0, 0], [5, 10, 15])


def test_default_initial_states_are_zeros():
    brick = Accumulator(dim=3)
    states, states_2 = brick.initial_states(4)
    assert states.eval().shape == (4, 3)
    assert not states.eval().any()


def test_n_steps_and_batch_size_without_sequences():
    counter = Counter()
    offset = tensor.matrix('offset')
    result = counter.count(n_steps=3, batch_size=2, offset=offset,
                           increment=2)
    value = result.eval({offset: numpy.ones((2, 2), dtype=FLOATX)})
    assert value.shape == (3, 2, 2)
    assert_allclose(value[:, 0, 0], [3, 6, 9])
    with pytest.raises(KeyError, match='n_steps= and batch_size='):
        counter.count(offset=offset, batch_size=2)


def test_missing_initial_state_raises_key_error():
    class NoInitialState(Accumulator):
        @application(outputs=['states'])
        def initial_states(self, batch_size, *args, **kwargs):
            return tensor.zeros((batch_size, self.dim))

    with pytest.raises(KeyError, match="no initial state for 'states_2' of "
                                       "the brick noinitialstate"):
        NoInitialState(dim=2).apply(inputs=tensor.tensor3())


def test_non_shared_keyword_variable_warns(caplog):
    counter = Counter()
    offset = tensor.matrix('offset')
    with caplog.at_level(logging.WARNING, 'blocks.bricks.recurrent.base'):
        counter.count(n_steps=2, batch_size=2, offset=offset,
                      increment=tensor.scalar('increment'))
    assert 'Did you forget to declare it in `contexts`' in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, 'blocks.bricks.recurrent.base'):
        counter.count(n_steps=2, batch_size=2, offset=offset,
                      increment=pytensor.shared(1.0))
    assert not caplog.text


@pytest.fixture(scope='module')
def simple_call():
    rnn = SimpleRecurrent(dim=2, activation=Tanh(),
                          weights_init=IdentityInit(), name='rnn')
    rnn.initialize()
    x = tensor.tensor3('x')
    h = rnn.apply(x)
    return rnn, x, h


def test_inner_graph_is_stored_annotated_on_the_call(simple_call):
    rnn, x, h = simple_call
    call = get_application_call(h)
    inner_inputs, inner_outputs = call.inner_inputs, call.inner_outputs
    assert len(inner_inputs) == 2 and len(inner_outputs) == 1
    assert get_brick(inner_outputs[0]) is rnn
    assert get_application_call(inner_outputs[0]).application.name == 'apply'
    alone = rnn.apply(*inner_inputs, iterate=False)
    assert equal_computations([alone], inner_outputs)


def test_positional_inputs_are_tagged_args(simple_call):
    rnn, x, h = simple_call
    names = [v.name for v in VariableFilter(roles=[INPUT], bricks=[rnn])(
        ComputationGraph(h).variables)]
    assert 'rnn_apply_args_0' in names


def test_scan_is_named_and_compiles_with_blocks_mode(simple_call):
    rnn, x, h = simple_call
    (scan,) = ComputationGraph(h).scans
    assert isinstance(scan, Scan)
    assert scan.name == 'rnn_apply_scan'
    assert describe(scan.mode) == describe(default_mode())


def test_identity_recurrence_counts():
    rnn = SimpleRecurrent(dim=3, activation=Identity(),
                          weights_init=IdentityInit())
    rnn.initialize()
    x = tensor.tensor3('x')
    h0 = tensor.matrix('h0')
    h = rnn.apply(x, states=h0)
    value = h.eval({x: numpy.ones((3, 1, 3), dtype=FLOATX),
                    h0: numpy.full((1, 3), 5, dtype=FLOATX)})
    assert_allclose(value[:, 0, 0], [6, 7, 8])


def test_subclass_with_context_calls_super_apply():
    class SimpleRecurrentWithContext(SimpleRecurrent):
        @application(contexts=['context'])
        def apply(self, context, *args, **kwargs):
            kwargs['inputs'] += context
            return super().apply(*args, **kwargs)

        @apply.delegate
        def apply_delegate(self):
            return super().apply

    brick = SimpleRecurrentWithContext(2, Identity(),
                                       weights_init=Constant(0))
    brick.initialize()
    assert brick.apply.states == ['states']
    assert brick.apply.contexts == ['context']
    inputs = tensor.tensor3('inputs')
    context = tensor.matrix('context')
    states = brick.apply(context.dimshuffle('x', 0, 1), inputs=inputs)
    value = states.eval({inputs: numpy.ones((2, 1, 2), dtype=FLOATX),
                         context: numpy.full((1, 2), 2, dtype=FLOATX)})
    assert_allclose(value, numpy.full((2, 1, 2), 3))


# Bad input


def test_decorator_rejects_mixed_forms():
    with pytest.raises(ValueError, match='bare or with keyword'):
        recurrent(lambda self: None, states=['states'])


def test_batch_major_sequence_detected_from_static_shapes():
    rnn = SimpleRecurrent(dim=3, activation=Tanh(), name='rnn')
    x = numpy.zeros((5, 4, 3), dtype=FLOATX)   # (batch, time, features)
    mask = numpy.ones((4, 5), dtype=FLOATX)    # (time, batch)
    with pytest.raises(ValueError, match=r"SimpleRecurrent /rnn, application "
                                         r"apply\(\): the mask.*'inputs'.*"
                                         r"time-major"):
        rnn.apply(x, mask=mask)


def test_context_passed_as_sequence():
    rnn = SimpleRecurrent(dim=3, activation=Tanh(), name='rnn')
    with pytest.raises(ValueError, match="sequence 'inputs' has 2 axes, "
                                         "expected 3.*is a context"):
        rnn.apply(tensor.matrix('context'))


def test_state_of_wrong_dimension():
    rnn = SimpleRecurrent(dim=3, activation=Tanh(), name='rnn')
    with pytest.raises(ValueError, match=r"rnn, application apply\(\): state "
                                         r"'states' has dimension 4"):
        rnn.apply(tensor.tensor3('x'),
                  states=numpy.zeros((2, 4), dtype=FLOATX))
    with pytest.raises(ValueError, match="state 'states' has 3 axes"):
        rnn.apply(tensor.tensor3('x'), states=tensor.tensor3('h0'))


def test_step_outputs_that_do_not_match_outputs():
    class TooFew(Accumulator):
        @recurrent(sequences=['inputs'], states=['states'],
                   outputs=['states', 'outputs'], contexts=[])
        def apply(self, inputs, states):
            return states + inputs

    class WrongShape(Accumulator):
        @recurrent(sequences=['inputs'], states=['states'],
                   outputs=['states'], contexts=[])
        def apply(self, inputs, states):
            return (states + inputs).sum(axis=1)

    with pytest.raises(ValueError, match=r"TooFew /toofew, application "
                                         r"apply\(\): the step function "
                                         r"returned 1 variables"):
        TooFew(dim=2).apply(tensor.tensor3('x'))
    with pytest.raises(ValueError, match=r"returns state 'states' with 1 "
                                         r"axes"):
        WrongShape(dim=2).apply(tensor.tensor3('x'))


def test_shape_errors_found_when_running():
    rnn = SimpleRecurrent(dim=2, activation=Tanh(), name='rnn',
                          weights_init=Constant(0))
    rnn.initialize()
    x, mask, h0 = tensor.tensor3('x'), tensor.matrix('mask'), tensor.matrix()
    compiled = function([x, mask, h0], rnn.apply(x, mask=mask, states=h0))

    def data(time, batch, state_dim=2):
        return (numpy.zeros((time, batch, 2), dtype=FLOATX),
                numpy.ones((3, 4), dtype=FLOATX),
                numpy.zeros((4, state_dim), dtype=FLOATX))

    assert compiled(*data(3, 4)).shape == (3, 4, 2)
    with pytest.raises(AssertionError, match="the mask's .* 'inputs'"):
        compiled(*data(4, 3))
    with pytest.raises(AssertionError, match="state 'states' must have "
                                             "dimension 2"):
        compiled(*data(3, 4, state_dim=3))
