"""Every step rule against a NumPy implementation of its formula.

All rules are compiled into one function (compiling is the expensive part
of these tests) and run for several steps, so stateful rules are checked
through their buffers' evolution.
"""
from collections import OrderedDict

import numpy
import pytensor
import pytest
from pytensor import tensor
from pytensor.compile.mode import Mode

from blocks.algorithms import (
    AdaDelta,
    AdaGrad,
    Adam,
    BasicMomentum,
    BasicRMSProp,
    CompositeRule,
    Momentum,
    RemoveNotFinite,
    Restrict,
    RMSProp,
    Scale,
    StepClipping,
    StepRule,
    VariableClipping,
)
from blocks.compilation import backend_mode, c_mode
from blocks.filter import VariableFilter
from blocks.roles import ALGORITHM_BUFFER, ALGORITHM_HYPERPARAMETER
from blocks.utils import shared_floatx

floatX = pytensor.config.floatX
RTOL = 1e-4 if floatX == 'float32' else 1e-7
# The rules' graphs are the subject, not the linker: Python thunks compile
# instantly.
PY_MODE = Mode(linker='py').excluding('fusion')
# Parameters with a broadcastable axis: every rule must keep the pattern.
SHAPE = (3, 1)
N_STEPS = 6
NAN_STEP = 2
SCALE_CHANGE_STEP = 3


def numpy_scale(learning_rate):
    def step(params, grads, t):
        return [learning_rate[0] * g for g in grads]
    return step


def numpy_momentum(learning_rate, momentum):
    velocities = {}

    def step(params, grads, t):
        steps = []
        for i, g in enumerate(grads):
            velocities[i] = momentum * velocities.get(i, 0) + learning_rate * g
            steps.append(velocities[i])
        return steps
    return step


def numpy_adadelta(decay, epsilon):
    ms, md = {}, {}

    def step(params, grads, t):
        steps = []
        for i, g in enumerate(grads):
            ms[i] = decay * ms.get(i, 0) + (1 - decay) * g ** 2
            dx = (numpy.sqrt(md.get(i, 0) + epsilon) /
                  numpy.sqrt(ms[i] + epsilon) * g)
            md[i] = decay * md.get(i, 0) + (1 - decay) * dx ** 2
            steps.append(dx)
        return steps
    return step


def numpy_rmsprop(learning_rate, decay, max_scaling):
    ms = {}

    def step(params, grads, t):
        steps = []
        for i, g in enumerate(grads):
            ms[i] = decay * ms.get(i, 0) + (1 - decay) * g ** 2
            steps.append(learning_rate * g /
                         numpy.maximum(numpy.sqrt(ms[i]), 1 / max_scaling))
        return steps
    return step


def numpy_step_clipping(threshold, then_scale=1.):
    def step(params, grads, t):
        norm = numpy.sqrt(sum((g ** 2).sum() for g in grads))
        multiplier = 1 if norm < threshold else threshold / norm
        return [g * multiplier * then_scale for g in grads]
    return step


def numpy_variable_clipping(threshold, axis):
    def step(params, grads, t):
        steps = []
        for p, g in zip(params, grads):
            norms = numpy.sqrt(((p - g) ** 2).sum(axis=axis, keepdims=True))
            steps.append(numpy.where(norms > threshold,
                                     p - threshold / norms * (p - g), g))
        return steps
    return step


def numpy_adagrad(learning_rate, epsilon):
    squares = {}

    def step(params, grads, t):
        steps = []
        for i, g in enumerate(grads):
            squares[i] = squares.get(i, 0) + g ** 2
            steps.append(learning_rate * g /
                         (numpy.sqrt(squares[i]) + epsilon))
        return steps
    return step


ADAM_STATE = {}


def numpy_adam(learning_rate, beta1, beta2, epsilon, decay_factor):
    ADAM_STATE.clear()

    def step(params, grads, t):
        steps = []
        for i, g in enumerate(grads):
            time = ADAM_STATE.get(('time', i), 0) + 1
            beta1_t = beta1 * decay_factor ** (time - 1)
            rate = (learning_rate * numpy.sqrt(1 - beta2 ** time) /
                    (1 - beta1_t ** time))
            mean = (beta1_t * ADAM_STATE.get(('mean', i), 0) +
                    (1 - beta1_t) * g)
            variance = (beta2 * ADAM_STATE.get(('variance', i), 0) +
                        (1 - beta2) * g ** 2)
            ADAM_STATE.update({('time', i): time, ('mean', i): mean,
                               ('variance', i): variance})
            steps.append(rate * mean / (numpy.sqrt(variance) + epsilon))
        return steps
    return step


