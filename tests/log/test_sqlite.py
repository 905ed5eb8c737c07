"""Tests of the SQLite log backend."""
import gc
import os
import pickle
import sqlite3
import subprocess
import sys
import textwrap
import warnings

import numpy
import pytest

import blocks
import blocks.log.sqlite.buffer as sqlite_module
from blocks.config import config
from blocks.log import SQLiteLog
from blocks.log.sqlite import (ANCESTORS_QUERY, LARGE_BLOB_WARNING,
                               PickledValueError, SQLiteEntry, SQLiteStatus,
                               UnknownRunError)

REPO = os.path.dirname(os.path.dirname(os.path.abspath(blocks.__file__)))


@pytest.fixture(autouse=True)
def default_database(monkeypatch, tmp_path):
    path = tmp_path / 'default.sqlite'
    monkeypatch.setenv('BLOCKS_SQLITEDB', str(path))
    monkeypatch.setenv('HOME', str(tmp_path / 'home'))
    return path


@pytest.fixture
def path(tmp_path):
    return str(tmp_path / 'log.sqlite')


@pytest.fixture
def log(path):
    return SQLiteLog(path)


class FakeClock:
    def __init__(self):
        self.now = sqlite_module.monotonic()

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(sqlite_module, 'monotonic', clock)
    return clock


def committed(path, query='SELECT uuid, time, "key", value FROM entries',
              args=()):
    """What another connection sees."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(query, args).fetchall()
    finally:
        conn.close()


def reopen(log):
    """The same log read back from the database by a fresh connection."""
    log.flush()
    return SQLiteLog(log.database, uuid=log.uuid)


def test_new_log_has_a_seeded_status(log):
    assert dict(log.status) == {'iterations_done': 0, 'epochs_done': 0,
                                '_epoch_ends': [], 'resumed_from': None,
                                'run_id': log.h_uuid}
    assert log.run_id == log.h_uuid
    assert isinstance(log.status, SQLiteStatus)
    assert log.h_uuid == log.uuid.hex


def test_default_database_comes_from_the_configuration(default_database):
    log = SQLiteLog()
    assert log.database == config.sqlite_database == str(default_database)
    log.flush()
    assert default_database.exists()


def test_memory_database_works():
    log = SQLiteLog(':memory:')
    log[3]['a'] = 1
    assert dict(log[3]) == {'a': 1}


def test_reading_never_creates_rows(log):
    assert dict(log[1]) == {}
    assert log[1] == {}
    assert len(log) == 0
    assert list(log) == []
    assert isinstance(log[1], SQLiteEntry)
    with pytest.raises(KeyError, match="nothing"):
        log[1]['nothing']
    assert log[1].get('nothing', 5) == 5
    assert 'nothing' not in log[1]


def test_rows_and_length_count_written_times(log):
    log[0]['a'] = 1
    log[5]['b'] = 2
    log[5]['c'] = 3
    assert len(log) == 2
    assert list(log) == [0, 5]
    assert dict(log[5]) == {'b': 2, 'c': 3}
    assert len(log[5]) == 2


@pytest.mark.parametrize('time', [-1, 1.0, '1', numpy.int64(1)])
def test_time_must_be_a_non_negative_integer(log, time):
    with pytest.raises(ValueError, match="non-negative integer"):
        log[time]


def test_status_is_a_mutable_mapping_raising_key_error(log):
    with pytest.raises(KeyError):
        log.status['missing']
    assert log.status.get('missing') is None
    log.status['extra'] = 'x'
    assert 'extra' in log.status
    del log.status['extra']
    assert 'extra' not in log.status
    assert len(log.status) == 5


def test_true_reads_back_as_one(log):
    log[0]['flag'] = True
    log.status['flag'] = True
    for source in (log, reopen(log)):
        value = source[0]['flag']
        assert value == 1 and type(value) is int
        assert type(source.status['flag']) is int
    log.flush()
    assert committed(log.database)[0][3] == 1


@pytest.mark.parametrize('value, expected', [
    (None, None), (3, 3), (-2 ** 63, -2 ** 63), (2.5, 2.5), ('text', 'text'),
    (numpy.float64(1.25), 1.25), (numpy.array(2.5), 2.5),
    (numpy.float32(0.5), numpy.float32(0.5)), (numpy.int64(7), numpy.int64(7)),
    (numpy.bool_(True), numpy.bool_(True)), ([1, 'a', None], [1, 'a', None]),
    ((1, 2.5), (1, 2.5)), ({'a': [1, 2]}, {'a': [1, 2]}),
    (('saved', 'to'), ('saved', 'to')), (float('nan'), None),
    (b'raw bytes', b'raw bytes'), (1 + 2j, 1 + 2j),
    ({(1, 'a'): [(2.5, None)], 3: {'x': True}},
     {(1, 'a'): [(2.5, None)], 3: {'x': True}}),
    (numpy.str_('abc'), 'abc'),
    (numpy.datetime64('2020-01-02'), numpy.datetime64('2020-01-02')),
])
def test_values_read_back_as_sqlite_stores_them(log, value, expected):
    log[0]['v'] = value
    log.status['v'] = value
    fresh = reopen(log)
    for read in (log[0]['v'], log.status['v'], fresh[0]['v'],
                 fresh.status['v']):
        assert type(read) is type(expected)
        assert read == expected


class Exploit:
    """Unpickling it runs code: it leaves a file behind."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return open, (self.path, 'w')


