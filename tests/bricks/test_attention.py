"""Attention bricks against numpy computations of the same equations."""
import numpy
import pytensor
import pytest
from pytensor import tensor

from blocks.bricks import Identity, Tanh
from blocks.bricks.attention import (AttentionRecurrent,
                                     SequenceContentAttention)
from blocks.bricks.recurrent import SimpleRecurrent
from blocks.compilation import function
from blocks.initialization import Constant, IsotropicGaussian

floatX = pytensor.config.floatX
T_ATT, BATCH, ATT_DIM, MATCH_DIM, DIM = 5, 3, 4, 6, 5


def numpy_weights(energies, mask):
    unnormalized = numpy.exp(energies - energies.max(axis=0)) * mask
    normalization = unnormalized.sum(axis=0) + numpy.all(1 - mask, axis=0)
    return unnormalized / normalization


@pytest.fixture(scope='module')
def weights_function():
    energies = tensor.matrix('energies')
    mask = tensor.matrix('mask')
    attention = SequenceContentAttention(state_names=['states'],
                                         state_dims=[1], attended_dim=1,
                                         match_dim=1)
    return function([energies, mask],
                    attention.compute_weights(energies, mask))


def test_weights_are_a_masked_softmax_over_time(weights_function):
    rng = numpy.random.RandomState(1)
    energies = rng.normal(size=(T_ATT, BATCH)).astype(floatX)
    mask = numpy.ones((T_ATT, BATCH), dtype=floatX)
    mask[3:, 1] = 0
    weights = weights_function(energies, mask)
    numpy.testing.assert_allclose(weights, numpy_weights(energies, mask),
                                  rtol=1e-5)
    assert (weights[3:, 1] == 0).all()
    numpy.testing.assert_allclose(weights.sum(axis=0), 1, rtol=1e-5)


def test_fully_masked_column_gives_zeros_not_nan(weights_function):
    energies = numpy.zeros((T_ATT, BATCH), dtype=floatX)
    mask = numpy.ones((T_ATT, BATCH), dtype=floatX)
    mask[:, 2] = 0
    weights = weights_function(energies, mask)
    assert numpy.isfinite(weights).all()
    assert (weights[:, 2] == 0).all()


def test_large_energies_do_not_overflow(weights_function):
    energies = numpy.array([[1e4, 0.0], [1e4 - 1, 1e4], [0.0, 0.0]],
                           dtype=floatX)
    mask = numpy.ones_like(energies)
    weights = weights_function(energies, mask)
    assert numpy.isfinite(weights).all()
    numpy.testing.assert_allclose(weights[:, 0],
                                  [1 / (1 + numpy.exp(-1)),
                                   numpy.exp(-1) / (1 + numpy.exp(-1)), 0],
                                  rtol=1e-5)
    numpy.testing.assert_allclose(weights[:, 1], [0, 1, 0], atol=1e-6)


def make_attention():
    attention = SequenceContentAttention(
        state_names=['states'], state_dims=[DIM], attended_dim=ATT_DIM,
        match_dim=MATCH_DIM, weights_init=IsotropicGaussian(0.5),
        biases_init=IsotropicGaussian(0.5), seed=3)
    attention.initialize()
    return attention


def numpy_glimpses(attention, attended, mask, states):
    """Bahdanau attention written out from the brick's parameters."""
    state_W = attention.state_transformers.children[0].W.get_value()
    pre_W = attention.attended_transformer.W.get_value()
    pre_b = attention.attended_transformer.b.get_value()
    energy_W = attention.energy_computer.children[1].W.get_value()
    match = attended @ pre_W + pre_b + (states @ state_W)[None]
    energies = (numpy.tanh(match) @ energy_W)[..., 0]
    weights = numpy_weights(energies, mask)
    averages = (weights[..., None] * attended).sum(axis=0)
    return averages, weights.T


def test_take_glimpses_matches_numpy():
    attention = make_attention()
    attended = tensor.tensor3('attended')
    mask = tensor.matrix('mask')
    states = tensor.matrix('states')
    averages, weights = attention.take_glimpses(
        attended, attended_mask=mask, states=states)
    glimpses = function([attended, mask, states], [averages, weights])
    rng = numpy.random.RandomState(2)
    attended_value = rng.normal(size=(T_ATT, BATCH, ATT_DIM)).astype(floatX)
    mask_value = numpy.ones((T_ATT, BATCH), dtype=floatX)
    mask_value[2:, 0] = 0
    states_value = rng.normal(size=(BATCH, DIM)).astype(floatX)
    got = glimpses(attended_value, mask_value, states_value)
    expected = numpy_glimpses(attention, attended_value, mask_value,
                              states_value)
    for got_value, expected_value in zip(got, expected, strict=True):
        numpy.testing.assert_allclose(got_value, expected_value, rtol=1e-4,
                                      atol=1e-6)
    assert got[1].shape == (BATCH, T_ATT)
    assert attention.get_dim('weighted_averages') == ATT_DIM
    assert attention.get_dim('weights') == 0


