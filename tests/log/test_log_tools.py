"""blocks-log, the reading API, Plot and TensorBoard on a real resumed run."""
import csv
import gc
import json
import os
import sqlite3
import struct
import subprocess
import sys
from types import SimpleNamespace

import numpy
import pytest

import blocks
from blocks.extensions.plot import Plot
from blocks.log import (NotALogError, SQLiteLog, TrainingLog,
                        UnknownRecordError, UnknownRunError, follow_rows,
                        list_runs, read_dataframe, read_rows)
from blocks.log.plotting import NotNumericError
from blocks.log.sqlite import PickledValueError
from blocks.scripts.log_tool import main as blocks_log
from tests.log import short_run

REPO = os.path.dirname(os.path.dirname(os.path.abspath(blocks.__file__)))
ITERATIONS = short_run.EPOCHS * short_run.BATCHES_PER_EPOCH


def png_size(path):
    with open(path, 'rb') as file_:
        header = file_.read(24)
    assert header[:8] == b'\x89PNG\r\n\x1a\n', "not a PNG file"
    return struct.unpack('>II', header[16:24])


def read_events(logdir):
    """``[(tag, step, value)]`` of every scalar in the event files.

    An independent reader of the TFRecord format (length, masked CRC, data,
    masked CRC), checking the length's checksum with tensorboardX's CRC.
    """
    from tensorboardX.crc32c import crc32c
    from tensorboardX.proto.event_pb2 import Event

    def masked(data):
        crc = crc32c(data)
        return (((crc >> 15) | (crc << 17)) + 0xa282ead8) & 0xffffffff

    scalars = []
    for name in sorted(os.listdir(logdir)):
        content = open(os.path.join(logdir, name), 'rb').read()
        offset = 0
        while offset < len(content):
            header = content[offset:offset + 8]
            length, = struct.unpack('<Q', header)
            crc, = struct.unpack('<I', content[offset + 8:offset + 12])
            assert crc == masked(header)
            data = content[offset + 12:offset + 12 + length]
            offset += 12 + length + 4
            event = Event.FromString(data)
            for value in event.summary.value:
                scalars.append((value.tag, event.step, value.simple_value))
    return scalars


