"""Tests of the main loop: the run flow, errors, pickling and signals."""
import os
import pickle
import signal
import subprocess
import sys
import textwrap

import pytest

from blocks.extensions import FinishAfter, SimpleExtension
from blocks.log import SQLiteLog, TrainingLog
from blocks.main_loop import MainLoop
from blocks.utils.testing import MockAlgorithm
from tests.streams import ListStream


class WriteIteration(SimpleExtension):
    """Writes a record in every row so that logs can be compared."""

    def __init__(self, **kwargs):
        kwargs.setdefault('after_batch', True)
        kwargs.setdefault('after_epoch', True)
        super().__init__(**kwargs)

    def do(self, which_callback, *args):
        self.main_loop.log.current_row[f'seen_{which_callback}'] = (
            self.main_loop.status['iterations_done'])


class FinishAtIteration(SimpleExtension):
    def __init__(self, iteration, **kwargs):
        kwargs.setdefault('after_batch', True)
        super().__init__(**kwargs)
        self.iteration = iteration

    def do(self, which_callback, *args):
        if self.main_loop.status['iterations_done'] == self.iteration:
            self.main_loop.log.current_row['training_finish_requested'] = True


class Explode(SimpleExtension):
    """Fails after batch 3 and records what ``on_error`` receives."""

    def __init__(self, **kwargs):
        super().__init__(after_n_batches=3, on_error=True, **kwargs)
        self.errors = []

    def do(self, which_callback, *args):
        if which_callback == 'on_error':
            self.errors.extend(args)
            return
        raise RuntimeError("extension failed on purpose")


def test_two_epochs_of_ten_batches():
    main_loop = MainLoop(MockAlgorithm(), ListStream(range(10)),
                         extensions=[FinishAfter(after_n_epochs=2)])
    main_loop.run()
    assert main_loop.status['iterations_done'] == 20
    assert main_loop.status['epochs_done'] == 2
    assert main_loop.status['_epoch_ends'] == [10, 20]
    assert len(main_loop.log) == 20
    assert main_loop.log[20]['training_finish_requested']
    assert main_loop.log[20]['training_finished']
    assert main_loop.algorithm.batch == {'data': 9}


def test_run_again_after_a_finish_resumes_where_it_stopped():
    main_loop = MainLoop(MockAlgorithm(), ListStream(range(10)),
                         extensions=[FinishAtIteration(4)])
    main_loop.run()
    main_loop.extensions[0].iteration = 13
    main_loop.run()
    assert main_loop.status['iterations_done'] == 13
    assert main_loop.status['_epoch_ends'] == [10]
    assert main_loop.algorithm.batch == {'data': 2}
    assert main_loop.log.status['resumed_from'] is not None


def test_before_training_and_first_before_epoch_write_to_row_zero():
    class WriteBefore(SimpleExtension):
        def do(self, which_callback, *args):
            self.main_loop.log.current_row[str(which_callback)] = True

    main_loop = MainLoop(
        MockAlgorithm(), ListStream(range(3)),
        extensions=[WriteBefore(before_training=True, before_epoch=True),
                    FinishAfter(after_n_epochs=1)])
    main_loop.run()
    assert main_loop.log[0] == {'before_training': True,
                                'before_epoch': True}


def test_an_epoch_with_zero_batches_is_an_error():
    main_loop = MainLoop(MockAlgorithm(), ListStream([]),
                         extensions=[FinishAfter(after_n_epochs=1)])
    with pytest.raises(ValueError, match="epoch iterator yielded zero"):
        main_loop.run()


def test_extension_error_runs_on_error_and_is_reraised():
    # Whatever handler the process had (a shell may start it ignoring
    # SIGINT) is put back.
    handler_before = signal.getsignal(signal.SIGINT)
    explode = Explode()
    main_loop = MainLoop(MockAlgorithm(), ListStream(range(10)),
                         extensions=[explode, FinishAfter(after_n_epochs=1)])
    with pytest.raises(RuntimeError, match="extension failed on purpose"):
        main_loop.run()
    assert len(explode.errors) == 1
    assert isinstance(explode.errors[0], RuntimeError)
    assert 'extension failed on purpose' in main_loop.log[3]['got_exception']
    assert 'training_finished' not in main_loop.log.current_row
    assert signal.getsignal(signal.SIGINT) is handler_before


