"""The JAX backend's linker: shared variables updated in place on the device.

Each call donates the old values of the shared variables it updates to XLA
(:class:`blocks.compilation.BlocksJAXLinker`); the other outputs come back
as NumPy arrays.
"""
import io

import numpy
import pytest
from pytensor import tensor

from blocks.compilation import backend_mode, function
from blocks.serialization import dump, load
from blocks.utils import shared_floatx

jax = pytest.importorskip('jax', reason='the jax extra is not installed')

LEARNING_RATE, DECAY = 0.1, 0.9
N_STEPS = 4


def reference(w, velocity, inputs):
    """Momentum SGD on ``cost = sum(w * x) + sum(w ** 2) / 2``, in NumPy."""
    costs = []
    for x in inputs:
        costs.append(numpy.sum(w * x) + numpy.sum(w ** 2) / 2)
        velocity = DECAY * velocity - LEARNING_RATE * (x + w)
        w = w + velocity
    return w, velocity, costs


@pytest.fixture(scope='module')
def step():
    """A momentum step compiled for JAX, its shared variables, some inputs."""
    rng = numpy.random.RandomState(1)
    w = shared_floatx(rng.normal(size=(3, 2)), name='w')
    velocity = shared_floatx(numpy.zeros((3, 2)), name='velocity')
    scale = shared_floatx(2.0, name='scale')
    x = tensor.matrix('x', dtype=w.dtype)
    cost = (w * x).sum() + (w ** 2).sum() / 2
    new_velocity = DECAY * velocity - LEARNING_RATE * tensor.grad(cost, w)
    compiled = function([x], [cost, scale * cost],
                        updates=[(w, w + new_velocity),
                                 (velocity, new_velocity)],
                        mode=backend_mode('jax'))
    inputs = rng.normal(size=(N_STEPS, 3, 2)).astype(w.dtype)
    return compiled, w, velocity, inputs


def test_updates_match_numpy_over_several_steps(step):
    compiled, w, velocity, inputs = step
    expected = reference(w.get_value(), velocity.get_value(), inputs)
    costs = []
    for x in inputs:
        cost, scaled = compiled(x)
        assert type(cost) is numpy.ndarray
        assert float(scaled) == pytest.approx(2 * float(cost), rel=1e-6)
        costs.append(cost)
    assert numpy.allclose(w.get_value(), expected[0], rtol=1e-5)
    assert numpy.allclose(velocity.get_value(), expected[1], rtol=1e-5)
    assert numpy.allclose(costs, expected[2], rtol=1e-5)


def test_old_values_are_donated_and_copies_stay_valid(step):
    compiled, w, velocity, inputs = step
    compiled(inputs[0])
    borrowed = w.get_value(borrow=True)
    copied = w.get_value()
    assert isinstance(borrowed, jax.Array)
    before = numpy.array(borrowed), velocity.get_value()
    compiled(inputs[1])
    # XLA wrote the new value over the old one's memory; the copy is intact.
    assert borrowed.is_deleted()
    assert numpy.array_equal(numpy.asarray(copied), before[0])
    expected = reference(*before, inputs[1:2])[0]
    assert numpy.allclose(w.get_value(), expected, rtol=1e-5)


def test_function_pickles_and_resumes_with_the_same_values(step):
    compiled, w, velocity, inputs = step
    compiled(inputs[0])
    checkpoint = io.BytesIO()
    dump((compiled, w, velocity), checkpoint, parameters=[w, velocity])
    checkpoint.seek(0)
    copy = load(checkpoint)
    for x in inputs[1:]:
        compiled(x)
        copy[0](x)
    assert numpy.array_equal(copy[1].get_value(), w.get_value())
    assert numpy.array_equal(copy[2].get_value(), velocity.get_value())


def test_a_shape_computed_from_input_sizes_gets_an_error_with_the_fix():
    x = tensor.vector('x')
    zeros = tensor.alloc(0., tensor.maximum(x.shape[0] - 1, 1))
    compiled = function([x], zeros, mode=backend_mode('jax'))
    with pytest.raises(TypeError, match=r"needs every array shape as a "
                       r"constant.*tensor3\('x', shape=\(50, 32, 256\)\)"
                       r".*JAX said: Shapes must be"):
        compiled(numpy.ones(4, dtype=x.dtype))
