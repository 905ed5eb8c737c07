"""The log-record protocol: one definition, one rule for notifications."""
import pytest

from blocks.extensions import protocol, saveload
from blocks.extensions.predicates import OnLogRecord
from blocks.extensions.record_watch import OnNewBestNotSaved
from blocks.extensions.stopping import FinishIfNoImprovementAfter
from blocks.log import TrainingLog
from blocks.main_loop import MainLoop
from blocks.utils.testing import MockAlgorithm
from tests.streams import ListStream


def test_saveload_names_are_the_protocol_names():
    assert saveload.SAVED_TO == protocol.SAVED_TO == 'saved_to'
    assert saveload.LOADED_FROM == protocol.LOADED_FROM == 'loaded_from'


def stopper_after_notifications(values):
    """Run FinishIfNoImprovementAfter over rows with these notifications."""
    log = TrainingLog()
    stopper = FinishIfNoImprovementAfter('cost_best_so_far', iterations=2,
                                         after_epoch=False, after_batch=True)
    main_loop = MainLoop(MockAlgorithm(), ListStream(range(len(values))),
                         log=log, extensions=[stopper])
    stopper.main_loop = main_loop
    for iteration, value in enumerate(values, start=1):
        log.status['iterations_done'] = iteration
        if value is not None:
            log.current_row['cost_best_so_far'] = value
        stopper.do('after_batch')
    return stopper


@pytest.mark.parametrize('value, notified', [
    (True, True), (1, True), (False, False), (0, False), (None, False)])
def test_every_watcher_reads_a_notification_the_same_way(value, notified):
    log = TrainingLog()
    if value is not None:
        log.current_row['cost_best_so_far'] = value
    assert protocol.record_notified(log.current_row,
                                    'cost_best_so_far') is notified
    assert OnLogRecord('cost_best_so_far')(log) is notified
    assert OnNewBestNotSaved('cost_best_so_far', 'best.tar')(log) is notified
    stopper = stopper_after_notifications([value])
    assert (stopper.last_best_iter == 1) is notified


def test_a_false_notification_does_not_reset_the_patience():
    stopper = stopper_after_notifications([True, None, False])
    assert stopper.last_best_iter == 1
    log = stopper.main_loop.log
    assert log[3]['cost_best_so_far_patience_iterations'] == 0
    assert log[3][protocol.TRAINING_FINISH_REQUESTED]