def numpy_remove_not_finite(scaler):
    def step(params, grads, t):
        return [(1 - scaler) * p if not numpy.isfinite(g.sum()) else g
                for p, g in zip(params, grads)]
    return step


def numpy_restrict_first(scale):
    def step(params, grads, t):
        return [scale * grads[0]] + list(grads[1:])
    return step


SCALE_LEARNING_RATE = [0.1]

# name -> (rule factory, number of parameters, numpy reference, gradient input)
CASES = {
    'scale': (lambda: Scale(SCALE_LEARNING_RATE[0]), 1,
              lambda: numpy_scale(SCALE_LEARNING_RATE), 'g'),
    'basic_momentum': (lambda: BasicMomentum(0.5), 1,
                       lambda: numpy_momentum(1., 0.5), 'g'),
    'momentum': (lambda: Momentum(0.1, 0.9), 2,
                 lambda: numpy_momentum(0.1, 0.9), 'g'),
    'adadelta': (lambda: AdaDelta(decay_rate=0.9, epsilon=1e-4), 1,
                 lambda: numpy_adadelta(0.9, 1e-4), 'g'),
    'basic_rmsprop': (lambda: BasicRMSProp(decay_rate=0.8, max_scaling=2.),
                      1, lambda: numpy_rmsprop(1., 0.8, 2.), 'g'),
    'rmsprop': (lambda: RMSProp(0.1, decay_rate=0.7), 1,
                lambda: numpy_rmsprop(0.1, 0.7, 1e5), 'g'),
    'step_clipping': (lambda: StepClipping(1.), 2,
                      lambda: numpy_step_clipping(1.), 'g'),
    'variable_clipping_axis': (lambda: VariableClipping(0.5, axis=0), 1,
                               lambda: numpy_variable_clipping(0.5, 0), 'g'),
    'variable_clipping_all': (lambda: VariableClipping(1.5), 1,
                              lambda: numpy_variable_clipping(1.5, None),
                              'g'),
    'adagrad': (lambda: AdaGrad(0.1, 1e-3), 2,
                lambda: numpy_adagrad(0.1, 1e-3), 'g'),
    'adam': (lambda: Adam(0.05, 0.8, 0.9, 1e-6, decay_factor=0.9), 2,
             lambda: numpy_adam(0.05, 0.8, 0.9, 1e-6, 0.9), 'g'),
    'remove_not_finite': (lambda: RemoveNotFinite(scaler=0.25), 1,
                          lambda: numpy_remove_not_finite(0.25), 'g_nan'),
    'restrict': (None, 2, lambda: numpy_restrict_first(0.5), 'g'),
    'composite': (lambda: CompositeRule([StepClipping(1.), Scale(0.5)]), 2,
                  lambda: numpy_step_clipping(1., then_scale=0.5), 'g'),
}


def make_gradients(rng):
    gradients = rng.normal(size=(N_STEPS,) + SHAPE)
    with_nan = rng.normal(size=(N_STEPS,) + SHAPE)
    with_nan[NAN_STEP, 1, 0] = numpy.nan
    return {'g': gradients.astype(floatX), 'g_nan': with_nan.astype(floatX)}


def backend(name):
    """The mode of a backend; the JAX tests skip without JAX."""
    if name == 'py':
        return PY_MODE
    if name == 'c':
        # Blocks' C kernels in one module: one compiler run, not one per
        # operation as with the default linker.
        return c_mode('c')
    if name == 'jax':
        pytest.importorskip('jax', reason='the jax extra is not installed')
    return backend_mode(name)


