"""Printing as a user reads it: short numbers, same text for both logs."""
import re

import numpy
import pytest

from blocks.extensions import FinishAfter, Printing, SimpleExtension
from blocks.log import SQLiteLog, TrainingLog
from blocks.main_loop import MainLoop
from blocks.utils.testing import MockAlgorithm
from tests.streams import ListStream


class WriteRecords(SimpleExtension):
    """Writes the kinds of values monitoring and other extensions write."""

    def __init__(self, **kwargs):
        kwargs.setdefault('after_batch', True)
        super().__init__(**kwargs)

    def do(self, which_callback, *args):
        row = self.main_loop.log.current_row
        done = self.main_loop.status['iterations_done']
        row['train_cost'] = numpy.float32(0.01)
        row['valid_error_rate'] = numpy.array(1 / 3)
        row['weights_norm'] = numpy.full((20, 10), 2.0, dtype='float32')
        row['steps'] = numpy.arange(3)
        row['train_cost_best_so_far'] = True
        row['epoch_fraction'] = done / 3
        row['_private'] = 'hidden'


def printed(backend, tmp_path, capsys, **printing):
    log = (TrainingLog() if backend == 'python'
           else SQLiteLog(database=str(tmp_path / f'{backend}.sqlite')))
    main_loop = MainLoop(MockAlgorithm(), ListStream(range(3)), log=log,
                         extensions=[WriteRecords(),
                                     FinishAfter(after_n_epochs=1),
                                     Printing(**printing)])
    capsys.readouterr()
    main_loop.run()
    # Every run has its own identifier; the rest must be the same.
    return re.sub(r'run_id: \w+', 'run_id: <run id>',
                  capsys.readouterr().out)


def test_both_log_backends_print_the_same(tmp_path, capsys):
    python = printed('python', tmp_path, capsys)
    sqlite = printed('sqlite', tmp_path, capsys)
    assert python == sqlite
    assert '\t training_finish_requested: True\n' in python


def test_the_report_reads_well(tmp_path, capsys):
    report = printed('python', tmp_path, capsys).split(
        'TRAINING HAS BEEN FINISHED:')[1]
    records = report.split('Log records from the iteration 3:\n')[1]
    assert records.splitlines()[:-1] == [
        # What says where training stands first, then the rest; sorted.
        '\t train_cost_best_so_far: True',
        '\t training_finish_requested: True',
        '\t training_finished: True',
        '\t epoch_fraction: 1',
        '\t steps: [0 1 2]',
        '\t train_cost: 0.01',
        '\t valid_error_rate: 0.333333',
        ('\t weights_norm: array(shape=(20, 10), dtype=float32, mean=2, '
         'min=2, max=2)')]
    status = report.split('Training status:\n')[1].split('Log records')[0]
    assert status.splitlines() == [
        '\t batch_interrupt_received: False',
        '\t epoch_interrupt_received: False',
        '\t epoch_started: False',
        '\t epochs_done: 1',
        '\t iterations_done: 3',
        '\t received_first_batch: True',
        '\t resumed_from: None',
        '\t training_started: True',
        '\t run_id: <run id>']


@pytest.mark.parametrize('backend', ['python', 'sqlite'])
def test_compact_line_every_n_batches(backend, tmp_path, capsys):
    out = printed(backend, tmp_path, capsys, every_n_batches=2,
                  before_first_epoch=False, after_epoch=False,
                  after_training=False)
    assert out.splitlines() == [
        ('Iteration 2 (epoch 0): train_cost_best_so_far=True '
         'epoch_fraction=0.666667 steps=[0 1 2] train_cost=0.01 '
         'valid_error_rate=0.333333 weights_norm=array(shape=(20, 10), '
         'dtype=float32, mean=2, min=2, max=2)')]


def test_digits_and_full_report_after_batches(tmp_path, capsys):
    out = printed('python', tmp_path, capsys, every_n_batches=3,
                  compact=False, digits=2, before_first_epoch=False,
                  after_epoch=False, after_training=False)
    assert out.count('-' * 79) == 2
    assert '\t valid_error_rate: 0.33\n' in out
