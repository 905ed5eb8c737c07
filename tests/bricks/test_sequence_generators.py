"""Sequence generators against numpy computations of the same model."""
import numpy
import pytensor
import pytest
from pytensor import tensor

from blocks.bricks import Tanh
from blocks.bricks.attention import SequenceContentAttention
from blocks.bricks.recurrent import SimpleRecurrent
from blocks.bricks.sequence_generators import (FakeAttentionRecurrent,
                                               LookupFeedback, Readout,
                                               SequenceGenerator,
                                               SoftmaxEmitter,
                                               TrivialEmitter)
from blocks.compilation import function
from blocks.filter import VariableFilter
from blocks.graph import ComputationGraph
from blocks.initialization import Constant, IsotropicGaussian
from blocks.model import Model
from blocks.roles import AUXILIARY, COST

floatX = pytensor.config.floatX
VOCAB, DIM, FEEDBACK_DIM = 4, 3, 2


def make_generator(seed=1):
    """A language model: SimpleRecurrent, softmax emitter, lookup feedback."""
    transition = SimpleRecurrent(dim=DIM, activation=Tanh(),
                                 name='transition')
    readout = Readout(
        readout_dim=VOCAB, source_names=['states', 'feedback'],
        emitter=SoftmaxEmitter(theano_seed=seed),
        feedback_brick=LookupFeedback(VOCAB, FEEDBACK_DIM),
        name='readout')
    generator = SequenceGenerator(readout, transition,
                                  weights_init=IsotropicGaussian(0.8),
                                  biases_init=IsotropicGaussian(0.3),
                                  seed=seed, name='generator')
    generator.initialize()
    return generator


def numpy_cost_matrix(generator, outputs, mask):
    """-log p(y_t | y_<t) written out from the generator's parameters."""
    readout = generator.readout
    transform = {child.name: child.W.get_value()
                 for child in readout.merge.children}
    bias = readout.post_merge.parameters[0].get_value()
    lookup = readout.feedback_brick.lookup.W.get_value()
    fork = generator.fork.children[0]
    fork_W, fork_b = fork.W.get_value(), fork.b.get_value()
    rnn = generator.transition.transition
    W = rnn.W.get_value()

    steps, batch = outputs.shape
    h = numpy.repeat(rnn.parameters[1].get_value()[None], batch, 0)
    previous = numpy.zeros(batch, dtype='int64')
    costs = numpy.zeros((steps, batch))
    for t in range(steps):
        readouts = (h @ transform['transform_states'] +
                    lookup[previous] @ transform['transform_feedback'] +
                    bias)
        shifted = readouts - readouts.max(axis=1, keepdims=True)
        log_probs = shifted - numpy.log(numpy.exp(shifted).sum(
            axis=1, keepdims=True))
        costs[t] = -log_probs[numpy.arange(batch), outputs[t]] * mask[t]
        h_new = numpy.tanh(lookup[outputs[t]] @ fork_W + fork_b + h @ W)
        h = mask[t][:, None] * h_new + (1 - mask[t][:, None]) * h
        previous = outputs[t]
    return costs


@pytest.fixture(scope='module')
def generator_and_functions():
    generator = make_generator()
    outputs = tensor.lmatrix('outputs')
    mask = tensor.matrix('mask')
    cost_matrix = generator.cost_matrix(outputs, mask=mask)
    cost = generator.cost(outputs, mask=mask)
    cost_function = function([outputs, mask], [cost_matrix, cost])
    generated = generator.generate(n_steps=5, batch_size=3000,
                                   iterate=True)
    # The graph's updates advance the random state between calls.
    generate_function = ComputationGraph(generated).get_theano_function()
    return generator, cost_function, generate_function, cost


def test_cost_matrix_matches_the_sum_of_per_step_costs(
        generator_and_functions):
    generator, cost_function, _, _ = generator_and_functions
    rng = numpy.random.RandomState(3)
    outputs = rng.randint(0, VOCAB, size=(6, 4)).astype('int64')
    mask = numpy.ones((6, 4), dtype=floatX)
    mask[4:, 1] = 0
    mask[2:, 3] = 0
    cost_matrix, cost = cost_function(outputs, mask)
    expected = numpy_cost_matrix(generator, outputs, mask)
    numpy.testing.assert_allclose(cost_matrix, expected, rtol=1e-4,
                                  atol=1e-6)
    numpy.testing.assert_allclose(cost, expected.sum(axis=0).mean(),
                                  rtol=1e-4)


