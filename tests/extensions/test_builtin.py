"""Tests of the extensions that ship with blocks.extensions."""
import datetime

import pytest

from blocks.extensions import (FinishAfter, Printing, ProgressBar,
                               Timestamp, Timing)
from blocks.extensions.predicates import OnLogRecord
from blocks.log import TrainingLog
from blocks.main_loop import MainLoop
from blocks.utils.testing import MockAlgorithm
from tests.streams import ListStream


class Scheme:
    """An iteration scheme as ProgressBar sees it."""

    def __init__(self, **attributes):
        self.__dict__.update(attributes)


def run(extensions, stream=None, epochs=1):
    main_loop = MainLoop(MockAlgorithm(), stream or ListStream(range(4)),
                         extensions=extensions +
                         [FinishAfter(after_n_epochs=epochs)])
    main_loop.run()
    return main_loop


def test_finish_after_n_batches():
    main_loop = run([FinishAfter(after_n_batches=3)])
    assert main_loop.status['iterations_done'] == 3
    assert main_loop.log[3]['training_finish_requested']


def test_printing_output(capsys):
    main_loop = run([Printing()], epochs=1)
    out = capsys.readouterr().out
    banner = '-' * 79
    assert f'\n{banner}\nBEFORE FIRST EPOCH\n{banner}\nTraining status:' in out
    assert 'AFTER ANOTHER EPOCH' in out
    assert 'TRAINING HAS BEEN FINISHED:' in out
    assert 'Log records from the iteration 4:' in out
    assert '\t training_finish_requested: True\n' in out
    # Keys starting with an underscore are private.
    assert '_epoch_ends' not in out
    assert '\t iterations_done: 4\n' in out
    assert main_loop.status['epochs_done'] == 1


def test_printing_on_interrupt_prints_no_status(capsys):
    printing = Printing()
    printing.main_loop = MainLoop(MockAlgorithm(), ListStream([1]))
    printing.do('on_interrupt')
    out = capsys.readouterr().out
    assert 'TRAINING HAS BEEN INTERRUPTED' in out
    assert 'Training status' not in out


def test_timing_records():
    main_loop = run([Timing(every_n_batches=2)], epochs=2)
    log = main_loop.log
    assert log[0]['time_initialization'] >= 0
    for row in (2, 4, 6, 8):
        assert log[row]['time_train_this_batch'] >= 0
        assert log[row]['time_read_data_this_batch'] >= 0
    assert log[8]['time_train_this_epoch'] >= 0
    assert log[8]['time_train_total'] == pytest.approx(
        main_loop.profile.total[('training', 'epoch', 'train')])


def test_timing_prefix():
    main_loop = run([Timing(prefix='my', after_batch=True)])
    assert 'my_time_train_this_batch' in main_loop.log[1]
    assert 'time_initialization' in main_loop.log[0]


def test_timing_rejects_other_callbacks():
    timing = Timing()
    timing.main_loop = MainLoop(MockAlgorithm(), ListStream([1]))
    with pytest.raises(ValueError, match="Timing can not be triggered"):
        timing.do('after_training')


def test_timestamp_writes_iso_timestamps():
    main_loop = run([Timestamp(separator='T')])
    stamp = main_loop.log[4]['timestamp']
    assert datetime.datetime.fromisoformat(stamp)
    assert 'T' in stamp
    assert 'timestamp' in main_loop.log[0]


def test_timestamp_custom_record_and_disabled_trigger():
    main_loop = run([Timestamp(log_record='when', before_training=False)])
    assert 'when' not in main_loop.log[0]
    assert 'when' in main_loop.log[4]


def test_on_log_record():
    log = TrainingLog()
    predicate = OnLogRecord('saved')
    assert not predicate(log)
    log.current_row['saved'] = True
    assert predicate(log)
    assert predicate == OnLogRecord('saved')
    assert predicate != OnLogRecord('other')


@pytest.mark.parametrize('scheme, expected', [
    (Scheme(indices=list(range(10))), 10),
    (Scheme(indices=list(range(10)), batch_size=3), 3),
    (Scheme(num_examples=100, batch_size=10), 10),
    (Scheme(), None),
    (None, None)])
def test_progress_bar_infers_iterations_per_epoch(scheme, expected):
    stream = ListStream([1])
    if scheme is not None:
        stream.iteration_scheme = scheme
    bar = ProgressBar()
    bar.main_loop = MainLoop(MockAlgorithm(), stream)
    assert bar.get_iter_per_epoch() == expected


@pytest.mark.parametrize('scheme', [Scheme(num_examples=8, batch_size=2),
                                    Scheme(num_examples=4, batch_size=2),
                                    None])
def test_progress_bar_runs_with_and_without_known_length(scheme, capsys):
    stream = ListStream(range(4))
    if scheme is not None:
        stream.iteration_scheme = scheme
    bar = ProgressBar()
    main_loop = run([bar], stream=stream, epochs=2)
    assert main_loop.status['iterations_done'] == 8
    assert bar.bar is None
    err = capsys.readouterr().err
    assert 'Epoch 0, step' in err and 'Epoch 1, step' in err


def test_timestamp_subclass_overrides_get_timestamp():
    class Fixed(Timestamp):
        def get_timestamp(self):
            return 'fixed ' + self.separator

    main_loop = MainLoop(MockAlgorithm(), ListStream(range(2)),
                         extensions=[Fixed(separator='T', log_record='when'),
                                     FinishAfter(after_n_epochs=1)])
    main_loop.run()
    assert main_loop.log[0]['when'] == 'fixed T'
    assert main_loop.log[2]['when'] == 'fixed T'


def test_timestamp_default_is_now_in_iso_format():
    before = datetime.datetime.now()
    stamp = Timestamp(separator='T').get_timestamp()
    after = datetime.datetime.now()
    assert before <= datetime.datetime.fromisoformat(stamp) <= after
    assert stamp[10] == 'T'
