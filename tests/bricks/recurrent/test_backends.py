"""Recurrent bricks give the same numbers under the C, Numba and JAX backends.

The step function is compiled with blocks' default mode, whose NumPy
ufuncs the Numba and JAX backends cannot compile; these tests show that
the rewrites of :mod:`blocks.bricks.recurrent.step_mode` let them. JAX
needs the static shapes the inputs are declared with here.
"""
import importlib.util

import numpy
import pytensor
import pytest
from numpy.testing import assert_allclose
from pytensor import tensor
from pytensor.compile.mode import get_mode

from blocks.bricks import Tanh
from blocks.bricks.recurrent import GatedRecurrent, LSTM, SimpleRecurrent
from blocks.compilation import function
from blocks.initialization import IsotropicGaussian

FLOATX = pytensor.config.floatX
T, B, DIM = 3, 2, 2
MASK = numpy.array([[1, 1], [1, 1], [1, 0]], dtype=FLOATX)


def _graph(kind):
    init = dict(weights_init=IsotropicGaussian(0.5), seed=1)
    brick = {'simple': lambda: SimpleRecurrent(dim=DIM, activation=Tanh(),
                                               **init),
             'lstm': lambda: LSTM(dim=DIM, **init),
             'gru': lambda: GatedRecurrent(dim=DIM, **init)}[kind]()
    brick.initialize()
    names = [name for name in brick.apply.sequences if name != 'mask']
    # Static shapes: JAX cannot differentiate a scan whose length is only
    # known when it runs.
    inputs = [tensor.tensor3(name, shape=(T, B, brick.get_dim(name)))
              for name in names]
    mask = tensor.matrix('mask', shape=(T, B))
    outputs = brick.apply(*inputs, mask=mask, as_list=True)
    cost = sum((output ** 2).sum() for output in outputs)
    gradients = pytensor.grad(cost, list(brick.parameters))
    rng = numpy.random.RandomState(5)
    values = [rng.normal(size=var.type.shape).astype(FLOATX)
              for var in inputs] + [MASK]
    return inputs + [mask], outputs + [cost] + gradients, values


@pytest.fixture(scope='module', params=['simple', 'lstm', 'gru'])
def reference(request):
    inputs, outputs, values = _graph(request.param)
    return request.param, inputs, outputs, values, function(
        inputs, outputs)(*values)


def _requires(module):
    return pytest.mark.skipif(importlib.util.find_spec(module) is None,
                              reason=f'{module} is not installed')


@_requires('jax')
def test_jax_matches_c_backend(reference):
    kind, inputs, outputs, values, expected = reference
    results = pytensor.function(inputs, outputs,
                                mode=get_mode('JAX'))(*values)
    for result, value in zip(results, expected, strict=True):
        assert_allclose(result, value, rtol=1e-7, atol=1e-10)


@_requires('numba')
def test_numba_matches_c_backend(reference):
    kind, inputs, outputs, values, expected = reference
    if kind != 'simple':
        pytest.skip('one architecture: Numba compiles slowly')
    results = pytensor.function(inputs, outputs,
                                mode=get_mode('NUMBA'))(*values)
    for result, value in zip(results, expected, strict=True):
        assert_allclose(result, value, rtol=1e-7, atol=1e-10)


@_requires('jax')
def test_jax_compiles_float32_steps_of_the_c_mode():
    # In float32 the C mode computes tanh and sigmoid with the rational
    # tanh (blocks.fast_tanh), which JAX compiles as its own tanh. JAX's
    # 64-bit types are as PyTensor sets them for a float32 process.
    import jax
    x64 = jax.config.jax_enable_x64
    jax.config.update('jax_enable_x64', False)
    try:
        _float32_lstm_under_jax()
    finally:
        jax.config.update('jax_enable_x64', x64)


def _float32_lstm_under_jax():
    with pytensor.config.change_flags(floatX='float32'):
        inputs, outputs, values = _graph('lstm')
        values = [value.astype('float32') for value in values]
        expected = function(inputs, outputs)(*values)
        results = pytensor.function(inputs, outputs,
                                    mode=get_mode('JAX'))(*values)
    for result, value in zip(results, expected, strict=True):
        assert result.dtype == 'float32'
        assert_allclose(result, value, rtol=1e-5, atol=1e-6)