@pytest.mark.parametrize('where', ['entries', 'status'])
@pytest.mark.parametrize('framing', ['blocks', 'reference'])
def test_reading_a_crafted_log_runs_no_code(log, tmp_path, where, framing):
    victim = tmp_path / 'created_by_the_pickle'
    payload = pickle.dumps(Exploit(str(victim)))
    if framing == 'blocks':
        payload = b'BLK\x00p' + payload
    log.flush()
    conn = sqlite3.connect(log.database)
    with conn:
        if where == 'entries':
            conn.execute('INSERT INTO entries VALUES (?, 0, ?, ?)',
                         (log.h_uuid, 'cost', payload))
        else:
            conn.execute('INSERT INTO status VALUES (?, ?, ?)',
                         (log.h_uuid, 'cost', payload))
    conn.close()
    reader = SQLiteLog(log.database, uuid=log.uuid)
    source = reader[0] if where == 'entries' else reader.status
    with pytest.raises(PickledValueError, match="allow_pickle=True"):
        source['cost']
    assert not victim.exists()
    trusting = SQLiteLog(log.database, uuid=log.uuid, allow_pickle=True)
    source = trusting[0] if where == 'entries' else trusting.status
    source['cost']
    assert victim.exists()


class Opaque:
    def __init__(self, value):
        self.value = value


def test_other_objects_need_allow_pickle_to_be_read_back(log):
    log[0]['object'] = Opaque(5)
    log[0]['list_of_float32'] = [numpy.float32(1)]
    assert log[0]['object'].value == 5  # this process wrote it
    reader = reopen(log)
    for key in ('object', 'list_of_float32'):
        with pytest.raises(PickledValueError, match=repr(key)):
            reader[0][key]
    assert SQLiteLog(log.database, uuid=log.uuid,
                     allow_pickle=True)[0]['list_of_float32'] == [1.0]


def test_safe_values_are_stored_without_pickle(log):
    for value in (numpy.arange(3), numpy.float32(1), [1, (2, 'a')],
                  {'a': 1}, b'x', 1j):
        log[0]['v'] = value
        log.flush()
        (blob,), = committed(log.database, 'SELECT value FROM entries')
        assert blob[:4] == b'BLK\x00' and blob[4:5] != b'p'
        assert b'numpy' not in blob


def test_resumed_from_blobs_are_not_unpickled(log):
    log.status['resumed_from'] = b'raw'
    assert log.status['resumed_from'] == b'raw'
    assert reopen(log).status['resumed_from'] == b'raw'


