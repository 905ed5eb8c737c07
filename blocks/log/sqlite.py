"""SQLite backend for the training log.

The log lives in a database file that several runs can share and that other
processes can read while training writes it. The schema is the one of the
original Blocks::

    entries(uuid TEXT NOT NULL, time INT NOT NULL, "key" TEXT NOT NULL,
            value, PRIMARY KEY(uuid, time, "key"))
    status(uuid TEXT NOT NULL, "key" text NOT NULL, value,
           PRIMARY KEY(uuid, "key"))

where ``uuid`` is the :attr:`~SQLiteLog.h_uuid` of a log.

Unlike the original, which committed every write, writes are buffered in
memory and committed together, at least once a second (checked on writes),
and whenever :meth:`SQLiteLog.flush` is called: the main loop does so at the
end of every epoch, at checkpoints (pickling) and when training stops, and
the log flushes when it is garbage collected or the interpreter exits. A
crash loses at most the writes since the last commit; SQLite's transactions
keep the file consistent. Reads see buffered writes; the status of the
current UUID and the recently written rows are served from memory.
"""
import logging
import math
import os
import pickle
import sqlite3
import warnings
import weakref
from collections.abc import Mapping, MutableMapping
from itertools import islice
from time import monotonic

import numpy

from blocks.config import config
from blocks.log.log import TrainingLogBase

logger = logging.getLogger(__name__)

ANCESTORS_QUERY = """
WITH parents(parent, child) AS (
    SELECT uuid, value FROM status WHERE "key" = 'resumed_from'
), ancestors(parent, child) AS (
    SELECT parent, child FROM parents WHERE parent = ?
    UNION
    SELECT parents.parent, parents.child FROM ancestors
    INNER JOIN parents ON ancestors.child = parents.parent
)
SELECT parent FROM ancestors
"""

LARGE_BLOB_WARNING = """

A {} object of {} bytes was stored in the SQLite database. SQLite natively \
only supports numbers and text. Other objects will be pickled before being \
saved. For large objects, this can be slow and degrade performance of the \
database."""

#: Longest time, in seconds, that a write stays uncommitted (checked on
#: writes; :meth:`SQLiteLog.flush` commits at once).
COMMIT_INTERVAL = 1.0

#: Rows kept in memory after a commit: the most recently created ones.
CACHED_ROWS = 256

