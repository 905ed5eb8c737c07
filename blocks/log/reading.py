"""Read the runs of an SQLite log database: the Python side of ``blocks-log``.

These functions open the database read-only and never write to it; they
work while training writes it. A *run* is what one training script started,
through its checkpoints and resumptions (see
:attr:`~blocks.log.TrainingLogBase.run_id`); its rows are those of the UUID
it wrote last and of that UUID's ancestors, the nearest winning where two
wrote the same record (a resumed run rewrites what the run it was resumed
from wrote after the checkpoint).

Examples
--------
>>> import os, tempfile
>>> from blocks.log import SQLiteLog, list_runs, read_rows
>>> directory = tempfile.TemporaryDirectory()
>>> path = os.path.join(directory.name, 'log.sqlite')
>>> log = SQLiteLog(path)
>>> for time in range(3):
...     log.status['iterations_done'] = time
...     log[time]['cost'] = 1 / (time + 1)
>>> log.flush()
>>> [run.iterations_done for run in list_runs(path)]
[2]
>>> read_rows(path, records=['cost'])
[{'iteration': 0, 'cost': 1.0}, {'iteration': 1, 'cost': 0.5}, \
{'iteration': 2, 'cost': 0.3333333333333333}]
>>> del log
>>> directory.cleanup()
"""
import dataclasses
import difflib
import os
import sqlite3
import time as time_module
from collections.abc import Iterator, Sequence
from typing import Any

from blocks.log.sqlite.database import (ANCESTORS_QUERY, UnknownRunError,
                                        placeholders, resolve_run)
from blocks.log.sqlite.encoding import (Blob, PickledValueError,
                                        from_database)

#: A run whose last commit is older than this many seconds, and that did not
#: finish, is shown as interrupted rather than running.
RUNNING_SECONDS = 120.0

#: Shown instead of a pickled value that the reader did not allow to load.
PICKLED = '<pickled>'

not_a_log_message = """\
{path} is not a blocks log database ({problem}). Give the file that the \
SQLite log wrote: config.sqlite_database (by default ~/blocks_log.sqlite, \
or $BLOCKS_SQLITEDB), or the `database` given to SQLiteLog (the demo \
writes blocks-demo/log.sqlite)."""

unknown_record_message = """\
the run {run} never logged {record!r}{closest}. Its records are: \
{logged}."""


class NotALogError(ValueError):
    """The file is not an SQLite log database."""


