"""SharedVariableModifier (learning-rate schedules) and TrackTheBest.

Main loops here use a mock algorithm: nothing is compiled.
"""
import functools
import warnings

import numpy
import pytensor
import pytest

from blocks.extensions import FinishAfter, SimpleExtension
from blocks.extensions.training import SharedVariableModifier, TrackTheBest
from blocks.main_loop import MainLoop
from blocks.utils import shared_floatx
from blocks.utils.testing import MockAlgorithm
from tests.streams import ListStream

floatX = pytensor.config.floatX


class WriteRecords(SimpleExtension):
    """Writes ``values[epoch]`` (if not None) under `record` after epochs."""

    def __init__(self, record, values, **kwargs):
        kwargs.setdefault('after_epoch', True)
        super().__init__(**kwargs)
        self.record = record
        self.values = values

    def do(self, which_callback, *args):
        value = self.values[self.main_loop.status['epochs_done'] - 1]
        if value is not None:
            self.main_loop.log.current_row[self.record] = value


class ValueRecorder(SimpleExtension):
    """Records ``(iterations_done, parameter value)`` when triggered."""

    def __init__(self, parameter, **kwargs):
        super().__init__(**kwargs)
        self.parameter = parameter
        self.values = []

    def do(self, which_callback, *args):
        self.values.append((self.main_loop.status['iterations_done'],
                            float(self.parameter.get_value())))


def run(extensions, batches=3, epochs=4):
    main_loop = MainLoop(MockAlgorithm(), ListStream(range(batches)),
                         extensions=extensions +
                         [FinishAfter(after_n_epochs=epochs)])
    main_loop.run()
    return main_loop


# SharedVariableModifier

def test_one_argument_function_gets_iterations_done():
    parameter = shared_floatx(0.)
    modifier = SharedVariableModifier(parameter, lambda n: 10 * n)
    recorder = ValueRecorder(parameter, after_batch=True)
    run([modifier, recorder], batches=3, epochs=1)
    assert recorder.values == [(1, 10.), (2, 20.), (3, 30.)]


def test_two_argument_function_gets_the_old_value():
    parameter = shared_floatx(1.)
    modifier = SharedVariableModifier(parameter, lambda n, old: old + n)
    recorder = ValueRecorder(parameter, after_batch=True)
    run([modifier, recorder], batches=3, epochs=1)
    assert recorder.values == [(1, 2.), (2, 4.), (3, 7.)]


def step_decay(iterations_done, rate):
    return rate


class Schedule:
    def __call__(self, iterations_done):
        return 1.

    def method(self, iterations_done):
        return 1.


@pytest.mark.parametrize('function, num_args', [
    (lambda n: n, 1),
    (lambda n, old: old, 2),
    # Defaulted positional parameters count, as upstream.
    (lambda n, old=None: n, 2),
    # Keyword-only parameters do not.
    (lambda n, *, scale=2: n, 1),
    # Callables and bound methods: `self` is not counted (upstream's
    # getargspec counted it, and then passed two arguments).
    (Schedule(), 1),
    (Schedule().method, 1),
    (functools.partial(step_decay, rate=0.1), 1),
    (functools.partial(step_decay, 0), 1),
])
def test_num_args_is_inferred_from_the_signature(function, num_args):
    parameter = shared_floatx(0.)
    assert SharedVariableModifier(parameter, function).num_args == num_args


def test_function_that_can_not_take_the_arguments_fails_at_construction():
    parameter = shared_floatx(0.)
    with pytest.raises(ValueError, match="can not be called so.*num_args"):
        SharedVariableModifier(parameter, lambda: 0.1)
    with pytest.raises(ValueError, match="can not be called so"):
        SharedVariableModifier(parameter, lambda a, b, c: 0.1)


def test_num_args_must_be_one_or_two():
    with pytest.raises(ValueError, match="num_args must be 1 or 2.*got 3"):
        SharedVariableModifier(shared_floatx(0.), lambda n: n, num_args=3)


def test_explicit_num_args_overrides_inference():
    modifier = SharedVariableModifier(shared_floatx(0.), lambda *a: a[0],
                                      num_args=1)
    assert modifier.num_args == 1


def test_subclass_may_override_function():
    class Halve(SharedVariableModifier):
        def function(self, iterations_done, old_value):
            return old_value / 2

    parameter = shared_floatx(8.)
    run([Halve(parameter, None, num_args=2)], batches=3, epochs=1)
    assert parameter.get_value() == 1.