def test_int_too_large_for_sqlite_fails_at_write(log):
    with pytest.raises(OverflowError, match="64-bit"):
        log[0]['big'] = 2 ** 64


ARRAYS = [
    numpy.arange(6, dtype='float32').reshape(2, 3),
    numpy.linspace(0, 1, 7),
    numpy.arange(24, dtype='int8').reshape(2, 3, 4),
    numpy.array([2 ** 62, -1], dtype='int64'),
    numpy.array([[True, False]]),
    numpy.array([1 + 2j, 3.5j], dtype='complex64'),
    numpy.arange(5, dtype='uint16')[::2],
    numpy.asfortranarray(numpy.arange(6.).reshape(2, 3)),
    numpy.array(['ab', 'cde']),
    numpy.zeros((0, 3), dtype='float16'),
    numpy.array([1.5, 'x', None], dtype=object),
]


@pytest.mark.parametrize('array', ARRAYS, ids=lambda a: f'{a.dtype}{a.shape}')
def test_arrays_round_trip_losslessly(log, array):
    original = array.copy()
    log[0]['array'] = array
    if array.size:
        array[...] = array.flat[-1]  # mutated after the write
    log.flush()
    reader = SQLiteLog(log.database, uuid=log.uuid, allow_pickle=True)
    for read in (log[0]['array'], reader[0]['array']):
        assert type(read) is numpy.ndarray
        assert read.dtype == original.dtype
        assert read.shape == original.shape
        assert numpy.array_equal(read, original)
    read[...] = 0 if read.dtype != object else None
    assert numpy.array_equal(log[0]['array'], original)


def test_read_values_are_copies(log):
    log.status['_epoch_ends'] += [10]
    ends = log.status['_epoch_ends']
    ends.append(99)
    assert log.status['_epoch_ends'] == [10]
    log[0]['d'] = {'a': [1]}
    log[0]['d']['a'].append(2)
    assert log[0]['d'] == {'a': [1]}


def test_large_blob_warns_once(log, monkeypatch):
    monkeypatch.setattr(config, 'max_blob_size', 100)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        log[0]['big'] = numpy.zeros(1000)
        log[1]['big'] = numpy.zeros(2000)
    messages = [str(warning.message) for warning in caught]
    assert len(messages) == 1
    assert messages[0].startswith('large objects stored in SQLite')
    assert LARGE_BLOB_WARNING.strip().split()[0] in messages[0]


def test_resume_copies_status_and_spans_ancestors(log, path):
    log[0]['a'] = 0
    log[1]['b'] = 1
    log.status['iterations_done'] = 1
    first = log.h_uuid
    log.resume()
    second = log.h_uuid
    assert second != first
    assert log.status['resumed_from'] == first
    assert log.status['iterations_done'] == 1
    log[1]['c'] = 2
    log[2]['d'] = 3
    log.resume()
    log[3]['e'] = 4
    assert list(log) == [0, 1, 2, 3]
    assert len(log) == 4
    assert dict(log[1]) == {'b': 1, 'c': 2}
    assert sorted(log[1]) == ['b', 'c'] and len(log[1]) == 2
    log.flush()
    by_uuid = {}
    for uuid, time, key, _ in committed(path):
        by_uuid.setdefault(uuid, []).append((time, key))
    assert by_uuid[first] == [(0, 'a'), (1, 'b')]
    assert sorted(by_uuid[second]) == [(1, 'c'), (2, 'd')]
    ancestors = [uuid for uuid, in committed(path, ANCESTORS_QUERY,
                                             (log.h_uuid,))]
    assert set(ancestors) == {first, second, log.h_uuid}