class UnknownRecordError(KeyError):
    """A record name that the run never logged."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclasses.dataclass
class Run:
    """A training run in a log database, as ``blocks-log runs`` lists it.

    Attributes
    ----------
    run_id
        The run's identifier: the UUID of its first log.
    head
        The UUID that the run wrote last; :attr:`uuids` are its chain,
        nearest first.
    started, updated
        When the run was first and last committed (seconds since the
        epoch), ``None`` for logs of older versions.
    iterations_done, epochs_done
        From the status of :attr:`head`.
    state
        ``'finished'``, ``'running'`` (committed in the last
        :data:`RUNNING_SECONDS` seconds) or ``'interrupted'``.
    resumptions
        How many times training was resumed (checkpoints alone do not
        count).
    """

    run_id: str
    head: str
    uuids: list[str]
    started: float | None
    updated: float | None
    iterations_done: int
    epochs_done: int
    state: str
    resumptions: int


def connect(path: str) -> sqlite3.Connection:
    """Open a log database read-only, checking that it is one.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    NotALogError
        If the file is not an SQLite log database.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(not_a_log_message.format(
            path=path, problem="there is no such file"))
    conn = sqlite3.connect(f'file:{os.path.abspath(path)}?mode=ro',
                           uri=True, timeout=30)
    try:
        tables = {name for name, in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise NotALogError(not_a_log_message.format(
            path=path, problem=str(exc))) from exc
    missing = {'entries', 'status'} - tables
    if missing:
        conn.close()
        raise NotALogError(not_a_log_message.format(
            path=path, problem=f"it has no table {', '.join(sorted(missing))}"
        ))
    return conn


def list_runs(path: str) -> list[Run]:
    """The runs in a log database, the most recently written first."""
    with LogDatabase(path) as database:
        return [database.run(run_id) for run_id in database.run_ids()]


def read_rows(path: str, run: str | None = None,
              records: Sequence[str] | None = None, *,
              allow_pickle: bool = False) -> list[dict[str, Any]]:
    """The rows of a run, by iteration.

    Parameters
    ----------
    path
        The database.
    run
        A run id, a UUID of the run or a unique prefix; by default the run
        written last.
    records
        Only these records (and only rows that have one of them); by
        default all.
    allow_pickle
        Unpickle stored objects that are not plain values (this runs code
        from the file: only for files you trust); otherwise they raise
        :class:`~blocks.log.sqlite.PickledValueError`.

    Returns
    -------
    list of dict
        One dict per iteration that has records: ``'iteration'`` and the
        records.

    Raises
    ------
    UnknownRunError, UnknownRecordError, NotALogError
    """
    with LogDatabase(path) as database:
        run_id = database.resolve(run)
        return list(database.rows(run_id, records, allow_pickle))


def read_dataframe(path: str, run: str | None = None,
                   records: Sequence[str] | None = None, *,
                   allow_pickle: bool = False) -> Any:
    """The rows of a run as a :class:`pandas.DataFrame` indexed by iteration.

    Takes the arguments of :func:`read_rows`. Needs pandas (``pip install
    'blocks[plot]'``).
    """
    pandas = require('pandas', 'plot')
    rows = read_rows(path, run, records, allow_pickle=allow_pickle)
    frame = pandas.DataFrame.from_records(rows, columns=columns(rows))
    return frame.set_index('iteration')


def follow_rows(path: str, run: str | None = None,
                records: Sequence[str] | None = None, *,
                interval: float = 1.0, allow_pickle: bool = False,
                stop: Any = None) -> Iterator[dict[str, Any]]:
    """Yield the rows of a run as training writes them.

    First the rows written so far, then every new or changed row, checking
    every ``interval`` seconds, until the run finishes or ``stop()``
    returns true. Takes the other arguments of :func:`read_rows`; a record
    that a running run has not logged yet is not an error.
    """
    seen: dict[int, dict[str, Any]] = {}
    while True:
        with LogDatabase(path) as database:
            run_id = database.resolve(run)
            run = run_id
            state = database.run(run_id).state
            for row in database.rows(run_id, records, allow_pickle,
                                     check=state != 'running'):
                if seen.get(row['iteration']) != row:
                    seen[row['iteration']] = row
                    yield row
            finished = state == 'finished'
        if finished or (stop is not None and stop()):
            return
        time_module.sleep(interval)


def require(module: str, extra: str) -> Any:
    """Import an optional dependency, or say which extra installs it."""
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"this needs {module}, which is not installed: install blocks "
            f"with the {extra!r} extra (pip install 'blocks[{extra}]') or "
            f"install {module} itself") from exc


def columns(rows: list[dict[str, Any]]) -> list[str]:
    """``'iteration'`` and every record of ``rows``, in order of appearance."""
    columns = dict.fromkeys(['iteration'])
    for row in rows:
        columns.update(dict.fromkeys(row))
    return list(columns)