unwritable_database_message = """\
cannot use {path!r} as the SQLite log database: {problem}. Fix that, or \
choose another file: set the environment variable BLOCKS_SQLITEDB or \
`blocks.config.config.sqlite_database`, or pass `database=` to SQLiteLog \
(':memory:' keeps the log in memory)."""

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS entries (
           uuid TEXT NOT NULL,
           time INT NOT NULL,
           "key" TEXT NOT NULL,
           value,
           PRIMARY KEY(uuid, time, "key")
       );""",
    """CREATE TABLE IF NOT EXISTS status (
           uuid TEXT NOT NULL,
           "key" text NOT NULL,
           value,
           PRIMARY KEY(uuid, "key")
       );""")
_INSERT_ENTRY = 'INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)'
_INSERT_STATUS = 'INSERT OR REPLACE INTO status VALUES (?, ?, ?)'
# Many records per statement: a third less time per record when committing.
_CHUNK = 128
_INSERT_ENTRIES = ('INSERT OR REPLACE INTO entries VALUES ' +
                   ', '.join(['(?, ?, ?, ?)'] * _CHUNK))

_MISSING = object()
_INT64_MIN, _INT64_MAX = -2 ** 63, 2 ** 63 - 1
_IMMUTABLE = frozenset([type(None), bool, int, float, complex, str, bytes])
# Arrays up to this size are kept as arrays as well as pickled, so that
# reading them back copies them instead of unpickling.
_COPIED_BYTES = 1 << 16


def adapt_obj(obj) -> memoryview:
    """Binarize objects to be stored in an SQLite database.

    Parameters
    ----------
    obj : object
        Any picklable object.

    Returns
    -------
    blob : memoryview
        The pickled object, to be stored as a BLOB.

    Notes
    -----
    A blob larger than ``config.max_blob_size`` bytes causes a warning,
    once: the warning then adds a filter that ignores it.
    """
    return sqlite3.Binary(_pickle(obj))


def adapt_ndarray(obj) -> float | memoryview:
    """Convert NumPy scalars to floats before storing in SQLite.

    This makes it easier to inspect the data from the SQLite command line
    and avoids the overhead of pickling. Arrays with more dimensions are
    pickled by :func:`adapt_obj`.

    Parameters
    ----------
    obj : :class:`numpy.ndarray`
        The array.

    Returns
    -------
    float or memoryview
    """
    if obj.ndim == 0:
        return float(obj)
    return adapt_obj(obj)


def _pickle(obj):
    blob = pickle.dumps(obj)
    if len(blob) > config.max_blob_size:
        warnings.warn('large objects stored in SQLite' +
                      LARGE_BLOB_WARNING.format(type(obj), len(blob)))
        # Prevent the warning with variable message from repeating
        warnings.filterwarnings('ignore', 'large objects .*')
    return blob


# How a cached blob is read back (see _Blob.load).
_LOAD, _SHARE, _LIST, _ARRAY = range(4)


class _Blob:
    """A value that SQLite stores as a BLOB, with a fast way to read it.

    Reading a blob from the database unpickles a fresh copy; values whose
    copy is cheap to make without unpickling (immutable objects, lists of
    immutable objects, numerical arrays) keep that shortcut.
    """

    __slots__ = ('blob', 'mode', 'obj')

    def __init__(self, blob, mode=_LOAD, obj=None):
        self.blob = blob
        self.mode = mode
        self.obj = obj

    def load(self):
        mode = self.mode
        if mode == _SHARE:
            return self.obj
        if mode == _LIST:
            return list(self.obj)
        if mode == _ARRAY:
            return self.obj.copy(order='K')
        return pickle.loads(self.blob)


def _encode(value, key):
    """The cached form of a value: what SQLite would read back.

    ``None``, ``int``, ``float`` and ``str`` are kept, anything else becomes
    a :class:`_Blob`, except under ``resumed_from`` where blobs are not
    unpickled on read.
    """
    cls = value.__class__
    if cls is float:
        # SQLite stores NaN as NULL.
        return None if value != value else value
    if cls is int:
        if _INT64_MIN <= value <= _INT64_MAX:
            return value
        raise OverflowError(
            f"{key!r}: the int {value} does not fit in SQLite's 64-bit "
            f"INTEGER; store it as a string or a float instead")
    if cls is str or value is None:
        return value
    if cls is bool:
        return 1 if value else 0
    encoded = _encode_other(value, key)
    if key == 'resumed_from' and encoded.__class__ is _Blob:
        return encoded.blob
    return encoded


def _encode_other(value, key):
    if isinstance(value, numpy.ndarray):
        if value.ndim == 0:
            return _encode(float(value), key)
        blob = _pickle(value)
        if (value.__class__ is numpy.ndarray and not value.dtype.hasobject
                and value.nbytes <= _COPIED_BYTES):
            return _Blob(blob, _ARRAY, value.copy(order='K'))
        return _Blob(blob)
    if isinstance(value, int):
        return _encode(int(value), key)  # bool, IntEnum: stored as integers
    if isinstance(value, float):
        return _encode(float(value), key)  # numpy.float64
    if isinstance(value, str):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        # Stored as they are; reading unpickles them (as in Blocks).
        return _Blob(bytes(value))
    blob = _pickle(value)
    cls = value.__class__
    if isinstance(value, numpy.generic) and value.dtype.kind not in 'OV':
        return _Blob(blob, _SHARE, value)
    if cls is tuple and all(type(item) in _IMMUTABLE for item in value):
        return _Blob(blob, _SHARE, value)
    if cls is list and all(type(item) in _IMMUTABLE for item in value):
        return _Blob(blob, _LIST, tuple(value))
    return _Blob(blob)


def _from_database(value, key):
    """The cached form of a value read from the database."""
    if value.__class__ is bytes and key != 'resumed_from':
        return _Blob(value)
    return value


def _to_database(value):
    return value.blob if value.__class__ is _Blob else value


def _check_database_path(database):
    """Raise early if SQLite could not create or write the database."""
    if database in ('', ':memory:'):
        return
    path = os.path.abspath(database)
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        raise FileNotFoundError(unwritable_database_message.format(
            path=database, problem=f"the directory {directory} does not "
                                   f"exist"))
    if os.path.isdir(path):
        raise IsADirectoryError(unwritable_database_message.format(
            path=database, problem="it is a directory"))
    if os.path.exists(path) and not os.access(path, os.W_OK):
        raise PermissionError(unwritable_database_message.format(
            path=database, problem="the file is not writable"))
    # SQLite creates the file and its write-ahead log next to it.
    if not os.access(directory, os.W_OK):
        raise PermissionError(unwritable_database_message.format(
            path=database, problem=f"the directory {directory} is not "
                                   f"writable"))


def _connect(database):
    _check_database_path(database)
    conn = sqlite3.connect(database, timeout=30, check_same_thread=False)
    try:
        # Readers in other processes do not block the writer, nor it them.
        conn.execute('PRAGMA journal_mode=WAL')
        with conn:
            for statement in _SCHEMA:
                conn.execute(statement)
    except sqlite3.Error as exc:
        conn.close()
        raise sqlite3.OperationalError(unwritable_database_message.format(
            path=database, problem=str(exc))) from exc
    return conn


def _placeholders(count):
    return ', '.join('?' * count)


class _MergedRow(dict):
    """A row read from the database, merged over the ancestors.

    Only the keys in ``dirty`` were written by this log; the others must not
    be copied to its UUID when committing.
    """

    __slots__ = ('dirty',)

    def __init__(self, *args):
        super().__init__(*args)
        self.dirty = set()


class _WriteBuffer:
    """The write-behind cache of the current UUID of one log.

    ``status`` and ``rows`` hold values in their cached form (see
    :func:`_encode`); ``dirty_rows`` maps the times of rows with
    uncommitted writes to the rows, and ``status_dirty`` says whether the
    status has some.

    An *owned* UUID is one this log created (a new log, or
    :meth:`~TrainingLogBase.resume`) or unpickled: nobody else writes it,
    so ``status`` is its complete status, and every row of it is in
    ``rows`` unless it is in the database (committed and evicted, or
    written before pickling). Rows of ancestors do not change. Hence a row
    newer than ``floor``, the last time found in the database for the
    ancestors or evicted from memory, is exactly what ``rows`` has, and an
    older row is read from the database once and then kept, complete, as a
    :class:`_MergedRow`. A UUID that is not owned (a log reopened by
    UUID, until it resumes) may be written by another process:
    ``status`` and ``rows`` hold only this log's writes, and the rest is
    read from the database every time.
    """

    def __init__(self, database):
        self.conn = _connect(database)
        self.pid = os.getpid()
        self.h_uuid = None
        self.switch(None)

    def switch(self, h_uuid):
        """Commit what is buffered, then start afresh with another UUID."""
        if self.h_uuid is not None:
            self.flush()
        self.h_uuid = h_uuid
        self.owned = False
        self.status = {}
        self.status_dirty = False
        self.rows = {}
        self.dirty_rows = {}
        self._chain = None
        self.floor = math.inf
        self.evicted = -1
        self.entry = None
        self.deadline = monotonic() + COMMIT_INTERVAL

    def mark_owned(self):
        """Declare that the current UUID is new, created by this log."""
        self.owned = True
        self.floor = None

    def adopt(self):
        """Own the current UUID, which has records in the database.

        For an unpickled log: the log that was pickled resumed under
        another UUID, so this one is the only writer of the pickled UUID.
        """
        stored = self.conn.execute(
            'SELECT "key", value FROM status WHERE uuid = ?', (self.h_uuid,))
        self.status = {key: _from_database(value, key)
                       for key, value in stored}
        last, = self.conn.execute('SELECT MAX(time) FROM entries WHERE '
                                  'uuid = ?', (self.h_uuid,)).fetchone()
        # Its rows in the database are read back like evicted ones.
        self.evicted = -1 if last is None else last
        self.mark_owned()

    def ancestry_changed(self):
        """Forget what depends on the ancestors (``resumed_from`` changed)."""
        self._chain = None
        if self.owned:
            # Rows in memory may miss records of the new ancestors: commit
            # them and read them again when needed.
            self.flush()
            for time in self.rows:
                if time > self.evicted:
                    self.evicted = time
            self.rows = {}
            self.floor = None

    # Status

    def status_get(self, key):
        value = self.status.get(key, _MISSING)
        if value is _MISSING and not self.owned:
            row = self.conn.execute(
                'SELECT value FROM status WHERE uuid = ? AND "key" = ?',
                (self.h_uuid, key)).fetchone()
            if row is not None:
                value = _from_database(row[0], key)
        return value

    def status_delete(self, key):
        self.status.pop(key, None)
        with self.conn:
            self.conn.execute(
                'DELETE FROM status WHERE uuid = ? AND "key" = ?',
                (self.h_uuid, key))
        if key == 'resumed_from':
            self.ancestry_changed()

    def status_keys(self):
        keys = dict.fromkeys(self.status)
        if not self.owned:
            keys.update(dict.fromkeys(key for key, in self.conn.execute(
                'SELECT "key" FROM status WHERE uuid = ?', (self.h_uuid,))))
        return list(keys)

    # Rows

    @property
    def chain(self):
        """The current UUID followed by its ancestors, nearest first."""
        if self._chain is None:
            chain = [self.h_uuid]
            parent = self.status_get('resumed_from')
            if parent is not _MISSING and parent is not None:
                for ancestor, in self.conn.execute(ANCESTORS_QUERY,
                                                   (parent,)):
                    if ancestor not in chain:
                        chain.append(ancestor)
            self._chain = chain
        return self._chain

    def _floor(self):
        if self.floor is None:
            ancestors = self.chain[1:]
            last = None
            if ancestors:
                last, = self.conn.execute(
                    f'SELECT MAX(time) FROM entries WHERE uuid IN '
                    f'({_placeholders(len(ancestors))})',
                    ancestors).fetchone()
            self.floor = max(-1 if last is None else last, self.evicted)
        return self.floor

    def _database_row(self, time):
        """Row ``time`` of the current UUID and its ancestors, as stored."""
        chain = self.chain
        found = {}
        for uuid, key, value in self.conn.execute(
                f'SELECT uuid, "key", value FROM entries WHERE uuid IN '
                f'({_placeholders(len(chain))}) AND time = ?',
                chain + [time]):
            found.setdefault(key, []).append((chain.index(uuid), value))
        # The nearest log wins (a resumed run may rewrite a record).
        return _MergedRow(
            (key, _from_database(min(values, key=_first)[1], key))
            for key, values in found.items())

    def row(self, time):
        """The cached row ``time``, read or created for a write."""
        row = self.rows.get(time)
        if row is None:
            if self.owned and time <= self._floor():
                row = self._database_row(time)
            else:
                row = {}
            self.rows[time] = row
        return row

    def row_get(self, time, key):
        """A record of a row not in ``rows`` (or ``_MISSING``).

        For a UUID that is not owned, also a record missing from ``rows``.
        """
        if self.owned:
            if time > self._floor():
                return _MISSING
            return self.row(time).get(key, _MISSING)
        return self._database_row(time).get(key, _MISSING)

    def row_set(self, time, key, value):
        row = self.rows.get(time)
        if row is None:
            row = self.row(time)
        row[key] = value
        if row.__class__ is _MergedRow:
            row.dirty.add(key)
        self.dirty_rows[time] = row
        if monotonic() >= self.deadline:
            self.flush()

    def row_delete(self, time, key):
        row = self.rows.get(time)
        if row is not None:
            row.pop(key, None)
            if row.__class__ is _MergedRow:
                row.dirty.discard(key)
        with self.conn:
            self.conn.execute(
                'DELETE FROM entries WHERE uuid = ? AND time = ? '
                'AND "key" = ?', (self.h_uuid, time, key))
        if row.__class__ is _MergedRow:
            # An ancestor's record under the same key shows through again.
            stored = self._database_row(time)
            if key in stored:
                row[key] = stored[key]

    def row_keys(self, time):
        if self.owned:
            if time not in self.rows and time > self._floor():
                return []
            return list(self.row(time))
        keys = dict.fromkeys(self.rows.get(time, ()))
        keys.update(dict.fromkeys(self._database_row(time)))
        return list(keys)

    def times(self):
        chain = self.chain
        times = {time for time, in self.conn.execute(
            f'SELECT DISTINCT time FROM entries WHERE uuid IN '
            f'({_placeholders(len(chain))})', chain)}
        times.update(time for time, row in self.rows.items() if row)
        return sorted(times)

    # Commits

    def flush(self):
        """Commit the buffered writes."""
        self.deadline = monotonic() + COMMIT_INTERVAL
        if not (self.dirty_rows or self.status_dirty):
            return
        h_uuid, conn = self.h_uuid, self.conn
        with conn:
            if self.dirty_rows:
                _insert_entries(conn, h_uuid, self.dirty_rows)
            if self.status_dirty:
                conn.executemany(_INSERT_STATUS, [
                    (h_uuid, key, _to_database(value))
                    for key, value in self.status.items()])
        for row in self.dirty_rows.values():
            if row.__class__ is _MergedRow:
                row.dirty.clear()
        self.dirty_rows = {}
        self.status_dirty = False
        self._evict()

    def _evict(self):
        rows = self.rows
        if len(rows) <= CACHED_ROWS:
            return
        for time in list(islice(rows, len(rows) - CACHED_ROWS // 2)):
            del rows[time]
            if time > self.evicted:
                self.evicted = time
        if self.floor is not None and self.floor < self.evicted:
            self.floor = self.evicted

    def close(self):
        """Commit and close the connection (the log was collected)."""
        if os.getpid() != self.pid:
            return  # a forked child must not touch its parent's connection
        try:
            self.flush()
        except Exception:
            logger.exception("could not save the last records of the "
                             "SQLite log %s", self.h_uuid)
        finally:
            self.conn.close()


def _insert_entries(conn, h_uuid, dirty_rows):
    params = []
    extend = params.extend
    for time, row in dirty_rows.items():
        if row.__class__ is _MergedRow:
            items = [(key, row[key]) for key in row.dirty]
        else:
            items = row.items()
        for key, value in items:
            if value.__class__ is _Blob:
                value = value.blob
            extend((h_uuid, time, key, value))
    size = 4 * _CHUNK
    full = len(params) - len(params) % size
    if full:
        conn.executemany(_INSERT_ENTRIES, [params[start:start + size]
                                           for start in range(0, full, size)])
    if full < len(params):
        conn.executemany(_INSERT_ENTRY, [params[start:start + 4] for start
                                         in range(full, len(params), 4)])


def _first(item):
    return item[0]


class SQLiteLog(TrainingLogBase, Mapping):
    r"""Training log using SQLite as a backend.

    Parameters
    ----------
    database : str, optional
        The database (file) to connect to. Can also be ``':memory:'``. See
        :func:`sqlite3.connect` for details. Uses ``config.sqlite_database``
        by default. A file that cannot be created or written is an error
        here, not at the first commit.
    \*\*kwargs
        Arguments to pass to :class:`TrainingLogBase`, such as ``uuid`` to
        reopen an existing log.

    Notes
    -----
    Rows and status are stored as ``(uuid, [time,] key, value)`` records.
    SQLite natively stores ``None``, integers, floats, strings and bytes
    (so ``True`` reads back as ``1``, and NaN as ``None``); 0-d arrays are
    stored as floats, and any other object (arrays, NumPy scalars such as
    ``float32``, lists, ...) is pickled into a BLOB and unpickled on read.
    As in Blocks, a ``bytes`` value is stored as it is and therefore
    unpickled on read. Store values by assignment: a value mutated in
    place is not saved.

    Row reads, ``iter(log)`` and ``len(log)`` span the current log and the
    logs it was resumed from; writes go to the current log. Reading never
    creates rows.

    Writes are buffered and committed at least once a second and by
    :meth:`flush`. Several runs can share a database, and other processes
    can read it while it is written (it is in write-ahead-log mode). A log
    reopened by UUID (``SQLiteLog(database, uuid=...)``) reads what is
    committed every time, so it follows a run that another process writes;
    an unpickled log continues the pickled UUID as its only writer.

    Examples
    --------
    >>> log = SQLiteLog(':memory:')
    >>> log.status['iterations_done']
    0
    >>> log.current_row['cost'] = numpy.float32(0.5)
    >>> log.current_row['finished'] = True
    >>> log[0]['cost'], log[0]['finished'], len(log)
    (np.float32(0.5), 1, 1)
    >>> dict(log[1])
    {}
    """

    def __init__(self, database=None, **kwargs):
        if database is None:
            database = config.sqlite_database
        self.database = database
        self._open()
        self.status = SQLiteStatus(self)
        super().__init__(**kwargs)
        if kwargs.get('uuid') is None:
            self._buffer.mark_owned()

    def _open(self):
        buffer = _WriteBuffer(self.database)
        if '_uuid' in self.__dict__:  # unpickled
            buffer.switch(self._uuid.hex)
            buffer.adopt()
        self._buffer = buffer
        # Commit what is buffered when the log is collected or at exit.
        self._finalizer = weakref.finalize(self, buffer.close)
        return buffer

    def __getattr__(self, name):
        # Only called for missing attributes: the buffer and its connection
        # are opened on first use after unpickling.
        if name == '_buffer' and 'database' in self.__dict__:
            return self._open()
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def uuid(self):
        """The :class:`uuid.UUID` of this log."""
        return self._uuid

    @uuid.setter
    def uuid(self, value):
        self._buffer.switch(value.hex)
        self._uuid = value

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection to the database, opened on first use."""
        return self._buffer.conn

    @conn.setter
    def conn(self, value):
        self._buffer.conn = value

    @property
    def current_row(self):
        """The row of the current time, ``status['iterations_done']``."""
        # On the main loop's path every batch: reuse the last row object.
        buffer = self._buffer
        time = buffer.status.get('iterations_done')
        if time.__class__ is not int:
            time = self.status['iterations_done']
        entry = buffer.entry
        if entry is None or entry.time != time:
            entry = buffer.entry = self[time]
        return entry

    def resume(self) -> None:
        super().resume()
        self._buffer.mark_owned()

    def flush(self) -> None:
        """Commit the buffered writes now.

        Afterwards they are durable and other connections see them.
        """
        buffer = self.__dict__.get('_buffer')
        if buffer is not None:
            buffer.flush()

    def __getstate__(self):
        """Retrieve the state for pickling.

        :class:`sqlite3.Connection` objects are not picklable, so the
        connection is left out and re-opened upon unpickling. Buffered
        writes are committed first. As in Blocks, the pickled log keeps the
        current UUID while this log resumes under a new one, so that the
        two never write to the same UUID.
        """
        self.flush()
        state = self.__dict__.copy()
        for name in ('_buffer', '_finalizer'):
            state.pop(name, None)
        self.resume()
        return state

    def __getitem__(self, time):
        self._check_time(time)
        return SQLiteEntry(self, time)

    def __iter__(self):
        return iter(self._buffer.times())

    def __len__(self):
        return len(self._buffer.times())


