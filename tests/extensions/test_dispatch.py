"""The main loop's dispatcher, exercised the way users and mocks do."""
from unittest.mock import ANY, MagicMock

import pytest

from blocks.extensions import FinishAfter, SimpleExtension, TrainingExtension
from blocks.main_loop import MainLoop
from blocks.utils.testing import MockAlgorithm
from tests.streams import ListStream


def new_loop(*extensions, batches=5):
    return MainLoop(MockAlgorithm(), ListStream(range(batches)),
                    extensions=[*extensions, FinishAfter(after_n_epochs=1)])


def test_a_callback_replaced_on_the_instance_is_called():
    extension = TrainingExtension()
    extension.after_batch = MagicMock()
    extension.before_epoch = MagicMock()
    new_loop(extension).run()
    assert extension.after_batch.call_count == 5
    extension.after_batch.assert_called_with({'data': 4})
    extension.before_epoch.assert_called_once_with()


def test_an_error_in_a_mocked_callback_calls_on_error_once_and_reraises():
    # The reference's own test (tests/test_main_loop.py, test_error).
    extension = TrainingExtension()
    extension.after_batch = MagicMock(side_effect=KeyError)
    extension.on_error = MagicMock()
    main_loop = new_loop(extension)
    with pytest.raises(KeyError):
        main_loop.run()
    extension.on_error.assert_called_once_with(ANY)
    assert isinstance(extension.on_error.call_args.args[0], KeyError)
    assert 'got_exception' in main_loop.log.current_row

    extension.on_error = MagicMock(side_effect=AttributeError)
    main_loop = new_loop(extension)
    with pytest.raises(KeyError):
        main_loop.run()
    extension.on_error.assert_called_once_with(ANY)
    assert 'got_exception' in main_loop.log.current_row


def test_a_callback_replaced_during_training_runs_after_conditions_changed():
    calls = []
    extension = TrainingExtension()

    class Replace(SimpleExtension):
        def do(self, which_callback, *args):
            extension.after_batch = lambda batch: calls.append(batch)
            extension.conditions_changed()

    new_loop(Replace(after_n_batches=2), extension).run()
    # Replaced during the second batch's after_batch, before `extension`
    # was dispatched: batches 2 (index 1) to 5 reach it.
    assert calls == [{'data': i} for i in range(1, 5)]


class Count(SimpleExtension):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def do(self, which_callback, *args):
        self.seen.append((str(which_callback),
                          self.main_loop.status['iterations_done']))


def test_conditions_added_during_a_dispatch_apply_to_the_rest_of_it():
    later = Count()

    class Enable(SimpleExtension):
        def do(self, which_callback, *args):
            later.add_condition(['after_batch'])

    new_loop(Enable(after_n_batches=3), later).run()
    assert later.seen == [('after_batch', 3), ('after_batch', 4),
                          ('after_batch', 5)]


def test_an_extension_replaced_in_place_is_dispatched_instead():
    first, second = Count(after_batch=True), Count(after_batch=True)

    class Swap(SimpleExtension):
        def do(self, which_callback, *args):
            second.main_loop = self.main_loop
            self.main_loop.extensions[1] = second

    new_loop(Swap(after_n_batches=2), first).run()
    # The list is looked at again from the next callback on.
    assert first.seen == [('after_batch', 1), ('after_batch', 2)]
    assert second.seen == [('after_batch', i) for i in range(3, 6)]


def test_an_extension_appended_during_training_is_dispatched():
    late = Count(after_batch=True)

    class Append(SimpleExtension):
        def do(self, which_callback, *args):
            late.main_loop = self.main_loop
            self.main_loop.extensions.append(late)

    new_loop(Append(after_n_batches=3)).run()
    assert late.seen == [('after_batch', 4), ('after_batch', 5)]


def test_each_extension_is_timed_under_its_callback():
    main_loop = new_loop(Count(after_batch=True))
    main_loop.run()
    total = main_loop.profile.total
    assert total[('training', 'epoch', 'after_batch', 'Count')] > 0
    assert total[('training', 'epoch', 'after_batch')] >= (
        total[('training', 'epoch', 'after_batch', 'Count')])
    assert ('training', 'after_epoch', 'FinishAfter') in total
    # An extension that does not respond to a callback is not timed there.
    assert ('training', 'epoch', 'after_batch', 'FinishAfter') not in total


def test_the_dispatcher_lists_who_responds():
    count = Count(after_batch=True)
    main_loop = new_loop(count)
    assert main_loop.dispatcher.responders('after_batch') == [count]
    assert main_loop.dispatcher.responders('after_epoch') == [
        main_loop.extensions[1]]