READER = """
import sys
from blocks.log import SQLiteLog
log = SQLiteLog(sys.argv[1], run_id=sys.argv[2])
for _ in range(2):
    print(log.status['iterations_done'], len(log),
          *(log[time]['cost'] for time in log), flush=True)
    sys.stdin.readline()
"""


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    """A real run: crashed after batch 8, resumed from batch 6, finished."""
    pytest.importorskip('matplotlib')
    pytest.importorskip('tensorboardX')
    from blocks.extensions.tensorboard import TensorBoard
    directory = str(tmp_path_factory.mktemp('run'))
    png = os.path.join(directory, 'curves.png')
    logdir = os.path.join(directory, 'events')
    pictures = {}
    short_run.Snapshot.hooks = [lambda main_loop: pictures.setdefault(
        main_loop.status['epochs_done'], open(png, 'rb').read())]
    extensions = [Plot(png, ['cost+train_cost', 'train_cost']),
                  TensorBoard(logdir, every_n_batches=1)]
    first = short_run.build(directory, extensions)
    with pytest.raises(short_run.Crash):
        first.run()
    before_crash = {time: first.log[time]['cost']
                    for time in range(1, short_run.CRASH_AFTER + 1)}
    events_before_resume = read_events(logdir)
    run_id = first.log.run_id
    del first
    gc.collect()
    # Another process opens the run by its id before the resumption.
    reader = subprocess.Popen(
        [sys.executable, '-c', READER, os.path.join(directory, 'log.sqlite'),
         run_id], env=dict(os.environ, PYTHONPATH=REPO), text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    before_resume = reader.stdout.readline().split()
    resumed = short_run.resume(directory)
    after_resume = reader.communicate('again\n', timeout=60)[0].split()
    short_run.Snapshot.hooks = []
    costs = {time: resumed.log[time]['cost']
             for time in range(1, ITERATIONS + 1)}
    yield SimpleNamespace(
        directory=directory, database=os.path.join(directory, 'log.sqlite'),
        png=png, logdir=logdir, pictures=pictures, costs=costs,
        before_crash=before_crash, run_id=resumed.log.run_id,
        events_before_resume=events_before_resume,
        reader=(before_resume, after_resume))
    del resumed
    gc.collect()


def test_the_run_is_listed_once_with_its_resumption(run, capsys):
    runs = list_runs(run.database)
    assert len(runs) == 1
    listed, = runs
    assert listed.run_id == run.run_id
    assert listed.state == 'finished'
    assert listed.resumptions == 1
    assert listed.iterations_done == ITERATIONS
    assert listed.epochs_done == short_run.EPOCHS
    assert blocks_log(['runs', run.database]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3  # header, rule, one run
    assert lines[2].split()[0] == run.run_id
    assert lines[2].split()[-2:] == ['finished', '1']


def test_show_lists_every_row_of_the_run(run, capsys):
    assert blocks_log(['show', run.database, run.run_id[:8],
                       '--records', 'cost,train_cost']) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"run {run.run_id}: {ITERATIONS} rows"
    assert lines[1].split() == ['iteration', 'cost', 'train_cost']
    table = [line.split() for line in lines[3:]]
    assert [int(row[0]) for row in table] == list(range(1, ITERATIONS + 1))
    for row in table:
        assert float(row[1]) == pytest.approx(run.costs[int(row[0])],
                                              rel=1e-5)
    assert [len(row) for row in table].count(3) == short_run.EPOCHS
    assert blocks_log(['show', run.database, '--last', '2', '--every', '5',
                       '--records', 'train_cost']) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[3:]] == ['10', '15']


def test_a_reader_process_follows_the_run_by_its_id(run):
    before, after = run.reader
    # Before the resumption: everything the crashed process wrote.
    assert before[:2] == [str(short_run.CRASH_AFTER)] * 2
    assert [float(cost) for cost in before[2:]] == [
        run.before_crash[time] for time in range(1, short_run.CRASH_AFTER + 1)]
    # After it: the resumed run, through all its checkpoints, to the end.
    assert after[:2] == [str(ITERATIONS)] * 2
    assert [float(cost) for cost in after[2:]] == [
        run.costs[time] for time in range(1, ITERATIONS + 1)]


def test_follow_rows_sees_rows_as_they_are_written(tmp_path):
    path = str(tmp_path / 'log.sqlite')
    log = SQLiteLog(path)
    seen = []

    def write_more():
        time = len(seen)
        log[time]['cost'] = float(time)
        log.status['iterations_done'] = time
        if time == 4:
            log[time]['training_finished'] = True
        log.flush()
        return False

    for row in follow_rows(path, log.run_id, ['cost'], interval=0.01,
                           stop=write_more):
        seen.append(row)
    assert seen == [{'iteration': time, 'cost': float(time)}
                    for time in range(5)]


def test_the_resumed_rows_replace_those_written_after_the_checkpoint(run):
    rows = read_rows(run.database, run.run_id, ['cost'])
    assert [row['iteration'] for row in rows] == list(
        range(1, ITERATIONS + 1))
    assert {row['iteration']: row['cost'] for row in rows} == run.costs
    # Resuming is exact: the crashed process logged the same costs.
    for time, cost in run.before_crash.items():
        assert run.costs[time] == cost


def test_follow_prints_every_row_of_a_finished_run_and_stops(run, capsys):
    assert blocks_log(['follow', run.database, '--records', 'cost',
                       '--interval', '0.01']) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [int(line.split(':')[0]) for line in lines] == list(
        range(1, ITERATIONS + 1))
    assert lines[0] == f"1: cost={float(run.costs[1]):.6g}"


def test_csv_export_round_trips(run, tmp_path):
    path = tmp_path / 'log.csv'
    assert blocks_log(['export', run.database, '--format', 'csv', '-o',
                       str(path)]) == 0
    expected = read_rows(run.database)
    with open(path, newline='') as file_:
        exported = list(csv.DictReader(file_))
    assert len(exported) == len(expected)
    for row, reference in zip(exported, expected, strict=True):
        assert int(row['iteration']) == reference['iteration']
        for key in ('cost', 'train_cost'):
            if key in reference:
                assert float(row[key]) == float(reference[key])
            else:
                assert row[key] == ''


def test_json_export_and_dataframe_hold_the_same_rows(run, capsys):
    pandas = pytest.importorskip('pandas')
    assert blocks_log(['export', run.database, '--format', 'json',
                       '--records', 'cost']) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported['run_id'] == run.run_id
    frame = read_dataframe(run.database, records=['cost', 'train_cost'])
    assert isinstance(frame, pandas.DataFrame)
    assert list(frame.index) == [row['iteration']
                                 for row in exported['rows']]
    assert numpy.allclose(frame['cost'], [row['cost']
                                          for row in exported['rows']])
    assert frame['train_cost'].notna().sum() == short_run.EPOCHS


def test_plot_extension_draws_every_epoch_atomically(run):
    assert png_size(run.png) == (800, 600)  # two panels of 800x300
    assert sorted(run.pictures) == list(range(1, short_run.EPOCHS + 1))
    for epoch in range(1, short_run.EPOCHS):
        assert run.pictures[epoch] != run.pictures[epoch + 1]
    assert not [name for name in os.listdir(run.directory)
                if name.endswith('.tmp')]


def test_blocks_log_plot_compares_runs(run, tmp_path, capsys):
    database = str(tmp_path / 'two.sqlite')
    source, copy = sqlite3.connect(run.database), sqlite3.connect(database)
    source.backup(copy)
    source.close()
    copy.close()
    other = SQLiteLog(database)  # a second run, logging every 4 batches
    for time in range(0, ITERATIONS + 1, 4):
        other[time]['cost'] = 2.0 / (time + 1)
    other.flush()
    pictures = []
    for runs in ([run.run_id], [run.run_id[:6], other.run_id]):
        output = tmp_path / f'curves{len(runs)}.png'
        assert blocks_log(['plot', database, *runs, '--records',
                           'cost,train_cost', '-o', str(output)]) == 0
        assert png_size(output) == (800, 600)
        assert f"wrote {output}" in capsys.readouterr().out
        pictures.append(output.read_bytes())
    assert pictures[0] != pictures[1]


def test_tensorboard_holds_every_step_once_after_the_resume(run):
    scalars = read_events(run.logdir)
    steps = [(tag, step) for tag, step, _ in scalars]
    assert len(steps) == len(set(steps))
    cost = {step: value for tag, step, value in scalars if tag == 'cost'}
    assert sorted(cost) == list(range(1, ITERATIONS + 1))
    for step, value in cost.items():
        assert value == pytest.approx(run.costs[step], rel=1e-6)
    assert sorted(step for tag, step, _ in scalars
                  if tag == 'train_cost') == [5, 10, 15]
    # The crashed process had written steps after the checkpoint (batch 6).
    crashed = {step for tag, step, _ in run.events_before_resume
               if tag == 'cost'}
    assert crashed == set(range(1, short_run.CRASH_AFTER + 1))


def test_the_console_script_runs(run):
    result = subprocess.run(
        [sys.executable, '-m', 'blocks.scripts.log_tool', 'runs',
         run.database], capture_output=True, text=True, timeout=60,
        env=dict(os.environ, PYTHONPATH=REPO))
    assert result.returncode == 0, result.stderr
    assert run.run_id in result.stdout


def test_a_file_that_is_not_a_log_is_named(tmp_path, capsys):
    text = tmp_path / 'notes.txt'
    text.write_text('not a database ' * 100)
    assert blocks_log(['runs', str(text)]) == 2
    error = capsys.readouterr().err
    assert error.startswith('blocks-log: error: ')
    assert str(text) in error and 'not a blocks log database' in error
    with pytest.raises(NotALogError):
        read_rows(str(text))
    with pytest.raises(FileNotFoundError, match='no such file'):
        read_rows(str(tmp_path / 'absent.sqlite'))


def test_an_unknown_run_lists_the_closest(run, capsys):
    wrong = run.run_id[:-3] + 'zzz'
    assert blocks_log(['show', run.database, wrong]) == 2
    error = capsys.readouterr().err
    assert repr(wrong) in error and run.run_id in error
    with pytest.raises(UnknownRunError, match=run.run_id):
        read_rows(run.database, wrong)


def test_an_unknown_record_lists_the_logged_ones(run, capsys):
    assert blocks_log(['show', run.database, '--records', 'cots']) == 2
    error = capsys.readouterr().err
    assert "'cots'" in error and 'closest: cost' in error
    assert 'train_cost' in error
    with pytest.raises(UnknownRecordError, match='train_cost'):
        read_rows(run.database, records=['valid_cost'])


def test_plot_of_a_record_that_is_not_numeric_is_an_error(tmp_path):
    pytest.importorskip('matplotlib')
    plot = Plot(str(tmp_path / 'curves.png'), 'cost,note')
    log = TrainingLog()
    log[0]['cost'] = 1.0
    log[0]['note'] = 'hello'
    plot.main_loop = SimpleNamespace(log=log)
    with pytest.raises(NotNumericError, match="'note' is not numeric.*"
                                              "iteration 0.*'hello'"):
        plot.do('after_epoch')


@pytest.mark.parametrize('module, extra', [('matplotlib', 'plot'),
                                           ('tensorboardX', 'tensorboard')])
def test_missing_extras_say_what_to_install(monkeypatch, tmp_path, module,
                                            extra):
    from blocks.extensions.tensorboard import TensorBoard
    monkeypatch.setitem(sys.modules, module, None)
    make = Plot if extra == 'plot' else TensorBoard
    with pytest.raises(ImportError, match=rf"pip install 'blocks\[{extra}\]'"):
        make(str(tmp_path / 'out'), ['cost'])


def test_a_log_of_the_original_blocks_is_read_safely(tmp_path):
    import pickle
    path = str(tmp_path / 'reference.sqlite')
    conn = sqlite3.connect(path)
    with conn:
        conn.execute('CREATE TABLE entries (uuid TEXT NOT NULL, time INT NOT '
                     'NULL, "key" TEXT NOT NULL, value, PRIMARY KEY(uuid, '
                     'time, "key"))')
        conn.execute('CREATE TABLE status (uuid TEXT NOT NULL, "key" text '
                     'NOT NULL, value, PRIMARY KEY(uuid, "key"))')
        conn.executemany('INSERT INTO status VALUES (?, ?, ?)', [
            ('a' * 32, 'iterations_done', 2), ('a' * 32, 'resumed_from', None),
            ('b' * 32, 'iterations_done', 4),
            ('b' * 32, 'resumed_from', 'a' * 32)])
        conn.executemany('INSERT INTO entries VALUES (?, ?, ?, ?)', [
            ('a' * 32, 1, 'cost', 1.0), ('b' * 32, 3, 'cost', 0.5),
            ('b' * 32, 3, 'array', pickle.dumps(numpy.arange(2)))])
    conn.close()
    run, = list_runs(path)
    assert (run.run_id, run.head, run.iterations_done) == ('a' * 32,
                                                          'b' * 32, 4)
    assert read_rows(path, records=['cost']) == [
        {'iteration': 1, 'cost': 1.0}, {'iteration': 3, 'cost': 0.5}]
    with pytest.raises(PickledValueError, match="'array' of iteration 3"):
        read_rows(path)
    assert read_rows(path, allow_pickle=True)[1]['array'].tolist() == [0, 1]