# Python thunks check the rules' graphs; the other backends check that
# blocks' compiled kernels (C with flat loops, Numba, JAX) give the same
# numbers.
@pytest.fixture(scope='module', params=['py', 'c', 'numba', 'jax'])
def trajectories(request):
    """Run every rule in one compiled function; record parameter values."""
    mode = backend(request.param)
    SCALE_LEARNING_RATE[0] = 0.1
    rng = numpy.random.RandomState(1)
    inputs = {name: tensor.tensor(name, dtype=floatX, shape=(None, 1))
              for name in ('g', 'g_nan')}
    initial, parameters, rules, updates = {}, {}, {}, []
    for name, (factory, n_parameters, _, source) in CASES.items():
        values = [rng.normal(size=SHAPE) for _ in range(n_parameters)]
        params = [shared_floatx(value, name=f'{name}_{i}', shape=(None, 1))
                  for i, value in enumerate(values)]
        if name == 'restrict':
            rule = Restrict(Scale(0.5), [params[0]])
        else:
            rule = factory()
        gradients = OrderedDict(
            (p, inputs[source] * (i + 1)) for i, p in enumerate(params))
        steps, rule_updates = rule.compute_steps(gradients)
        assert list(steps) == params
        updates += [(p, p - steps[p]) for p in params] + list(rule_updates)
        initial[name] = [p.get_value() for p in params]
        parameters[name], rules[name] = params, rule
    function = pytensor.function(list(inputs.values()), [], updates=updates,
                                 mode=mode)
    gradients = make_gradients(rng)
    history = {name: [] for name in CASES}
    for t in range(N_STEPS):
        if t == SCALE_CHANGE_STEP:
            # Hyperparameters are shared: a change applies to the next step.
            rules['scale'].learning_rate.set_value(0.2)
        function(gradients['g'][t], gradients['g_nan'][t])
        for name, params in parameters.items():
            history[name].append([p.get_value() for p in params])
    return initial, gradients, history, rules, updates


def run_reference(name, initial, gradients):
    """Parameter values after each step under the NumPy formula."""
    _, n_parameters, reference, source = CASES[name]
    SCALE_LEARNING_RATE[0] = 0.1
    reference_step = reference()
    params = [value.astype('float64') for value in initial[name]]
    history = []
    for t in range(N_STEPS):
        if t == SCALE_CHANGE_STEP:
            SCALE_LEARNING_RATE[0] = 0.2
        grads = [gradients[source][t].astype('float64') * (i + 1)
                 for i in range(n_parameters)]
        steps = reference_step(params, grads, t)
        params = [p - s for p, s in zip(params, steps, strict=True)]
        history.append(params)
    return history


@pytest.mark.parametrize('name', list(CASES))
def test_step_rule_matches_numpy_formula_over_several_steps(trajectories,
                                                            name):
    initial, gradients, history, _, _ = trajectories
    expected_history = run_reference(name, initial, gradients)
    for t in range(N_STEPS):
        for actual, expected in zip(history[name][t], expected_history[t],
                                    strict=True):
            numpy.testing.assert_allclose(actual, expected, rtol=RTOL,
                                          atol=1e-10, err_msg=f'step {t}')


def test_adam_state_buffers_hold_moments_and_time(trajectories):
    initial, gradients, _, _, updates = trajectories
    run_reference('adam', initial, gradients)
    buffers = VariableFilter(roles=[ALGORITHM_BUFFER])(
        [variable for variable, _ in updates])
    times = [b for b in buffers if b.name == 'time']
    assert [float(b.get_value()) for b in times] == [N_STEPS] * 2
    means = [b for b in buffers if b.name == 'mean']
    variances = [b for b in buffers if b.name == 'variance']
    for i, (mean, variance) in enumerate(zip(means, variances, strict=True)):
        assert mean.tag.for_parameter.name == f'adam_{i}'
        numpy.testing.assert_allclose(mean.get_value(),
                                      ADAM_STATE[('mean', i)], rtol=RTOL)
        numpy.testing.assert_allclose(variance.get_value(),
                                      ADAM_STATE[('variance', i)], rtol=RTOL)


def test_buffers_match_parameters_and_carry_role_and_tag():
    W = shared_floatx(numpy.ones((3, 1)), name='W', shape=(None, 1))
    g = tensor.tensor('g', dtype=floatX, shape=(None, 1))
    _, updates = AdaGrad().compute_steps(OrderedDict([(W, g)]))
    (buffer, _), = updates
    assert buffer.name == 'adagrad_sqs_W'
    assert buffer.tag.for_parameter is W
    assert buffer.tag.roles == [ALGORITHM_BUFFER]
    assert buffer.broadcastable == (False, True)
    assert buffer.get_value().shape == (3, 1)
    assert not buffer.get_value().any()