def test_a_resumed_run_that_rewrites_a_record_shadows_the_ancestor(log):
    log[4]['cost'] = 1.0
    log[4]['kept'] = 'old'
    log.resume()
    log[4]['cost'] = 2.0
    log.flush()
    for source in (log, reopen(log)):
        assert dict(source[4]) == {'cost': 2.0, 'kept': 'old'}
    # Writing an old row does not copy the ancestor's records.
    assert committed(log.database, 'SELECT "key" FROM entries WHERE uuid=?',
                     (log.h_uuid,)) == [('cost',)]
    del log[4]['cost']
    assert log[4]['cost'] == 1.0


def test_log_reopened_by_uuid_sees_the_same_rows_and_status(log):
    log[2]['a'] = 'x'
    log.status['iterations_done'] = 2
    log.resume()
    log[3]['b'] = 'y'
    log.flush()
    other = reopen(log)
    assert other.h_uuid == log.h_uuid
    assert dict(other.status) == dict(log.status)
    assert list(other) == [2, 3]
    assert dict(other[2]) == {'a': 'x'}


def test_pickling_resumes_the_live_log(log):
    log[0]['a'] = 1
    log.status['iterations_done'] = 3
    old = log.h_uuid
    copy = pickle.loads(pickle.dumps(log))
    assert copy.h_uuid == old
    assert log.h_uuid != old
    assert log.status['resumed_from'] == old
    assert copy.status['iterations_done'] == 3
    assert dict(copy[0]) == {'a': 1}
    log[5]['live'] = True
    copy[5]['copy'] = True
    assert dict(log[5]) == {'live': 1}
    assert dict(copy[5]) == {'copy': 1}
    assert dict(copy.status) == {'iterations_done': 3, 'epochs_done': 0,
                                 '_epoch_ends': [], 'resumed_from': None,
                                 'run_id': old}
    assert copy.run_id == log.run_id == old


def test_pickling_commits_buffered_writes_first(clock, log):
    log[0]['a'] = 1
    assert committed(log.database) == []
    old = log.h_uuid
    pickle.dumps(log)
    assert committed(log.database) == [(old, 0, 'a', 1)]


def test_writes_are_committed_after_a_second_or_on_flush(clock, log):
    log[0]['a'] = 1
    assert committed(log.database) == []
    clock.now += 0.5
    log[0]['b'] = 2
    assert committed(log.database) == []
    clock.now += 0.6
    log.status['iterations_done'] = 1  # any write checks the clock
    assert [row[2] for row in committed(log.database)] == ['a', 'b']
    assert committed(log.database, 'SELECT value FROM status WHERE '
                     '"key" = ?', ('iterations_done',)) == [(1,)]
    log[1]['c'] = 3
    log.flush()
    assert len(committed(log.database)) == 3


def test_collected_log_commits_its_writes(path, clock):
    log = SQLiteLog(path)
    log[0]['a'] = 1
    del log
    gc.collect()
    assert committed(path)[0][1:] == (0, 'a', 1)


def test_old_rows_are_read_back_after_leaving_memory(log, monkeypatch):
    monkeypatch.setattr(sqlite_module, 'CACHED_ROWS', 4)
    for time in range(20):
        log[time]['t'] = time
    log.flush()
    statements = []
    log.conn.set_trace_callback(statements.append)
    assert [log[time]['t'] for time in range(20)] == list(range(20))
    log.conn.set_trace_callback(None)
    # The oldest rows left memory: they were read back from the database.
    assert any(statement.startswith('SELECT') for statement in statements)
    assert log[25].get('t') is None
    log[3]['u'] = 'late'
    log.flush()
    assert dict(reopen(log)[3]) == {'t': 3, 'u': 'late'}
    assert len(log) == 20


def test_several_runs_share_one_database(path):
    first, second = SQLiteLog(path), SQLiteLog(path)
    for time in range(3):
        first[time]['run'] = 'first'
        second[time + 1]['run'] = 'second'
    first.flush()
    second.flush()
    assert list(first) == [0, 1, 2]
    assert list(second) == [1, 2, 3]
    assert first[1]['run'] == 'first' and second[1]['run'] == 'second'
    uuids = committed(path, 'SELECT DISTINCT uuid FROM status')
    assert {uuid for uuid, in uuids} == {first.h_uuid, second.h_uuid}
    assert len(committed(path)) == 6
    assert committed(path, 'PRAGMA journal_mode') == [('wal',)]