def test_find_extension():
    finish = FinishAfter(after_n_epochs=1)
    main_loop = MainLoop(MockAlgorithm(), ListStream([1]),
                         extensions=[finish, WriteIteration()])
    assert main_loop.find_extension('FinishAfter') is finish
    with pytest.raises(ValueError, match="found 0"):
        main_loop.find_extension('Printing')


def test_model_is_required_by_extensions_that_use_it():
    main_loop = MainLoop(MockAlgorithm(), ListStream([1]))
    with pytest.raises(AttributeError, match="requires the main loop"):
        main_loop.model  # noqa: B018 - reading it raises


def test_unknown_log_backend_lists_the_valid_ones():
    with pytest.raises(ValueError, match="python.*sqlite"):
        MainLoop(MockAlgorithm(), ListStream([1]), log_backend='csv')


def test_iteration_state_is_the_stream_and_its_iterator():
    stream = ListStream([1, 2])
    main_loop = MainLoop(MockAlgorithm(), stream,
                         extensions=[FinishAtIteration(1)])
    main_loop.run()
    data_stream, epoch_iterator = main_loop.iteration_state
    assert data_stream is stream
    assert next(epoch_iterator) == {'data': 2}
    other = ListStream([5])
    main_loop.iteration_state = (other, other.get_epoch_iterator())
    assert main_loop.data_stream is other


def make_log(backend, tmp_path):
    if backend == 'python':
        return TrainingLog()
    return SQLiteLog(database=str(tmp_path / 'log.sqlite'))


def log_rows(log):
    return {time: dict(log[time]) for time in log}


@pytest.mark.parametrize('backend', ['python', 'sqlite'])
def test_pickled_mid_epoch_resumes_with_the_same_log(backend, tmp_path):
    def new_loop(finish_at):
        return MainLoop(MockAlgorithm(), ListStream(range(7)),
                        log=make_log(backend, tmp_path),
                        extensions=[WriteIteration(),
                                    FinishAtIteration(finish_at),
                                    FinishAfter(after_n_epochs=3)])

    uninterrupted = new_loop(finish_at=-1)
    uninterrupted.run()

    interrupted = new_loop(finish_at=10)
    interrupted.run()
    assert interrupted.status['iterations_done'] == 10
    resumed = pickle.loads(pickle.dumps(interrupted))
    resumed.run()

    assert resumed.status['iterations_done'] == 21
    assert resumed.status['_epoch_ends'] == [7, 14, 21]
    expected = log_rows(uninterrupted.log)
    got = log_rows(resumed.log)
    # The interrupted run finished once at iteration 10: those two records
    # are the only difference.
    assert got[10].pop('training_finish_requested')
    assert got[10].pop('training_finished')
    assert got == expected


def test_profile_report_when_profiling_is_on(capsys, monkeypatch):
    from blocks.config import config
    monkeypatch.setattr(config, 'profile', True)
    main_loop = MainLoop(MockAlgorithm(), ListStream(range(3)),
                         extensions=[WriteIteration(),
                                     FinishAfter(after_n_epochs=1)])
    main_loop.run()
    report = capsys.readouterr().err
    assert 'Section' in report and '% of total' in report
    assert 'Read data' in report and 'Train' in report
    assert main_loop.profile.total[('training', 'epoch', 'train')] > 0


def test_a_duck_typed_extension_without_responds_to_is_dispatched():
    calls = []

    class Duck:
        name = 'duck'

        def dispatch(self, callback_name, *args):
            calls.append(str(callback_name))

    main_loop = MainLoop(MockAlgorithm(), ListStream([1]),
                         extensions=[Duck(), FinishAfter(after_n_epochs=1)])
    main_loop.run()
    assert calls == ['before_training', 'before_epoch', 'before_batch',
                     'after_batch', 'after_epoch', 'after_training']


