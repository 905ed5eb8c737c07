"""Backpropagation through a recurrent brick reuses the forward values."""
import numpy
import pytensor
import pytest
from numpy.testing import assert_allclose
from pytensor import tensor
from pytensor.graph.traversal import ancestors
from pytensor.scan.op import Scan
from pytensor.tensor.blas import Dot22, Gemm
from pytensor.tensor.math import Dot

from blocks.bricks import Tanh
from blocks.bricks.recurrent import (
    BaseRecurrent, LSTM, recurrent, SimpleRecurrent)
from blocks.bricks.recurrent.saved import save_intermediates
from blocks.compilation import function
from blocks.initialization import Constant, IsotropicGaussian
from blocks.kernels import Contiguous

T, B, D = 4, 3, 5


def _lstm():
    lstm = LSTM(dim=D, weights_init=IsotropicGaussian(0.3),
                biases_init=Constant(0), seed=2)
    lstm.initialize()
    return lstm


def _scans(compiled):
    return {node.op.name: node for node in compiled.maker.fgraph.apply_nodes
            if isinstance(node.op, Scan)}


def _products(scan_node):
    return [node for node in scan_node.op.fgraph.apply_nodes
            if isinstance(node.op, (Dot, Dot22, Gemm))]


@pytest.fixture(scope='module')
def lstm_functions():
    lstm = _lstm()
    x = tensor.tensor3('x')
    states, cells = lstm.apply(x)
    cost = (states ** 2).sum() + cells.sum()
    parameters = [lstm.W_state, lstm.W_cell_to_in, lstm.W_cell_to_forget,
                  lstm.W_cell_to_out]
    grads = pytensor.grad(cost, [x] + parameters)
    return (lstm, function([x], [cost] + grads), function([x], states),
            cost, grads, x)


def test_lstm_scan_returns_its_gates(lstm_functions):
    _, _, _, cost, _, _ = lstm_functions
    forward, = {variable.owner for variable in ancestors([cost])
                if variable.owner is not None and
                isinstance(variable.owner.op, Scan)}
    # Input, forget and output gates, tanh of the cell input and of the
    # cells: the cells themselves are a state already.
    assert forward.op.info.n_nit_sot == 5


def test_backward_scan_does_not_recompute_the_recurrent_product(
        lstm_functions):
    _, training, _, _, _, _ = lstm_functions
    scans = _scans(training)
    backward = scans['grad_of_lstm_apply_scan']
    # Only the product that carries the gradient to the previous state;
    # the forward product (states times W_state) is no longer recomputed.
    assert len(_products(backward)) == 1


def test_forward_only_function_drops_the_saved_values(lstm_functions):
    _, _, forward, _, _, _ = lstm_functions
    node, = _scans(forward).values()
    assert node.op.info.n_nit_sot == 0


def test_gradients_equal_those_of_a_scan_that_recomputes(lstm_functions):
    lstm, training, _, _, _, x = lstm_functions

    def step(inputs, states, cells):
        return lstm.apply(inputs=inputs, states=states, cells=cells,
                          iterate=False)
    zeros = tensor.zeros((x.shape[1], D))
    (states, cells) = pytensor.scan(
        step, sequences=[x], outputs_info=[zeros, zeros],
        return_updates=False)
    cost = (states ** 2).sum() + cells.sum()
    parameters = [lstm.W_state, lstm.W_cell_to_in, lstm.W_cell_to_forget,
                  lstm.W_cell_to_out]
    reference = function([x], [cost] + pytensor.grad(cost, [x] + parameters))
    # Zero initial states: the brick's own are zeros too.
    assert not any(p.get_value().any() for p in lstm.parameters
                   if p.name.startswith('initial'))
    value = numpy.random.default_rng(0).normal(
        size=(T, B, 4 * D)).astype(pytensor.config.floatX)
    for got, expected in zip(training(value), reference(value), strict=True):
        assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_a_step_without_nonlinearities_is_left_alone():
    x = tensor.matrix('x')
    result = pytensor.scan(lambda x_t, h: h + x_t, sequences=[x],
                           outputs_info=[tensor.zeros(x.shape[1:])],
                           return_updates=False)
    node = result.owner.inputs[0].owner
    assert save_intermediates(node) == {}


def test_save_intermediates_rejects_other_nodes():
    x = tensor.vector('x')
    with pytest.raises(TypeError, match='not a scan'):
        save_intermediates((x + 1).owner)


def test_transposed_weights_reach_the_backward_scan_contiguous():
    rnn = SimpleRecurrent(dim=D, activation=Tanh(),
                          weights_init=IsotropicGaussian(0.3), seed=1)
    rnn.initialize()
    x = tensor.tensor3('x')
    cost = rnn.apply(x).sum()
    compiled = function([x], pytensor.grad(cost, rnn.W))
    backward = _scans(compiled)['grad_of_simplerecurrent_apply_scan']
    assert any(variable.owner is not None and
               isinstance(variable.owner.op, Contiguous)
               for variable in backward.inputs)
    value = numpy.random.default_rng(1).normal(
        size=(T, B, D)).astype(pytensor.config.floatX)
    W = rnn.W.get_value()
    # Backpropagation through time in NumPy.
    hs = [numpy.zeros((B, D))]
    for t in range(T):
        hs.append(numpy.tanh(value[t] + hs[-1] @ W))
    grad_W, dh = numpy.zeros_like(W), numpy.zeros((B, D))
    for t in range(T - 1, -1, -1):
        dpre = (dh + 1) * (1 - hs[t + 1] ** 2)
        grad_W += hs[t].T @ dpre
        dh = dpre @ W.T
    assert_allclose(compiled(value), grad_W, rtol=1e-4, atol=1e-5)



class Decay(BaseRecurrent):
    """States go through tanh at every step; no sequence."""

    def get_dim(self, name):
        return D if name == 'states' else super().get_dim(name)

    @recurrent(sequences=[], states=['states'], outputs=['states'],
               contexts=[])
    def apply(self, states):
        return tensor.tanh(states + 1)


@pytest.mark.parametrize('n_steps', [1, 3])
def test_steps_of_a_known_number(n_steps):
    # With n_steps a constant 1, PyTensor applies the step without a scan.
    states = Decay().apply(n_steps=n_steps, batch_size=B)
    expected = numpy.zeros((B, D))
    for _ in range(n_steps):
        expected = numpy.tanh(expected + 1)
    result = function([], states)()
    assert result.shape == (n_steps, B, D)
    assert_allclose(result[-1], expected, rtol=1e-6)


def test_values_that_do_not_change_between_steps_are_not_saved():
    x = tensor.matrix('x')
    W = tensor.matrix('W')

    def step(x_t, h, W):
        # tanh(W) is the same at every step: PyTensor computes it once,
        # outside the loop.
        return tensor.tanh(x_t + h.dot(tensor.tanh(W)))
    result = pytensor.scan(step, sequences=[x], non_sequences=[W],
                           outputs_info=[tensor.zeros(x.shape[1:])],
                           return_updates=False)
    node = result.owner.inputs[0].owner
    assert save_intermediates(node) == {}