def test_missing_directory_fails_at_construction(tmp_path):
    path = tmp_path / 'absent' / 'log.sqlite'
    with pytest.raises(FileNotFoundError) as info:
        SQLiteLog(str(path))
    message = str(info.value)
    assert str(path) in message
    assert 'does not exist' in message
    assert 'BLOCKS_SQLITEDB' in message and 'sqlite_database' in message


def test_directory_as_database_fails_at_construction(tmp_path):
    with pytest.raises(IsADirectoryError, match="BLOCKS_SQLITEDB"):
        SQLiteLog(str(tmp_path))


@pytest.mark.skipif(os.name != 'posix' or os.geteuid() == 0,
                    reason="needs file permissions that apply")
def test_unwritable_directory_fails_at_construction(tmp_path):
    directory = tmp_path / 'readonly'
    directory.mkdir()
    directory.chmod(0o500)
    try:
        with pytest.raises(PermissionError, match="not writable"):
            SQLiteLog(str(directory / 'log.sqlite'))
    finally:
        directory.chmod(0o700)


READER = """
    import sys
    from uuid import UUID
    from blocks.log import SQLiteLog
    log = SQLiteLog(sys.argv[1], uuid=UUID(sys.argv[2]))
    print('ready', flush=True)
    for line in sys.stdin:
        time, key = line.split()
        print(log.status['iterations_done'], log[int(time)].get(key),
              flush=True)
"""