SIGNAL_SCRIPT = textwrap.dedent('''
    import json, sys, time
    from blocks.extensions import SimpleExtension, TrainingExtension
    from blocks.log import SQLiteLog, TrainingLog
    from blocks.main_loop import MainLoop
    from blocks.utils.testing import MockAlgorithm
    from tests.streams import ListStream

    class Announce(SimpleExtension):
        def do(self, which_callback, *args):
            done = self.main_loop.status['iterations_done']
            self.main_loop.log.current_row['announced'] = done
            print('batch', done, flush=True)

    class Callbacks(TrainingExtension):
        called = []
        def after_epoch(self):
            self.called.append('after_epoch')
        def after_training(self):
            self.called.append('after_training')
        def on_interrupt(self):
            self.called.append('on_interrupt')

    if sys.argv[1] == 'sqlite':
        log = SQLiteLog(database=sys.argv[2])
    else:
        log = TrainingLog()
    callbacks = Callbacks()
    main_loop = MainLoop(MockAlgorithm(delay_time=0.05),
                         ListStream(range(20)), log=log,
                         extensions=[Announce(after_batch=True), callbacks])
    main_loop.run()
    rows = {str(time): dict(log[time]) for time in log}
    print(json.dumps({
        'rows': {time: {key: value for key, value in row.items()
                        if key != 'training_finished'}
                 for time, row in rows.items()},
        'iterations_done': main_loop.status['iterations_done'],
        'epochs_done': main_loop.status['epochs_done'],
        'finished': main_loop.log.current_row.get('training_finished'),
        'epoch_interrupt': main_loop.status['epoch_interrupt_received'],
        'batch_interrupt': main_loop.status['batch_interrupt_received'],
        'called': callbacks.called}), flush=True)
''')


def run_and_signal(signals, backend='python', database=''):
    """Run a training subprocess, sending signals once batch 3 is done."""
    import json
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    process = subprocess.Popen(
        [sys.executable, '-c', SIGNAL_SCRIPT, backend, str(database)],
        cwd=root,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=root))
    # One signal per announced batch from batch 3 on: two signals sent at
    # once could reach Python's handler as one.
    pending = list(signals)
    for line in process.stdout:
        if line.startswith('batch ') and int(line.split()[1]) >= 3:
            process.send_signal(pending.pop(0))
            if not pending:
                break
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_sigint_finishes_the_epoch():
    result = run_and_signal([signal.SIGINT])
    assert result['iterations_done'] == 20
    assert result['epochs_done'] == 1
    assert result['epoch_interrupt'] and not result['batch_interrupt']
    assert result['finished']
    assert result['called'] == ['after_epoch', 'on_interrupt',
                                'after_training']


@pytest.mark.parametrize('signals', [[signal.SIGTERM],
                                     [signal.SIGINT, signal.SIGINT]],
                         ids=['sigterm', 'second-sigint'])
def test_sigterm_or_second_sigint_finish_the_batch(signals):
    result = run_and_signal(signals)
    # Stopped mid-epoch, after the batch during which the signal came.
    assert 3 <= result['iterations_done'] < 20
    assert result['epochs_done'] == 0
    assert result['batch_interrupt']
    assert result['finished']
    assert result['called'] == ['on_interrupt', 'after_training']


@pytest.mark.parametrize('backend', ['python', 'sqlite'])
def test_a_double_sigint_loses_no_log_record(backend, tmp_path):
    # The handlers only note the signals; the loop writes the records
    # after the batch, so no row loses the record an extension wrote.
    result = run_and_signal([signal.SIGINT, signal.SIGINT], backend,
                            tmp_path / 'log.sqlite')
    rows = result['rows']
    done = result['iterations_done']
    assert sorted(map(int, rows)) == list(range(1, done + 1))
    for time, row in rows.items():
        assert row['announced'] == int(time)
    epoch_rows = [int(t) for t, row in rows.items()
                  if row.get('epoch_interrupt_received')]
    batch_rows = [int(t) for t, row in rows.items()
                  if row.get('batch_interrupt_received')]
    assert len(epoch_rows) == 1 and batch_rows == [done]
    assert 3 <= epoch_rows[0] <= done