@pytest.fixture(scope='module')
def attention_recurrent():
    """A SimpleRecurrent with content attention and its compiled apply."""
    transition = SimpleRecurrent(dim=DIM, activation=Tanh(),
                                 name='transition')
    attention = SequenceContentAttention(
        state_names=['states'], attended_dim=ATT_DIM, match_dim=MATCH_DIM,
        name='attention')
    brick = AttentionRecurrent(transition, attention,
                               weights_init=IsotropicGaussian(0.5),
                               biases_init=Constant(0.1), seed=5,
                               name='att_rec')
    brick.initialize()
    inputs = tensor.tensor3('inputs')
    attended = tensor.tensor3('attended')
    attended_mask = tensor.matrix('attended_mask')
    states, averages, weights = brick.apply(
        inputs=inputs, attended=attended, attended_mask=attended_mask)
    compiled = function([inputs, attended, attended_mask],
                        [states, averages, weights])
    return brick, compiled


def test_attention_recurrent_shapes_and_weights(attention_recurrent):
    brick, compiled = attention_recurrent
    rng = numpy.random.RandomState(4)
    steps = 4
    inputs = rng.normal(size=(steps, BATCH, DIM)).astype(floatX)
    attended = rng.normal(size=(T_ATT, BATCH, ATT_DIM)).astype(floatX)
    mask = numpy.ones((T_ATT, BATCH), dtype=floatX)
    mask[3:, 1] = 0
    states, averages, weights = compiled(inputs, attended, mask)
    assert states.shape == (steps, BATCH, DIM)
    assert averages.shape == (steps, BATCH, ATT_DIM)
    assert weights.shape == (steps, BATCH, T_ATT)
    assert (weights[:, 1, 3:] == 0).all()
    numpy.testing.assert_allclose(weights.sum(axis=2), 1, rtol=1e-5)


def test_attention_recurrent_steps_match_numpy(attention_recurrent):
    """Glimpses come from the previous state; the new state from them."""
    brick, compiled = attention_recurrent
    rng = numpy.random.RandomState(6)
    steps = 3
    inputs = rng.normal(size=(steps, BATCH, DIM)).astype(floatX)
    attended = rng.normal(size=(T_ATT, BATCH, ATT_DIM)).astype(floatX)
    mask = numpy.ones((T_ATT, BATCH), dtype=floatX)
    mask[4:, 2] = 0
    states, averages, weights = compiled(inputs, attended, mask)

    W = brick.transition.W.get_value()
    distribute_W = brick.distribute.children[0].W.get_value()
    h = numpy.repeat(brick.transition.parameters[1].get_value()[None],
                     BATCH, 0)
    for t in range(steps):
        glimpse, glimpse_weights = numpy_glimpses(brick.attention, attended,
                                                  mask, h)
        h = numpy.tanh(inputs[t] + glimpse @ distribute_W + h @ W)
        numpy.testing.assert_allclose(averages[t], glimpse, rtol=1e-4,
                                      atol=1e-5)
        numpy.testing.assert_allclose(weights[t], glimpse_weights,
                                      rtol=1e-4, atol=1e-5)
        numpy.testing.assert_allclose(states[t], h, rtol=1e-4, atol=1e-5)


def test_attention_recurrent_names_and_dims(attention_recurrent):
    brick, _ = attention_recurrent
    assert brick.apply.contexts == ['attended', 'attended_mask']
    assert brick.apply.states == ['states', 'weighted_averages', 'weights']
    assert brick.get_dim('states') == DIM
    assert brick.get_dim('weighted_averages') == ATT_DIM
    assert brick.get_dim('attended') == ATT_DIM
    assert brick.get_dim('attended_mask') == 0
    assert brick.get_dim('preprocessed_attended') == ATT_DIM
    assert brick.previous_glimpses_needed == []


def test_mask_of_another_shape_is_refused(attention_recurrent):
    _, compiled = attention_recurrent
    inputs = numpy.zeros((2, BATCH, DIM), dtype=floatX)
    attended = numpy.zeros((T_ATT, BATCH, ATT_DIM), dtype=floatX)
    # Batch-major mask: (batch, time) instead of (time, batch).
    mask = numpy.ones((BATCH, T_ATT), dtype=floatX)
    with pytest.raises(Exception, match='attended_mask must have the shape'):
        compiled(inputs, attended, mask)


def test_mask_of_wrong_rank_is_refused_when_building():
    transition = SimpleRecurrent(dim=DIM, activation=Identity())
    attention = SequenceContentAttention(
        state_names=['states'], attended_dim=ATT_DIM, match_dim=MATCH_DIM)
    brick = AttentionRecurrent(transition, attention,
                               weights_init=Constant(0.1),
                               biases_init=Constant(0))
    with pytest.raises(ValueError, match='attended_mask must be a'):
        brick.apply(inputs=tensor.tensor3(), attended=tensor.tensor3(),
                    attended_mask=tensor.tensor3())
