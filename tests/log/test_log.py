"""Tests of the log interface, the python backend and the backend table."""
import pickle
from uuid import UUID, uuid4

import pytest

from blocks.log import (BACKENDS, SQLiteLog, TrainingLog, TrainingLogBase,
                        get_backend)


def test_new_log_has_a_seeded_status_and_a_uuid():
    log = TrainingLog()
    assert log.status == {'iterations_done': 0, 'epochs_done': 0,
                          '_epoch_ends': [], 'resumed_from': None,
                          'run_id': log.h_uuid}
    assert isinstance(log.uuid, UUID)
    assert log.h_uuid == log.uuid.hex


def test_reading_a_row_creates_it():
    log = TrainingLog()
    assert log[1] == {}
    assert len(log) == 1
    log[0]['field'] = 45
    assert log[0]['field'] == 45
    assert len(log) == 2
    assert sorted(log) == [0, 1]


@pytest.mark.parametrize('time', [-1, 1.0, '1', None])
def test_time_must_be_a_non_negative_integer(time):
    log = TrainingLog()
    with pytest.raises(ValueError, match="non-negative integer"):
        log[time]
    with pytest.raises(ValueError, match="non-negative integer"):
        log[time] = {}


def test_current_previous_and_last_epoch_rows():
    log = TrainingLog()
    log.status['iterations_done'] = 5
    log.status['_epoch_ends'] = [2, 4]
    log.current_row['now'] = True
    log.previous_row['before'] = True
    log.last_epoch_row['epoch'] = True
    assert log[5] == {'now': True}
    assert log[4] == {'before': True, 'epoch': True}


def test_pickling_keeps_rows_status_and_uuid():
    log = TrainingLog()
    log[2]['cost'] = 1.5
    log.status['iterations_done'] = 2
    copy = pickle.loads(pickle.dumps(log))
    assert isinstance(copy, TrainingLog)
    assert copy.uuid == log.uuid
    assert copy.status == log.status
    assert copy[2] == {'cost': 1.5}
    assert copy[3] == {}  # still a defaultdict


def test_resume_switches_uuid_and_keeps_status():
    log = TrainingLog()
    log.status['iterations_done'] = 7
    old = log.h_uuid
    log.resume()
    assert log.h_uuid != old
    assert log.status['iterations_done'] == 7
    assert log.status['resumed_from'] == old
    assert log.run_id == old


def test_flush_is_a_no_op_for_the_python_backend():
    log = TrainingLog()
    log[0]['a'] = 1
    assert log.flush() is None
    assert log[0] == {'a': 1}


def test_base_with_a_given_uuid_leaves_the_status_alone():
    class DictLog(dict, TrainingLogBase):
        def __init__(self, uuid=None):
            self.status = {'mine': True}
            TrainingLogBase.__init__(self, uuid=uuid)

    uuid = uuid4()
    log = DictLog(uuid=uuid)
    assert log.uuid is uuid
    assert log.status == {'mine': True}
    assert DictLog().status['iterations_done'] == 0


def test_backends_are_python_and_sqlite():
    assert BACKENDS == {'python': TrainingLog, 'sqlite': SQLiteLog}
    assert get_backend('python') is TrainingLog
    assert get_backend('sqlite') is SQLiteLog


def test_unknown_backend_lists_the_valid_ones():
    with pytest.raises(ValueError,
                       match="'csv'.*'python', 'sqlite'.*log_backend"):
        get_backend('csv')