class SQLiteStatus(MutableMapping):
    """The status of an :class:`SQLiteLog`, for its current UUID.

    Parameters
    ----------
    log : :class:`SQLiteLog`
        The log.
    """

    def __init__(self, log):
        self.log = log

    def __getitem__(self, key):
        buffer = self.log._buffer
        try:
            value = buffer.status[key]
        except KeyError:
            value = buffer.status_get(key)
            if value is _MISSING:
                raise KeyError(key) from None
        if value.__class__ is _Blob:
            return value.load()
        return value

    def get(self, key, default=None):
        buffer = self.log._buffer
        value = buffer.status.get(key, _MISSING)
        if value is _MISSING:
            value = buffer.status_get(key)
            if value is _MISSING:
                return default
        if value.__class__ is _Blob:
            return value.load()
        return value

    def __contains__(self, key):
        return self.log._buffer.status_get(key) is not _MISSING

    def __setitem__(self, key, value):
        cls = value.__class__
        if cls is bool:
            value = 1 if value else 0
        elif not (cls is int and _INT64_MIN <= value <= _INT64_MAX
                  or cls is str or cls is float and value == value):
            value = _encode(value, key)
        buffer = self.log._buffer
        buffer.status[key] = value
        buffer.status_dirty = True
        if key == 'resumed_from':
            buffer.ancestry_changed()
        if monotonic() >= buffer.deadline:
            buffer.flush()

    def __delitem__(self, key):
        self.log._buffer.status_delete(key)

    def __iter__(self):
        return iter(self.log._buffer.status_keys())

    def __len__(self):
        return len(self.log._buffer.status_keys())

    def __repr__(self):
        return f'{type(self).__name__}({dict(self)!r})'