class LogDatabase:
    """A log database open read-only, with the map of its UUIDs to runs.

    The functions above and ``blocks-log`` read through it; use it as a
    context manager (it closes the connection).

    Parameters
    ----------
    path : str
        The database.
    """

    def __init__(self, path: str):
        self.path = os.fspath(path)
        self.conn = connect(self.path)
        self.uuids = self._uuids()

    def __enter__(self) -> 'LogDatabase':
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.conn.close()

    def _uuids(self) -> dict[str, tuple[str, str, float | None,
                                        float | None]]:
        """``uuid -> (run_id, origin, started, updated)``."""
        conn = self.conn
        tables = {name for name, in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        uuids: dict[str, tuple[str, str, float | None, float | None]] = {}
        if 'uuids' in tables:
            for uuid, run_id, origin, started, updated in conn.execute(
                    'SELECT uuid, run_id, origin, started, updated FROM '
                    'uuids ORDER BY updated, rowid'):
                uuids[uuid] = (run_id, origin, started, updated)
        # Logs of older versions: a run is a chain of resumptions, named
        # after its first UUID.
        parents = dict(conn.execute(
            "SELECT uuid, value FROM status WHERE \"key\" = 'resumed_from'"))
        for uuid, in conn.execute('SELECT DISTINCT uuid FROM status'):
            if uuid not in uuids:
                root, seen = uuid, {uuid}
                while isinstance(parents.get(root), str) \
                        and parents[root] not in seen:
                    root = parents[root]
                    seen.add(root)
                uuids[uuid] = (root, 'resumed' if root != uuid else 'new',
                               None, None)
        return uuids

    def run_ids(self) -> list[str]:
        last: dict[str, float] = {}
        for order, (run_id, _, _, updated) in enumerate(
                self.uuids.values()):
            last[run_id] = order if updated is None else updated
        return sorted(last, key=last.__getitem__, reverse=True)

    def resolve(self, run: str | None) -> str:
        if run is None:
            ids = self.run_ids()
            if not ids:
                raise UnknownRunError(f"{self.path} holds no runs yet")
            return ids[0]
        if any(run_id == run for run_id, *_ in self.uuids.values()):
            return run
        if run in self.uuids:
            return self.uuids[run][0]
        try:
            return resolve_run(self.conn, run, self.path)
        except sqlite3.OperationalError:  # no uuids table
            closest = difflib.get_close_matches(run, self.run_ids(), n=3,
                                                cutoff=0)
            raise UnknownRunError(
                f"there is no run {run!r} in {self.path}; the closest run "
                f"ids are {', '.join(closest)}") from None

    def chain(self, run_id: str) -> list[str]:
        members = [uuid for uuid, (owner, *_) in self.uuids.items()
                   if owner == run_id]
        head = members[-1]
        return [head] + [uuid for uuid, in self.conn.execute(
            ANCESTORS_QUERY, (head,)) if uuid != head and uuid is not None]

    def status(self, uuid: str) -> dict[str, Any]:
        return {key: _decode(value, key, False, True) for key, value in
                self.conn.execute('SELECT "key", value FROM status WHERE '
                                  'uuid = ?', (uuid,))}

    def run(self, run_id: str) -> Run:
        chain = self.chain(run_id)
        status = self.status(chain[0])
        times = [self.uuids[uuid] for uuid in chain if uuid in self.uuids]
        started = min((t[2] for t in times if t[2] is not None),
                      default=None)
        updated = max((t[3] for t in times if t[3] is not None),
                      default=None)
        finished = self.conn.execute(
            f'SELECT 1 FROM entries WHERE "key" = \'training_finished\' '
            f'AND uuid IN ({placeholders(len(chain))}) LIMIT 1',
            chain).fetchone()
        if finished:
            state = 'finished'
        elif updated is not None and \
                time_module.time() - updated < RUNNING_SECONDS:
            state = 'running'
        else:
            state = 'interrupted'
        resumptions = sum(1 for t in times if t[1] == 'resumed')
        return Run(run_id=run_id, head=chain[0], uuids=chain,
                   started=started, updated=updated,
                   iterations_done=_int(status.get('iterations_done')),
                   epochs_done=_int(status.get('epochs_done')),
                   state=state, resumptions=resumptions)

    def rows(self, run_id: str, records: Sequence[str] | None,
             allow_pickle: bool, placeholder: bool = False,
             check: bool = True) -> Iterator[dict[str, Any]]:
        chain = self.chain(run_id)
        where = f'uuid IN ({placeholders(len(chain))})'
        if records is not None:
            if check:
                self.check_records(run_id, chain, records)
            where += f' AND "key" IN ({placeholders(len(records))})'
        rank = {uuid: index for index, uuid in enumerate(chain)}
        rows: dict[int, dict[str, tuple[int, Any]]] = {}
        for uuid, time, key, value in self.conn.execute(
                f'SELECT uuid, time, "key", value FROM entries WHERE '
                f'{where}', [*chain, *(records or ())]):
            row = rows.setdefault(time, {})
            if key not in row or rank[uuid] < row[key][0]:
                row[key] = (rank[uuid], value)
        order = None if records is None else list(records)
        for time in sorted(rows):
            row = rows[time]
            keys = order or sorted(row)
            result = {'iteration': time}
            for key in keys:
                if key in row:
                    result[key] = _decode(row[key][1], key, allow_pickle,
                                          placeholder, time)
            yield result

    def records(self, chain: list[str]) -> list[str]:
        return [key for key, in self.conn.execute(
            f'SELECT DISTINCT "key" FROM entries WHERE uuid IN '
            f'({placeholders(len(chain))}) ORDER BY "key"', chain)]

    def check_records(self, run_id: str, chain: list[str],
                      records: Sequence[str]) -> None:
        logged = self.records(chain)
        for record in records:
            if record not in logged:
                closest = difflib.get_close_matches(record, logged, n=3)
                hint = (f" (closest: {', '.join(closest)})" if closest
                        else "")
                raise UnknownRecordError(unknown_record_message.format(
                    run=run_id, record=record, closest=hint,
                    logged=', '.join(logged) or 'none'))


def _decode(value: Any, key: str, allow_pickle: bool, placeholder: bool,
            time: int | None = None) -> Any:
    value = from_database(value, key)
    if value.__class__ is not Blob:
        return value
    try:
        return value.load(allow_pickle, key, time)
    except PickledValueError:
        if placeholder:
            return PICKLED
        raise


def _int(value: Any) -> int:
    return value if isinstance(value, int) else 0
