"""The public classes of the SQLite log: the log, its status and its rows."""
import sqlite3
import weakref
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any
from uuid import UUID

from blocks.config import config
from blocks.log.log import TrainingLogBase
from blocks.log.sqlite.database import resolve_run, run_head
from blocks.log.sqlite.buffer import MISSING, MergedRow, WriteBuffer
from blocks.log.sqlite.encoding import Blob, encode


class SQLiteLog(TrainingLogBase, Mapping):
    r"""Training log using SQLite as a backend.

    Parameters
    ----------
    database : str, optional
        The database (file) to connect to. Can also be ``':memory:'``. See
        :func:`sqlite3.connect` for details. Uses ``config.sqlite_database``
        by default. A file that cannot be created or written is an error
        here, not at the first commit.
    allow_pickle : bool
        Unpickle stored objects that are not numbers, strings, arrays or
        lists, tuples and dicts of those when reading them. Unpickling runs
        code chosen by whoever wrote the file: allow it only for files you
        trust. By default reading such a value raises
        :class:`~blocks.log.sqlite.PickledValueError`.
    run_id : str, optional
        Follow the run with this identifier (see :attr:`run_id`): reads
        span every row the run wrote, through its checkpoints and
        resumptions, including those written after this log was opened.
        A UUID of the run or a unique prefix also works.
    \*\*kwargs
        Arguments to pass to :class:`TrainingLogBase`, such as ``uuid`` to
        reopen an existing log.

    Raises
    ------
    UnknownRunError
        If ``run_id`` is not in the database.

    Notes
    -----
    Rows and status are stored as ``(uuid, [time,] key, value)`` records.
    SQLite natively stores ``None``, integers, floats and strings (so
    ``True`` reads back as ``1``, and NaN as ``None``); 0-d arrays are
    stored as floats. Arrays, NumPy scalars, ``bytes``, and lists, tuples
    and dicts of plain values are encoded so that reading them runs no
    code; any other object is pickled (see ``allow_pickle``). Store values
    by assignment: a value mutated in place is not saved.

    Row reads, ``iter(log)`` and ``len(log)`` span the current log and the
    logs it was resumed from; writes go to the current log. Reading never
    creates rows.

    Writes are buffered and committed at least once a second and by
    :meth:`flush`. Several runs can share a database, and other processes
    can read it while it is written (it is in write-ahead-log mode). A log
    reopened by UUID (``SQLiteLog(database, uuid=...)``) reads what is
    committed every time, so it follows that UUID as another process
    writes it; a log opened by run id follows the whole run. An unpickled
    log continues the pickled UUID as its only writer.

    Examples
    --------
    >>> import numpy
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

    _uuid: UUID
    # Logs pickled before this option existed unpickle without it.
    allow_pickle = False

    def __init__(self, database: str | None = None, *,
                 allow_pickle: bool = False, run_id: str | None = None,
                 **kwargs: Any):
        if database is None:
            database = config.sqlite_database
        self.database = database
        self.allow_pickle = allow_pickle
        buffer = self._open()
        self.status = SQLiteStatus(self)
        if run_id is not None:
            if kwargs.get('uuid') is not None:
                raise ValueError(
                    "give SQLiteLog either uuid= (one UUID) or run_id= (a "
                    "whole run), not both")
            run_id = self._resolve(run_id)
            buffer.follow_run = run_id
            head = run_head(buffer.conn, run_id)
            assert head is not None  # resolved in this database
            kwargs['uuid'] = UUID(head)
        super().__init__(**kwargs)
        if kwargs.get('uuid') is None:
            buffer.origin = 'new'
            buffer.mark_owned()
            # Readers can find the run (by its id) from now on.
            buffer.flush()

    def _resolve(self, run: str) -> str:
        return resolve_run(self._buffer.conn, run, self.database)

    def _open(self) -> WriteBuffer:
        buffer = WriteBuffer(self.database, self.allow_pickle)
        if '_uuid' in self.__dict__:  # unpickled
            buffer.switch(self._uuid.hex)
            buffer.adopt()
        self._buffer = buffer
        # Commit what is buffered when the log is collected or at exit.
        self._finalizer = weakref.finalize(self, buffer.close)
        return buffer

    def __getattr__(self, name: str) -> Any:
        # Only called for missing attributes: the buffer and its connection
        # are opened on first use after unpickling.
        if name == '_buffer' and 'database' in self.__dict__:
            return self._open()
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r}")

    @property  # type: ignore[override]
    def uuid(self) -> UUID:
        """The :class:`uuid.UUID` of this log.

        For a log that follows a run, the UUID that the run wrote last.
        """
        buffer = self.__dict__.get('_buffer')
        if buffer is not None and buffer.follow_run is not None:
            buffer.follow()
            if buffer.h_uuid != self._uuid.hex:
                self._uuid = UUID(buffer.h_uuid)
        return self._uuid

    @uuid.setter
    def uuid(self, value: UUID) -> None:
        self._buffer.switch(value.hex)
        self._uuid = value

    @property
    def conn(self) -> sqlite3.Connection:
        """The connection to the database, opened on first use."""
        return self._buffer.conn

    @conn.setter
    def conn(self, value: sqlite3.Connection) -> None:
        self._buffer.conn = value

    @property
    def current_row(self) -> 'SQLiteEntry':
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
        self._continue('resumed')

    def _continue(self, origin: str) -> None:
        """Continue under a new UUID, created because of ``origin``."""
        super().resume()
        buffer = self._buffer
        buffer.follow_run = None
        buffer.origin = origin
        buffer.mark_owned()

    def flush(self) -> None:
        """Commit the buffered writes now.

        Afterwards they are durable and other connections see them.
        """
        buffer = self.__dict__.get('_buffer')
        if buffer is not None:
            buffer.flush()

    def __getstate__(self) -> dict[str, Any]:
        """Retrieve the state for pickling.

        :class:`sqlite3.Connection` objects are not picklable, so the
        connection is left out and re-opened upon unpickling. Buffered
        writes are committed first. As in Blocks, the pickled log keeps the
        current UUID while this log continues under a new one, so that the
        two never write to the same UUID; both keep the run id.
        """
        self.flush()
        state = self.__dict__.copy()
        for name in ('_buffer', '_finalizer'):
            state.pop(name, None)
        self._continue('checkpoint')
        return state

    def __getitem__(self, time: int) -> 'SQLiteEntry':
        self._check_time(time)
        return SQLiteEntry(self, time)

    def __iter__(self) -> Iterator[int]:
        return iter(self._buffer.times())

    def __len__(self) -> int:
        return len(self._buffer.times())


def _load(value: Any, buffer: WriteBuffer, key: str) -> Any:
    if value.__class__ is Blob:
        return value.load(buffer.allow_pickle, key)
    return value


class SQLiteStatus(MutableMapping):
    """The status of an :class:`SQLiteLog`, for its current UUID.

    Parameters
    ----------
    log : :class:`SQLiteLog`
        The log.
    """

    def __init__(self, log: SQLiteLog):
        self.log = log

    def __getitem__(self, key: str) -> Any:
        value = self.get(key, MISSING)
        if value is MISSING:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        buffer = self.log._buffer
        value = buffer.status.get(key, MISSING)
        if value is MISSING:
            value = buffer.status_get(key)
            if value is MISSING:
                return default
        return _load(value, buffer, key)

    def __contains__(self, key: object) -> bool:
        return self.log._buffer.status_get(key) is not MISSING

    def __setitem__(self, key: str, value: Any) -> None:
        buffer = self.log._buffer
        buffer.status[key] = encode(value, key)
        buffer.status_dirty = True
        if key == 'resumed_from':
            buffer.ancestry_changed()
        buffer.touch()

    def __delitem__(self, key: str) -> None:
        self.log._buffer.status_delete(key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.log._buffer.status_keys())

    def __len__(self) -> int:
        return len(self.log._buffer.status_keys())

    def __repr__(self) -> str:
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

    def __init__(self, log: SQLiteLog, time: int):
        self.log = log
        self.time = time

    def __getitem__(self, key: str) -> Any:
        value = self.get(key, MISSING)
        if value is MISSING:
            raise KeyError(key)
        return value

    def get(self, key: str, default: Any = None) -> Any:
        buffer = self.log._buffer
        row = buffer.rows.get(self.time)
        if row is None:
            value = buffer.row_get(self.time, key)
        else:
            value = row.get(key, MISSING)
            if value is MISSING and not buffer.owned:
                value = buffer.row_get(self.time, key)
        if value is MISSING:
            return default
        return _load(value, buffer, key)

    def __contains__(self, key: object) -> bool:
        return self.get(key, MISSING) is not MISSING  # type: ignore

    def __setitem__(self, key: str, value: Any) -> None:
        value = encode(value, key)
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
        elif row.__class__ is MergedRow:
            buffer.row_set(time, key, value)
            return
        row[key] = value
        buffer.dirty_rows[time] = row
        buffer.touch()

    def __delitem__(self, key: str) -> None:
        self.log._buffer.row_delete(self.time, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.log._buffer.row_keys(self.time))

    def __len__(self) -> int:
        return len(self.log._buffer.row_keys(self.time))

    def __repr__(self) -> str:
        return f'{type(self).__name__}(time={self.time}, {dict(self)!r})'


# Pickles (checkpoints) and the docs name the classes by their public path.
for _cls in (SQLiteLog, SQLiteStatus, SQLiteEntry):
    _cls.__module__ = 'blocks.log.sqlite'