SQLITE_WRITER_SCRIPT = textwrap.dedent('''
    import sys
    from blocks.extensions import FinishAfter, SimpleExtension
    from blocks.log import SQLiteLog
    from blocks.main_loop import MainLoop
    from blocks.utils.testing import MockAlgorithm
    from tests.streams import ListStream

    class Record(SimpleExtension):
        def do(self, which_callback, *args):
            log = self.main_loop.log
            if which_callback == 'before_training':
                print(log.h_uuid, flush=True)
            else:
                log.current_row['iteration'] = log.status['iterations_done']

    log = SQLiteLog(database=sys.argv[1])
    MainLoop(MockAlgorithm(delay_time=0.02), ListStream(range(5)), log=log,
             extensions=[Record(before_training=True, after_batch=True),
                         FinishAfter(after_n_epochs=40)]).run()
''')


def test_sqlite_log_is_read_by_another_process_while_training(tmp_path):
    import time
    from uuid import UUID
    database = str(tmp_path / 'log.sqlite')
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    process = subprocess.Popen(
        [sys.executable, '-c', SQLITE_WRITER_SCRIPT, database], cwd=root,
        stdout=subprocess.PIPE, text=True,
        env=dict(os.environ, PYTHONPATH=root))
    try:
        uuid = UUID(process.stdout.readline().strip())
        seen_while_running = 0
        deadline = time.monotonic() + 30
        while process.poll() is None and time.monotonic() < deadline:
            reader = SQLiteLog(database=database, uuid=uuid)
            rows = [time_ for time_ in reader if 'iteration' in reader[time_]]
            if rows and process.poll() is None:
                assert all(reader[time_]['iteration'] == time_
                           for time_ in rows)
                seen_while_running = max(seen_while_running, len(rows))
            reader.conn.close()
            time.sleep(0.1)
        assert seen_while_running >= 5
    finally:
        process.wait(timeout=60)
    assert process.returncode == 0
    final = SQLiteLog(database=database, uuid=uuid)
    assert len([t for t in final if 'iteration' in final[t]]) == 200


def test_stream_sources_that_do_not_match_the_algorithm_fail_before_training():
    import pytensor
    from pytensor import tensor

    from blocks.algorithms import UpdatesAlgorithm

    features = tensor.vector('features')
    total = pytensor.shared(0.)
    algorithm = UpdatesAlgorithm(updates=[(total, total + features.sum())])
    started = []

    class Started(SimpleExtension):
        def do(self, which_callback, *args):
            started.append(which_callback)

    main_loop = MainLoop(algorithm, ListStream([1.]),
                         extensions=[Started(before_training=True),
                                     FinishAfter(after_n_epochs=1)])
    with pytest.raises(ValueError, match="(?s)features.*data"):
        main_loop.run()
    assert started == []


def test_a_signal_handler_writes_nothing_and_the_loop_records_it_after():
    handler_before = signal.getsignal(signal.SIGINT)
    seen = {}

    class SignalSelf(SimpleExtension):
        def do(self, which_callback, *args):
            if which_callback == 'on_interrupt':
                seen['on_interrupt_at'] = self.main_loop.status[
                    'iterations_done']
                return
            os.kill(os.getpid(), signal.SIGINT)
            # The handler has run by now; it only noted the signal.
            seen['in_row_at_once'] = dict(self.main_loop.log.current_row)
            seen['status_at_once'] = self.main_loop.status[
                'epoch_interrupt_received']

    main_loop = MainLoop(MockAlgorithm(), ListStream(range(5)),
                         extensions=[SignalSelf(after_n_batches=2,
                                                on_interrupt=True)])
    main_loop.run()
    assert seen['in_row_at_once'] == {}
    assert seen['status_at_once'] is False
    assert main_loop.log[2]['epoch_interrupt_received'] is True
    assert main_loop.status['iterations_done'] == 5
    assert main_loop.log[5]['training_finished']
    assert seen['on_interrupt_at'] == 5
    assert signal.getsignal(signal.SIGINT) is handler_before