@pytest.mark.parametrize('rule, names', [
    (Scale(), ['learning_rate']),
    (BasicMomentum(), ['momentum']),
    (AdaDelta(), ['decay_rate', 'epsilon']),
    (BasicRMSProp(), ['decay_rate']),
    (StepClipping(1.), ['threshold']),
    (VariableClipping(1.), ['threshold']),
    (AdaGrad(), ['learning_rate', 'epsilon']),
    (Adam(), ['learning_rate', 'beta1', 'beta2', 'epsilon', 'decay_factor']),
])
def test_hyperparameters_are_shared_floatx_with_role(rule, names):
    for name in names:
        variable = getattr(rule, name)
        assert variable.name == name
        assert variable.dtype == floatX
        assert variable.tag.roles == [ALGORITHM_HYPERPARAMETER]


def test_composite_rules_alias_their_components_hyperparameters():
    momentum = Momentum(0.1, 0.9)
    assert momentum.learning_rate is momentum.components[0].learning_rate
    assert momentum.momentum is momentum.components[1].momentum
    rmsprop = RMSProp(0.1, 0.5)
    assert rmsprop.decay_rate is rmsprop.components[0].decay_rate
    assert rmsprop.learning_rate is rmsprop.components[1].learning_rate


@pytest.mark.parametrize('make_rule, argument', [
    (lambda: Scale('0.1'), 'learning_rate'),
    (lambda: Momentum(momentum='high'), 'momentum'),
    (lambda: AdaDelta(decay_rate='0.9'), 'decay_rate'),
    (lambda: BasicRMSProp(max_scaling=None), 'max_scaling'),
    (lambda: StepClipping([1.]), 'threshold'),
    (lambda: Adam(beta1=None), 'beta1'),
    (lambda: AdaGrad(epsilon=True), 'epsilon'),
])
def test_hyperparameter_of_wrong_type_is_a_type_error_naming_it(make_rule,
                                                                argument):
    with pytest.raises(TypeError, match=f'^{argument} must be a real number'):
        make_rule()


def test_numpy_scalars_are_accepted_as_hyperparameters():
    assert float(Scale(numpy.float32(0.5)).learning_rate.get_value()) == 0.5
    assert float(Scale(numpy.array(0.5)).learning_rate.get_value()) == 0.5


@pytest.mark.parametrize('make_rule, message', [
    (lambda: AdaDelta(decay_rate=1.5), r'decay rate needs to be in \[0, 1\]'),
    (lambda: BasicRMSProp(decay_rate=-0.1), r'decay rate needs to be in'),
    (lambda: RMSProp(max_scaling=0), 'max. scaling needs to be greater'),
    (lambda: VariableClipping(1., axis=[0, 0]), 'axis must be unique'),
])
def test_invalid_hyperparameter_values(make_rule, message):
    with pytest.raises(ValueError, match=message):
        make_rule()


def test_variable_clipping_rejects_axis_beyond_ndim():
    W = shared_floatx(numpy.ones(3), name='W')
    with pytest.raises(ValueError, match='Invalid axis'):
        VariableClipping(1., axis=1).compute_steps(
            OrderedDict([(W, tensor.vector())]))


def test_step_clipping_without_threshold_is_identity():
    W = shared_floatx(numpy.ones(3))
    previous_steps = OrderedDict([(W, tensor.vector())])
    steps, updates = StepClipping().compute_steps(previous_steps)
    assert steps is previous_steps
    assert updates == []


def test_restrict_requires_trained_variables():
    W, V = shared_floatx(numpy.ones(3)), shared_floatx(numpy.ones(3))
    with pytest.raises(KeyError):
        Restrict(Scale(), [V]).compute_steps(
            OrderedDict([(W, tensor.vector())]))


def test_base_step_rule_compute_step_is_not_implemented():
    W = shared_floatx(numpy.ones(3))
    with pytest.raises(NotImplementedError):
        StepRule().compute_steps(OrderedDict([(W, tensor.vector())]))
