"""Tests of the extension protocol: callback names, triggers, composites."""
import pytest

from blocks.extensions import (CallbackName, CompositeExtension, FinishAfter,
                               Predicate, SimpleExtension, TrainingExtension)
from blocks.log import TrainingLog
from blocks.main_loop import MainLoop
from blocks.utils.testing import MockAlgorithm
from tests.streams import ListStream


class Recorder(SimpleExtension):
    """Records every call of ``do`` with the iteration it happened at."""

    def __init__(self, calls=None, **kwargs):
        super().__init__(**kwargs)
        self.calls = [] if calls is None else calls

    def do(self, which_callback, *args):
        status = self.main_loop.status
        self.calls.append((self.name, str(which_callback),
                           status['iterations_done'], status['epochs_done'],
                           args))


def run_loop(extensions, batches=5, epochs=2):
    main_loop = MainLoop(MockAlgorithm(), ListStream(list(range(batches))),
                         extensions=extensions +
                         [FinishAfter(after_n_epochs=epochs)])
    main_loop.run()
    return main_loop


def test_callback_name_compares_with_callback_names():
    assert CallbackName('after_epoch') == 'after_epoch'
    assert not CallbackName('after_epoch') == 'after_batch'


def test_callback_name_rejects_strings_that_are_not_callbacks():
    with pytest.raises(TypeError, match="'after_epochs' is not the name"):
        CallbackName('after_epoch') == 'after_epochs'  # noqa: B015


def test_every_n_batches_with_after_epoch():
    recorder = Recorder(every_n_batches=2, after_epoch=True)
    run_loop([recorder], batches=5, epochs=2)
    assert [(c[1], c[2]) for c in recorder.calls] == [
        ('after_batch', 2), ('after_batch', 4), ('after_epoch', 5),
        ('after_batch', 6), ('after_batch', 8), ('after_batch', 10),
        ('after_epoch', 10)]


def test_after_n_epochs_and_after_n_batches_fire_once():
    recorder = Recorder(after_n_epochs=1, after_n_batches=3)
    run_loop([recorder], batches=5, epochs=3)
    assert [(c[1], c[2]) for c in recorder.calls] == [
        ('after_batch', 3), ('after_epoch', 5)]


def test_before_first_epoch_fires_only_before_the_first_epoch():
    recorder = Recorder(before_first_epoch=True)
    run_loop([recorder], batches=3, epochs=3)
    assert [(c[1], c[3]) for c in recorder.calls] == [('before_epoch', 0)]


def test_add_condition_arguments_reach_do():
    recorder = Recorder()
    recorder.add_condition(['after_epoch'], arguments=('first', 2))
    recorder.add_condition(
        ['after_batch'], predicate=lambda log: log.status[
            'iterations_done'] == 3, arguments=['user'])
    run_loop([recorder], batches=3, epochs=1)
    assert [(c[1], c[4]) for c in recorder.calls] == [
        ('after_batch', ({'data': 2}, 'user')),
        ('after_epoch', ('first', 2))]


def test_several_matching_conditions_call_do_several_times():
    recorder = Recorder(after_epoch=True)
    recorder.add_condition(['after_epoch'], arguments=('again',))
    run_loop([recorder], batches=2, epochs=1)
    assert [c[4] for c in recorder.calls] == [(), ('again',)]


def test_add_condition_requires_a_list_of_names():
    with pytest.raises(ValueError, match="list or a tuple"):
        Recorder().add_condition('after_epoch')


def test_add_condition_returns_the_extension():
    recorder = Recorder()
    assert recorder.add_condition(['after_epoch']) is recorder
    assert recorder.set_conditions(after_batch=True) is recorder


def test_set_conditions_replaces_previous_conditions():
    recorder = Recorder(after_epoch=True)
    recorder.set_conditions(after_n_batches=1)
    run_loop([recorder], batches=2, epochs=1)
    assert [(c[1], c[2]) for c in recorder.calls] == [('after_batch', 1)]


def test_unknown_trigger_keyword_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="every_n_batch"):
        Recorder(every_n_batch=10)


@pytest.mark.parametrize('value', [0, -3, 2.5, True])
def test_integer_triggers_must_be_positive_integers(value):
    with pytest.raises(ValueError, match="every_n_batches must be a positive"):
        Recorder(every_n_batches=value)


def test_false_and_none_disable_a_trigger():
    recorder = Recorder(every_n_batches=None, after_epoch=False)
    assert recorder._conditions == []


def test_condition_under_a_non_callback_name_raises_on_dispatch():
    recorder = Recorder()
    recorder.add_condition(['after_epochs'])
    recorder.main_loop = MainLoop(MockAlgorithm(), ListStream([1]))
    with pytest.raises(TypeError, match="after_epochs"):
        recorder.dispatch(CallbackName('after_epoch'))


def test_main_loop_fails_on_a_condition_under_a_non_callback_name():
    recorder = Recorder()
    recorder.add_condition(['after_epochs'])
    with pytest.raises(TypeError, match="after_epochs"):
        run_loop([recorder])


def test_parse_args_separates_main_loop_and_user_arguments():
    assert SimpleExtension.parse_args('after_batch', (1, 2, 3)) == (
        (1,), (2, 3))
    assert SimpleExtension.parse_args('after_epoch', (1, 2)) == ((), (1, 2))


def test_predicate_counts_batches_or_epochs():
    log = TrainingLog()
    log.status['iterations_done'] = 6
    log.status['epochs_done'] = 2
    assert Predicate('every_n_batches', 3)(log)
    assert not Predicate('after_n_batches', 3)(log)
    assert Predicate('after_n_epochs', 2)(log)
    assert not Predicate('every_n_epochs', 4)(log)


def test_extension_name_defaults_to_the_class_name():
    assert Recorder().name == 'Recorder'
    assert Recorder(name='mine').name == 'mine'


def test_main_loop_must_be_assigned_first():
    with pytest.raises(ValueError, match="main loop must be assigned"):
        Recorder().main_loop


@pytest.mark.parametrize('run_before_children, expected', [
    (True, ['outer', 'first', 'second']),
    (False, ['first', 'second', 'outer'])])
def test_composite_extension_order(run_before_children, expected):
    calls = []
    composite = type('Outer', (CompositeExtension,), {
        'do': lambda self, which, *args: calls.append(('outer', which))})(
        [Recorder(calls, name='first', after_epoch=True),
         Recorder(calls, name='second', after_epoch=True)],
        run_before_children=run_before_children, after_epoch=True)
    run_loop([composite], batches=2, epochs=1)
    assert [call[0] for call in calls] == expected


def test_composite_extension_gives_children_the_main_loop():
    child = Recorder(after_epoch=True)
    composite = CompositeExtension([child])
    main_loop = run_loop([composite], batches=2, epochs=1)
    assert child.main_loop is main_loop
    assert len(child.calls) == 1


def test_plain_training_extension_callbacks_are_called():
    calls = []

    class Plain(TrainingExtension):
        def before_training(self):
            calls.append('before_training')

        def after_batch(self, batch):
            calls.append(('after_batch', batch))

        def after_training(self):
            calls.append('after_training')

    run_loop([Plain()], batches=2, epochs=1)
    assert calls == ['before_training', ('after_batch', {'data': 0}),
                     ('after_batch', {'data': 1}), 'after_training']


def test_conditions_added_during_training_take_effect():
    late = Recorder()

    class AddLater(SimpleExtension):
        def do(self, which_callback, *args):
            late.add_condition(['after_batch'])

    run_loop([AddLater(after_n_batches=2), late], batches=3, epochs=1)
    assert [c[2] for c in late.calls] == [2, 3]
