"""Early stopping: patience, and saving the best model exactly on improvement.

Main loops here use a mock algorithm and records written by a test
extension: nothing is compiled.
"""
import logging

import numpy
import pytest

from blocks.extensions import FinishAfter, SimpleExtension
from blocks.extensions.predicates import OnLogRecord
from blocks.extensions.record_watch import OnNewBestNotSaved
from blocks.extensions.stopping import (EarlyStopping,
                                        FinishIfNoImprovementAfter)
from blocks.main_loop import MainLoop
from blocks.utils import shared_floatx
from blocks.utils.testing import MockAlgorithm
from tests.streams import ListStream


class WriteRecords(SimpleExtension):
    """Writes the next value of `values` (unless None) under `record`."""

    def __init__(self, record, values, **kwargs):
        super().__init__(**kwargs)
        self.record = record
        self.values = list(values)
        self.position = 0

    def do(self, which_callback, *args):
        value = self.values[self.position]
        self.position += 1
        if value is not None:
            self.main_loop.log.current_row[self.record] = value


class FakeCheckpoint(SimpleExtension):
    """Remembers where and when it would save; writes ``saved_to``."""

    def __init__(self, path, **kwargs):
        super().__init__(**kwargs)
        self.path = path
        self.saves = []

    def do(self, which_callback, *args):
        _, from_user = self.parse_args(which_callback, args)
        path = from_user[0] if from_user else self.path
        row = self.main_loop.log.current_row
        self.saves.append((self.main_loop.status['iterations_done'],
                           str(which_callback), path))
        row['saved_to'] = row.get('saved_to', ()) + (path,)


def run(extensions, batches=2, epochs=10):
    main_loop = MainLoop(MockAlgorithm(), ListStream(range(batches)),
                         extensions=extensions +
                         [FinishAfter(after_n_epochs=epochs)])
    main_loop.run()
    return main_loop


# FinishIfNoImprovementAfter

def test_finish_after_epochs_without_improvement():
    notifications = [True, None, True, None, None, None, None]
    stop = FinishIfNoImprovementAfter('cost_best_so_far', epochs=3)
    main_loop = run([WriteRecords('cost_best_so_far', notifications,
                                  after_epoch=True), stop])
    assert main_loop.status['epochs_done'] == 6
    patience = [main_loop.log[end]['cost_best_so_far_patience_epochs']
                for end in main_loop.status['_epoch_ends']]
    assert patience == [3, 2, 3, 2, 1, 0]
    assert main_loop.log.current_row['training_finish_requested']


def test_finish_after_iterations_without_improvement():
    # Notifications after batches 1 and 3; patience of 4 batches.
    notifications = [True, None, True] + [None] * 10
    stop = FinishIfNoImprovementAfter('new_best', iterations=4,
                                      after_batch=True, after_epoch=False)
    main_loop = run([WriteRecords('new_best', notifications,
                                  after_batch=True), stop], batches=3)
    assert main_loop.status['iterations_done'] == 7
    assert main_loop.log[5]['new_best_patience_iterations'] == 2


def test_iterations_patience_checked_per_epoch_still_finishes():
    # 5 batches per epoch, a best at the end of the first, patience of 7
    # iterations: the patience seen after epochs goes 7, 2, -3 and never
    # equals 0 exactly.
    notifications = [None] * 4 + [True] + [None] * 10
    stop = FinishIfNoImprovementAfter('new_best', iterations=7)
    main_loop = run([WriteRecords('new_best', notifications,
                                  after_batch=True), stop], batches=5)
    assert main_loop.status['epochs_done'] == 3
    assert main_loop.log.current_row['new_best_patience_iterations'] == -3


def test_custom_patience_log_record():
    stop = FinishIfNoImprovementAfter('best', epochs=1,
                                      patience_log_record='patience')
    main_loop = run([WriteRecords('best', [True, None, None],
                                  after_epoch=True), stop])
    assert main_loop.status['epochs_done'] == 2
    assert main_loop.log.current_row['patience'] == 0


@pytest.mark.parametrize('kwargs', [{}, {'epochs': 2, 'iterations': 3}])
def test_exactly_one_of_epochs_and_iterations(kwargs):
    with pytest.raises(ValueError, match="exactly one of epochs or "
                                         "iterations"):
        FinishIfNoImprovementAfter('best', **kwargs)


@pytest.mark.parametrize('kwargs', [{'epochs': 0}, {'iterations': -1},
                                    {'epochs': 1.5}])
def test_patience_must_be_a_positive_integer(kwargs):
    with pytest.raises(ValueError, match="must be a positive integer"):
        FinishIfNoImprovementAfter('best', **kwargs)


# EarlyStopping

VALID_COSTS = [5., 4., 4.5, 3.9, 4.2, 4.0, 4.1, 3.0]


def test_early_stopping_stops_after_the_patience():
    # Best at epoch 4; three more epochs without improvement.
    main_loop = run([WriteRecords('valid_cost', VALID_COSTS,
                                  after_epoch=True),
                     EarlyStopping('valid_cost', epochs=3)])
    assert main_loop.status['epochs_done'] == 7
    assert main_loop.status['best_valid_cost'] == 3.9
    assert main_loop.log.current_row[
        'valid_cost_best_so_far_patience_epochs'] == 0


def improving_epochs(values):
    best, improved = None, []
    for epoch, value in enumerate(values, start=1):
        if best is None or value < best:
            best = value
            improved.append(epoch)
    return improved