def test_another_process_reads_the_log_while_it_is_written(clock, log):
    log.status['iterations_done'] = 1
    log[1]['cost'] = 0.5
    log.flush()
    reader = subprocess.Popen(
        [sys.executable, '-c', textwrap.dedent(READER), log.database,
         log.h_uuid], env=dict(os.environ, PYTHONPATH=REPO), text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def ask(time, key):
        reader.stdin.write(f'{time} {key}\n')
        reader.stdin.flush()
        return reader.stdout.readline().split()

    try:
        assert reader.stdout.readline() == 'ready\n'
        assert ask(1, 'cost') == ['1', '0.5']
        # Buffered, not committed: invisible to others for now.
        log.status['iterations_done'] = 2
        log[2]['cost'] = 0.25
        assert ask(2, 'cost') == ['1', 'None']
        # Training keeps writing: within a second the writes are committed.
        clock.now += 1.0
        log[2]['time'] = 1.5
        assert ask(2, 'cost') == ['2', '0.25']
        log[3]['cost'] = 0.125
        log.flush()
        assert ask(3, 'cost') == ['2', '0.125']
    finally:
        reader.stdin.close()
        reader.wait(timeout=30)
    assert reader.returncode == 0


WRITER = """
    import os, sys
    from blocks.log import SQLiteLog
    log = SQLiteLog(sys.argv[1])
    print(log.h_uuid, flush=True)
    log[0]['flushed'] = 1
    log.flush()
    log[1]['buffered'] = 2
    if sys.argv[2] == 'crash':
        os._exit(3)
"""


@pytest.mark.parametrize('ending', ['exit', 'crash'])
def test_interpreter_exit_commits_and_a_crash_never_corrupts(path, ending):
    writer = subprocess.run(
        [sys.executable, '-c', textwrap.dedent(WRITER), path, ending],
        env=dict(os.environ, PYTHONPATH=REPO), text=True,
        capture_output=True, timeout=60)
    assert writer.returncode == (3 if ending == 'crash' else 0), \
        writer.stderr
    h_uuid = writer.stdout.strip()
    expected = [(h_uuid, 0, 'flushed', 1)]
    if ending == 'exit':
        expected.append((h_uuid, 1, 'buffered', 2))
    assert committed(path) == expected
    assert committed(path, 'PRAGMA integrity_check') == [('ok',)]


def simulate_batches(log, count):
    status = log.status
    for _ in range(count):
        status['received_first_batch'] = True
        status['iterations_done'] += 1
        log.current_row['cost'] = 1.0
        assert not log.current_row.get('training_finish_requested', False)
        assert not status.get('batch_interrupt_received', False)
        status['_epoch_ends']


@pytest.mark.parametrize('how', ['new', 'resumed', 'unpickled'])
def test_batches_run_no_sql_between_commits(log, clock, how):
    log.status['batch_interrupt_received'] = False
    simulate_batches(log, 5)
    if how == 'resumed':
        log.resume()
    elif how == 'unpickled':
        log = pickle.loads(pickle.dumps(log))
    simulate_batches(log, 1)  # reads ancestors' extent once
    statements = []
    log.conn.set_trace_callback(statements.append)
    simulate_batches(log, 100)
    assert statements == []
    log.flush()
    assert any('INSERT' in statement for statement in statements)
    assert reopen(log)[106]['cost'] == 1.0


def test_setting_resumed_from_by_hand_links_another_run(path):
    other = SQLiteLog(path)
    other[1]['other'] = 'o'
    other.flush()
    log = SQLiteLog(path)
    log[1]['mine'] = 'm'
    assert dict(log[1]) == {'mine': 'm'}
    log.status['resumed_from'] = other.h_uuid
    assert dict(log[1]) == {'mine': 'm', 'other': 'o'}
    assert list(log) == [1]


def test_deletions_reach_the_database(log):
    log[0]['a'] = 1
    log[0]['b'] = 2
    log.status['extra'] = 3
    log.flush()
    del log[0]['a']
    del log.status['extra']
    other = reopen(log)
    assert dict(other[0]) == {'b': 2}
    assert 'extra' not in other.status


def test_log_reopened_by_uuid_writes_to_that_uuid(log):
    log[0]['a'] = 1
    log.flush()
    other = reopen(log)
    other[0]['b'] = 2
    other.status['note'] = 'x'
    assert dict(other[0]) == {'a': 1, 'b': 2}
    other.flush()
    assert dict(reopen(log)[0]) == {'a': 1, 'b': 2}


def test_a_reader_follows_a_run_through_checkpoints_and_resumptions(path):
    log = SQLiteLog(path)
    run_id = log.run_id
    reader = SQLiteLog(path, run_id=run_id)  # opened at the start
    for time in range(9):
        log.status['iterations_done'] = time
        log[time]['cost'] = float(time)
        if time in (2, 5):
            checkpoint = pickle.dumps(log)  # moves the live log on
    log.flush()
    assert list(reader) == list(range(9))
    assert reader.status['iterations_done'] == 8
    # The run is killed; a new process resumes it from the checkpoint
    # written at time 5 and rewrites times 6 to 8.
    resumed = pickle.loads(checkpoint)
    resumed.resume()
    for time in range(6, 8):
        resumed.status['iterations_done'] = time
        resumed[time]['cost'] = -float(time)
    resumed.flush()
    uuids = {uuid for uuid, in committed(path, 'SELECT uuid FROM status')}
    assert len(uuids) == 4  # new, two checkpoints, resumed
    assert {resumed.run_id, log.run_id} == {run_id}
    assert resumed.status['run_id'] == run_id
    assert reader.status['iterations_done'] == 7
    assert list(reader) == list(range(8))
    assert [reader[time]['cost'] for time in range(8)] == [
        0.0, 1.0, 2.0, 3.0, 4.0, 5.0, -6.0, -7.0]
    assert reader.uuid == resumed.uuid


def test_an_unknown_run_id_lists_the_closest(log):
    log.flush()
    with pytest.raises(UnknownRunError) as info:
        SQLiteLog(log.database, run_id=log.run_id[:-1] + 'x')
    assert log.run_id in str(info.value)
    assert 'blocks-log runs' in str(info.value)
    assert SQLiteLog(log.database, run_id=log.run_id[:6]).run_id == \
        log.run_id