def test_cost_has_role_and_per_element_auxiliary(generator_and_functions):
    generator, _, _, cost = generator_and_functions
    graph = ComputationGraph(cost)
    assert VariableFilter(roles=[COST])(graph.variables)
    per_element, = VariableFilter(
        roles=[AUXILIARY], name='per_sequence_element')(graph.variables)
    assert per_element.name == 'generator_cost_per_sequence_element'


def test_generate_shapes_and_costs_of_the_samples(generator_and_functions):
    generator, cost_function, generate_function, _ = generator_and_functions
    assert generator.generate.outputs == ['states', 'outputs', 'costs']
    states, outputs, costs = generate_function()
    assert states.shape == (5, 3000, DIM)
    assert outputs.shape == (5, 3000)
    assert costs.shape == (5, 3000)
    assert outputs.min() >= 0 and outputs.max() < VOCAB
    # The cost of each sampled token is its -log probability under the
    # model, the same number cost_matrix gives for the same sequence.
    some = slice(0, 50)
    cost_matrix, _ = cost_function(outputs[:, some],
                                   numpy.ones((5, 50), dtype=floatX))
    numpy.testing.assert_allclose(costs[:, some], cost_matrix, rtol=1e-4,
                                  atol=1e-5)


def test_samples_follow_the_model_distribution(generator_and_functions):
    generator, cost_function, generate_function, _ = generator_and_functions
    _, outputs, _ = generate_function()
    first = outputs[0]
    first_costs, _ = cost_function(
        numpy.arange(VOCAB, dtype='int64')[None],
        numpy.ones((1, VOCAB), dtype=floatX))
    probabilities = numpy.exp(-first_costs[0])
    frequencies = numpy.bincount(first, minlength=VOCAB) / first.size
    # Five standard errors of a frequency estimated from 3000 draws.
    tolerance = 5 * numpy.sqrt(probabilities * (1 - probabilities) / 3000)
    assert (abs(frequencies - probabilities) < tolerance).all()


def test_generate_draws_differ_between_calls(generator_and_functions):
    _, _, generate_function, _ = generator_and_functions
    first = generate_function()[1]
    second = generate_function()[1]
    assert (first != second).any()


def test_initial_states_and_dims():
    generator = make_generator()
    assert generator.generate.states == ['states', 'outputs']
    assert generator.get_dim('states') == DIM
    assert generator.get_dim('outputs') == 0
    assert isinstance(generator.transition, FakeAttentionRecurrent)
    batch_size = tensor.lscalar('batch_size')
    states, outputs = generator.initial_states(batch_size)
    values = function([batch_size], [states, outputs])(2)
    assert values[0].shape == (2, DIM)
    assert values[1].tolist() == [0, 0]


def test_brick_paths_follow_the_reference():
    transition = SimpleRecurrent(dim=DIM, activation=Tanh(),
                                 name='transition')
    attention = SequenceContentAttention(
        state_names=['states'], attended_dim=DIM, match_dim=DIM,
        name='attention')
    readout = Readout(readout_dim=VOCAB, source_names=['states'],
                      emitter=SoftmaxEmitter(), name='readout',
                      feedback_brick=LookupFeedback(VOCAB, FEEDBACK_DIM))
    generator = SequenceGenerator(readout, transition, attention=attention,
                                  weights_init=Constant(0.1),
                                  biases_init=Constant(0), name='generator')
    generator.allocate()
    outputs = tensor.lmatrix('outputs')
    cost = generator.cost(outputs, attended=tensor.tensor3('attended'),
                          attended_mask=tensor.matrix('attended_mask'))
    names = set(Model(cost).get_parameter_dict())
    for path in ['/generator/att_trans/transition.W',
                 '/generator/att_trans/attention/state_trans/'
                 'transform_states.W',
                 '/generator/att_trans/attention/preprocess.W',
                 '/generator/att_trans/attention/preprocess.b',
                 '/generator/att_trans/attention/energy_comp/linear.W',
                 '/generator/att_trans/distribute/fork_inputs.W',
                 '/generator/readout/merge/transform_states.W',
                 '/generator/readout/bias.b',
                 '/generator/fork/fork_inputs.W',
                 '/generator/fork/fork_inputs.b']:
        assert path in names, (path, sorted(names))


def test_trivial_emitter_outputs_are_readouts():
    emitter = TrivialEmitter(readout_dim=3)
    readouts = tensor.matrix('readouts')
    emitted = function([readouts], emitter.emit(readouts))
    value = numpy.arange(6, dtype=floatX).reshape(2, 3)
    numpy.testing.assert_array_equal(emitted(value), value)
    assert emitter.get_dim('outputs') == 3


def test_readout_needs_its_dims_as_keywords():
    with pytest.raises(TypeError, match='readout_dim= and source_names='):
        Readout(emitter=SoftmaxEmitter())