class SQLiteEntry(MutableMapping):
    """A row of an :class:`SQLiteLog`.

    Records are read from the log and its ancestors (the logs it was
    resumed from); writes go to the log's current UUID.

    Parameters
    ----------
    log : :class:`SQLiteLog`
        The log.
    time : int
        The time (iterations done) of the row.
    """

    __slots__ = ('log', 'time')

    def __init__(self, log, time):
        self.log = log
        self.time = time

    def __getitem__(self, key):
        value = self.get(key, _MISSING)
        if value is _MISSING:
            raise KeyError(key)
        return value

    def get(self, key, default=None):
        buffer = self.log._buffer
        row = buffer.rows.get(self.time)
        if row is None:
            value = buffer.row_get(self.time, key)
        else:
            value = row.get(key, _MISSING)
            if value is _MISSING and not buffer.owned:
                value = buffer.row_get(self.time, key)
        if value is _MISSING:
            return default
        if value.__class__ is _Blob:
            return value.load()
        return value

    def __contains__(self, key):
        return self.get(key, _MISSING) is not _MISSING

    def __setitem__(self, key, value):
        cls = value.__class__
        if cls is bool:
            value = 1 if value else 0
        elif not (cls is float and value == value or cls is str
                  or cls is int and _INT64_MIN <= value <= _INT64_MAX):
            value = _encode(value, key)
        buffer = self.log._buffer
        time = self.time
        row = buffer.rows.get(time)
        if row is None:
            floor = buffer.floor
            if floor is None or time <= floor:
                buffer.row_set(time, key, value)
                return
            # A new row (and, for an owned UUID, one known to be empty).
            row = buffer.rows[time] = {}
        elif row.__class__ is _MergedRow:
            buffer.row_set(time, key, value)
            return
        row[key] = value
        buffer.dirty_rows[time] = row
        if monotonic() >= buffer.deadline:
            buffer.flush()

    def __delitem__(self, key):
        self.log._buffer.row_delete(self.time, key)

    def __iter__(self):
        return iter(self.log._buffer.row_keys(self.time))

    def __len__(self):
        return len(self.log._buffer.row_keys(self.time))

    def __repr__(self):
        return f'{type(self).__name__}(time={self.time}, {dict(self)!r})'