def test_float32_parameter_accepts_float64_results():
    parameter = pytensor.shared(numpy.float32(1.))
    run([SharedVariableModifier(parameter,
                                lambda n: numpy.float64(0.1) * n)],
        batches=2, epochs=1)
    assert parameter.get_value().dtype == numpy.float32
    assert parameter.get_value() == numpy.float32(0.2)


# The learning-rate schedule recipes of docs/monitoring.rst.

def test_step_decay_recipe():
    learning_rate = shared_floatx(0.1, 'learning_rate')
    schedule = SharedVariableModifier(
        learning_rate, lambda iterations: 0.1 * 0.5 ** (iterations // 4))
    recorder = ValueRecorder(learning_rate, after_batch=True)
    run([schedule, recorder], batches=3, epochs=3)
    assert [value for _, value in recorder.values] == pytest.approx(
        [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.05, 0.025, 0.025])


def test_exponential_decay_recipe():
    learning_rate = shared_floatx(0.1, 'learning_rate')
    schedule = SharedVariableModifier(
        learning_rate, lambda iterations, rate: rate * 0.9,
        after_batch=False, after_epoch=True)
    recorder = ValueRecorder(learning_rate, after_epoch=True)
    run([schedule, recorder], batches=3, epochs=3)
    assert recorder.values == [
        (3, pytest.approx(0.09)), (6, pytest.approx(0.081)),
        (9, pytest.approx(0.0729))]


# TrackTheBest

def test_track_the_best_notifies_each_new_minimum():
    values = [3., 2., 2., 4., 1.]
    main_loop = run([WriteRecords('cost', values), TrackTheBest('cost')],
                    epochs=5)
    notified = [main_loop.log[end].get('cost_best_so_far', False)
                for end in main_loop.status['_epoch_ends']]
    # A tie (epoch 3) is not a new best.
    assert notified == [True, True, False, False, True]
    assert main_loop.status['best_cost'] == 1.


def test_track_the_best_with_max_and_custom_notification():
    main_loop = run([WriteRecords('accuracy', [0.5, 0.7, 0.6, 0.8]),
                     TrackTheBest('accuracy', 'new_record',
                                  choose_best=max)], epochs=4)
    notified = [bool(main_loop.log[end].get('new_record'))
                for end in main_loop.status['_epoch_ends']]
    assert notified == [True, True, False, True]
    assert main_loop.status['best_accuracy'] == 0.8


def test_track_the_best_skips_epochs_without_the_record():
    # Legitimate (say, validation every other epoch): only a warning.
    with pytest.warns(UserWarning, match="this warning is harmless"):
        main_loop = run([WriteRecords('cost', [None, 5., None, 4.]),
                         TrackTheBest('cost')], epochs=4)
    notified = [bool(main_loop.log[end].get('cost_best_so_far'))
                for end in main_loop.status['_epoch_ends']]
    assert notified == [False, True, False, True]


def test_track_the_best_warns_when_the_record_never_appears():
    with pytest.warns(UserWarning, match=r"record 'valid_cost' has not "
                      r"appeared.*valid_costs.*Did you mean 'valid_costs'"):
        run([WriteRecords('valid_costs', [1., 2.]),
             TrackTheBest('valid_cost')], epochs=2)


def test_track_the_best_does_not_warn_when_the_record_appears():
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        run([WriteRecords('cost', [1., 2.]), TrackTheBest('cost')], epochs=2)


def test_track_the_best_refuses_array_records():
    with pytest.raises(ValueError, match=r"needs a scalar.*shape \(2,\)"):
        run([WriteRecords('cost', [numpy.zeros(2)]), TrackTheBest('cost')],
            epochs=1)


def test_track_the_best_accepts_zero_dimensional_arrays():
    main_loop = run([WriteRecords('cost', [numpy.array(2.), numpy.array(1.)]),
                     TrackTheBest('cost')], epochs=2)
    assert main_loop.status['best_cost'] == 1.


def test_track_the_best_checks_its_arguments():
    with pytest.raises(TypeError, match="choose_best must be a callable"):
        TrackTheBest('cost', choose_best='min')
    with pytest.raises(ValueError, match="non-empty string"):
        TrackTheBest('')