def test_checkpoint_saves_the_best_after_each_improving_epoch():
    checkpoint = FakeCheckpoint('last.tar', after_epoch=True)
    main_loop = run([WriteRecords('valid_cost', VALID_COSTS,
                                  after_epoch=True),
                     EarlyStopping('valid_cost',
                                   checkpoint_extension=checkpoint,
                                   checkpoint_filename='best.tar', epochs=3)],
                    batches=2)
    best_saves = [(time, callback) for time, callback, path
                  in checkpoint.saves if path == 'best.tar']
    ends = main_loop.status['_epoch_ends']
    assert best_saves == [(ends[epoch - 1], 'after_epoch') for epoch
                          in improving_epochs(VALID_COSTS[:7])]
    # The checkpoint's own trigger still works.
    assert [time for time, _, path in checkpoint.saves
            if path == 'last.tar'] == ends


def test_checkpoint_saves_once_per_row_when_tracking_after_batches():
    # A record on every batch; 2 batches per epoch, so every second record
    # lands in a row where after_batch and after_epoch both see the
    # notification.
    costs = [5., 4., 4.5, 3.0, 3.5, 2.0, 2.5, 2.4, 2.3, 2.2]
    checkpoint = FakeCheckpoint('unused.tar')
    stopper = EarlyStopping('cost', checkpoint_extension=checkpoint,
                            checkpoint_filename='best.tar', iterations=100,
                            after_batch=True)
    run([WriteRecords('cost', costs, after_batch=True), stopper],
        batches=2, epochs=5)
    assert checkpoint.saves == [(1, 'after_batch', 'best.tar'),
                                (2, 'after_batch', 'best.tar'),
                                (4, 'after_batch', 'best.tar'),
                                (6, 'after_batch', 'best.tar')]


def test_checkpoint_listed_after_early_stopping_is_not_duplicated():
    checkpoint = FakeCheckpoint('last.tar')
    stopper = EarlyStopping('valid_cost', checkpoint_extension=checkpoint,
                            checkpoint_filename='best.tar', epochs=3)
    run([WriteRecords('valid_cost', [3., 2., 4.], after_epoch=True),
         stopper, checkpoint], epochs=3)
    assert checkpoint not in stopper.sub_extensions
    assert [path for _, _, path in checkpoint.saves] == ['best.tar',
                                                         'best.tar']


def test_checkpoint_listed_before_early_stopping_is_warned_about(caplog):
    checkpoint = FakeCheckpoint('last.tar')
    stopper = EarlyStopping('valid_cost', checkpoint_extension=checkpoint,
                            checkpoint_filename='best.tar', epochs=3)
    with caplog.at_level(logging.WARNING, logger='blocks.extensions'):
        run([checkpoint, WriteRecords('valid_cost', [3., 2.],
                                      after_epoch=True), stopper], epochs=2)
    assert "runs before this extension" in caplog.text


def test_early_stopping_keeps_the_upstream_after_batch_condition():
    checkpoint = FakeCheckpoint('last.tar')
    EarlyStopping('valid_cost', checkpoint_extension=checkpoint,
                  checkpoint_filename='best.tar', epochs=3)
    assert checkpoint._conditions[-1] == (
        'after_batch', OnLogRecord('valid_cost_best_so_far'), ('best.tar',))
    assert checkpoint._conditions[-2] == (
        'after_epoch', OnNewBestNotSaved('valid_cost_best_so_far', 'best.tar'),
        ('best.tar',))


def test_checkpoint_without_filename_is_refused():
    with pytest.raises(ValueError, match="without checkpoint_filename"):
        EarlyStopping('valid_cost', checkpoint_extension=FakeCheckpoint('x'),
                      epochs=3)


class SetParameterToEpoch(SimpleExtension):
    """Makes the 'trained' parameter identify the epoch that produced it."""

    def __init__(self, parameter, **kwargs):
        kwargs.setdefault('after_epoch', True)
        super().__init__(**kwargs)
        self.parameter = parameter

    def do(self, which_callback, *args):
        epoch = self.main_loop.status['epochs_done']
        self.parameter.set_value(numpy.full(3, epoch,
                                            dtype=self.parameter.dtype))


def test_best_checkpoint_on_disk_holds_the_parameters_of_the_best_epoch(
        tmp_path):
    from blocks.extensions.saveload import Checkpoint
    from blocks.serialization import load_parameters

    W = shared_floatx(numpy.zeros(3), name='W')
    best_path = str(tmp_path / 'best.tar')
    checkpoint = Checkpoint(str(tmp_path / 'last.tar'), parameters=[W],
                            save_main_loop=False, after_epoch=True)
    # Best (3.9) at epoch 4, then no improvement for 3 epochs.
    run([SetParameterToEpoch(W),
         WriteRecords('valid_cost', VALID_COSTS, after_epoch=True),
         EarlyStopping('valid_cost', checkpoint_extension=checkpoint,
                       checkpoint_filename=best_path, epochs=3)])
    with open(best_path, 'rb') as source:
        parameters = load_parameters(source)
    assert len(parameters) == 1
    numpy.testing.assert_array_equal(list(parameters.values())[0],
                                     numpy.full(3, 4.))
    with open(tmp_path / 'last.tar', 'rb') as source:
        last = load_parameters(source)
    numpy.testing.assert_array_equal(list(last.values())[0],
                                     numpy.full(3, 7.))
