"""The write-behind buffer of an SQLite log.

Writes to the current UUID are kept in memory and committed together, at
least once every :data:`COMMIT_INTERVAL` seconds (checked on writes) and
whenever :meth:`WriteBuffer.flush` is called. Reads see buffered writes; the
status of the current UUID and the recently written rows are served from
memory, so that a batch of training runs no SQL between commits.
"""
import logging
import math
import os
from collections.abc import Iterable
from itertools import islice
from time import monotonic
from typing import Any

from blocks.log.sqlite import database
from blocks.log.sqlite.database import (ANCESTORS_QUERY, CHUNK,
                                        INSERT_ENTRIES, INSERT_ENTRY,
                                        INSERT_STATUS, placeholders)
from blocks.log.sqlite.encoding import Blob, from_database, to_database

logger = logging.getLogger(__name__)

#: Longest time, in seconds, that a write stays uncommitted (checked on
#: writes; :meth:`WriteBuffer.flush` commits at once).
COMMIT_INTERVAL = 1.0

#: Rows kept in memory after a commit: the most recently created ones.
CACHED_ROWS = 256

#: Marks a record or status key that is not there.
MISSING: Any = object()


class MergedRow(dict):
    """A row read from the database, merged over the ancestors.

    Only the keys in ``dirty`` were written by this log; the others must not
    be copied to its UUID when committing.
    """

    __slots__ = ('dirty',)

    def __init__(self, items: Iterable[tuple[str, Any]] = ()):
        super().__init__(items)
        self.dirty: set[str] = set()


class WriteBuffer:
    """The write-behind cache of the current UUID of one log.

    ``status`` and ``rows`` hold values in their cached form (see
    :func:`~blocks.log.sqlite.encoding.encode`); ``dirty_rows`` maps the
    times of rows with uncommitted writes to the rows, and ``status_dirty``
    says whether the status has some.

    An *owned* UUID is one this log created (a new log, or
    :meth:`~TrainingLogBase.resume`) or unpickled: nobody else writes it,
    so ``status`` is its complete status, and every row of it is in
    ``rows`` unless it is in the database (committed and evicted, or
    written before pickling). Rows of ancestors do not change. Hence a row
    newer than ``floor``, the last time found in the database for the
    ancestors or evicted from memory, is exactly what ``rows`` has, and an
    older row is read from the database once and then kept, complete, as a
    :class:`MergedRow`. A UUID that is not owned (a log reopened by
    UUID, until it resumes) may be written by another process:
    ``status`` and ``rows`` hold only this log's writes, and the rest is
    read from the database every time. A log that follows a run
    (``follow_run``, its run id) moves to the UUID that the run committed
    last whenever it reads the database.

    ``origin`` says how the current UUID came to be (see the ``uuids``
    table in :mod:`~blocks.log.sqlite.database`).
    """

    def __init__(self, path: str, allow_pickle: bool = False):
        self.conn = database.connect(path)
        self.pid = os.getpid()
        self.allow_pickle = allow_pickle
        self.follow_run: str | None = None
        self.h_uuid: str | None = None
        self.switch(None)

    def switch(self, h_uuid: str | None, origin: str = 'reopened') -> None:
        """Commit what is buffered, then start afresh with another UUID."""
        if self.h_uuid is not None:
            self.flush()
        self.h_uuid = h_uuid
        self.origin = origin
        self.owned = False
        self.status: dict[str, Any] = {}
        self.status_dirty = False
        self.rows: dict[int, dict[str, Any]] = {}
        self.dirty_rows: dict[int, dict[str, Any]] = {}
        self._chain: list[str] | None = None
        self.floor: float | None = math.inf
        self.evicted = -1
        self.entry: Any = None
        self.deadline = monotonic() + COMMIT_INTERVAL

    def mark_owned(self) -> None:
        """Declare that the current UUID is new, created by this log."""
        self.owned = True
        self.floor = None

    def follow(self) -> None:
        """Move to the UUID that the followed run committed last."""
        assert self.follow_run is not None
        head = database.run_head(self.conn, self.follow_run)
        if head is not None and head != self.h_uuid:
            self.switch(head)

    def touch(self) -> None:
        """Commit if the oldest uncommitted write is due.

        The one deadline check, made by every write.
        """
        if monotonic() >= self.deadline:
            self.flush()

    def adopt(self) -> None:
        """Own the current UUID, which has records in the database.

        For an unpickled log: the log that was pickled resumed under
        another UUID, so this one is the only writer of the pickled UUID.
        """
        stored = self.conn.execute(
            'SELECT "key", value FROM status WHERE uuid = ?', (self.h_uuid,))
        self.status = {key: from_database(value, key)
                       for key, value in stored}
        last, = self.conn.execute('SELECT MAX(time) FROM entries WHERE '
                                  'uuid = ?', (self.h_uuid,)).fetchone()
        # Its rows in the database are read back like evicted ones.
        self.evicted = -1 if last is None else last
        self.mark_owned()

    def ancestry_changed(self) -> None:
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

    def status_get(self, key: Any) -> Any:
        value = self.status.get(key, MISSING)
        if value is MISSING and not self.owned:
            if self.follow_run is not None:
                self.follow()
            row = self.conn.execute(
                'SELECT value FROM status WHERE uuid = ? AND "key" = ?',
                (self.h_uuid, key)).fetchone()
            if row is not None:
                value = from_database(row[0], key)
        return value

    def status_delete(self, key: str) -> None:
        self.status.pop(key, None)
        with self.conn:
            self.conn.execute(
                'DELETE FROM status WHERE uuid = ? AND "key" = ?',
                (self.h_uuid, key))
        if key == 'resumed_from':
            self.ancestry_changed()

    def status_keys(self) -> list[str]:
        if self.follow_run is not None:
            self.follow()
        keys = dict.fromkeys(self.status)
        if not self.owned:
            keys.update(dict.fromkeys(key for key, in self.conn.execute(
                'SELECT "key" FROM status WHERE uuid = ?', (self.h_uuid,))))
        return list(keys)

    # Rows

    @property
    def chain(self) -> list[str]:
        """The current UUID followed by its ancestors, nearest first."""
        if self.follow_run is not None:
            self.follow()
        if self._chain is None:
            assert self.h_uuid is not None
            chain = [self.h_uuid]
            parent = self.status_get('resumed_from')
            if parent is not MISSING and parent is not None:
                for ancestor, in self.conn.execute(ANCESTORS_QUERY,
                                                   (parent,)):
                    if ancestor not in chain:
                        chain.append(ancestor)
            self._chain = chain
        return self._chain

    def _floor(self) -> float:
        if self.floor is None:
            ancestors = self.chain[1:]
            last = None
            if ancestors:
                last, = self.conn.execute(
                    f'SELECT MAX(time) FROM entries WHERE uuid IN '
                    f'({placeholders(len(ancestors))})',
                    ancestors).fetchone()
            self.floor = max(-1 if last is None else last, self.evicted)
        return self.floor

    def _database_row(self, time: int) -> 'MergedRow':
        """Row ``time`` of the current UUID and its ancestors, as stored."""
        chain = self.chain
        found: dict[str, list[tuple[int, Any]]] = {}
        for uuid, key, value in self.conn.execute(
                f'SELECT uuid, "key", value FROM entries WHERE uuid IN '
                f'({placeholders(len(chain))}) AND time = ?',
                chain + [time]):
            found.setdefault(key, []).append((chain.index(uuid), value))
        # The nearest log wins (a resumed run may rewrite a record).
        return MergedRow(
            (key, from_database(min(values, key=_first)[1], key))
            for key, values in found.items())

    def row(self, time: int) -> dict[str, Any]:
        """The cached row ``time``, read or created for a write."""
        row = self.rows.get(time)
        if row is None:
            if self.owned and time <= self._floor():
                row = self._database_row(time)
            else:
                row = {}
            self.rows[time] = row
        return row

    def row_get(self, time: int, key: str) -> Any:
        """A record of a row not in ``rows`` (or ``MISSING``).

        For a UUID that is not owned, also a record missing from ``rows``.
        """
        if self.owned:
            if time > self._floor():
                return MISSING
            return self.row(time).get(key, MISSING)
        return self._database_row(time).get(key, MISSING)

    def row_set(self, time: int, key: str, value: Any) -> None:
        row = self.rows.get(time)
        if row is None:
            row = self.row(time)
        row[key] = value
        if row.__class__ is MergedRow:
            row.dirty.add(key)
        self.dirty_rows[time] = row
        self.touch()

    def row_delete(self, time: int, key: str) -> None:
        row = self.rows.get(time)
        if row is not None:
            row.pop(key, None)
            if row.__class__ is MergedRow:
                row.dirty.discard(key)
        with self.conn:
            self.conn.execute(
                'DELETE FROM entries WHERE uuid = ? AND time = ? '
                'AND "key" = ?', (self.h_uuid, time, key))
        if row.__class__ is MergedRow:
            # An ancestor's record under the same key shows through again.
            stored = self._database_row(time)
            if key in stored:
                row[key] = stored[key]

    def row_keys(self, time: int) -> list[str]:
        if self.owned:
            if time not in self.rows and time > self._floor():
                return []
            return list(self.row(time))
        keys = dict.fromkeys(self.rows.get(time, ()))
        keys.update(dict.fromkeys(self._database_row(time)))
        return list(keys)

    def times(self) -> list[int]:
        chain = self.chain
        times = {time for time, in self.conn.execute(
            f'SELECT DISTINCT time FROM entries WHERE uuid IN '
            f'({placeholders(len(chain))})', chain)}
        times.update(time for time, row in self.rows.items() if row)
        return sorted(times)

    # Commits

    def flush(self) -> None:
        """Commit the buffered writes."""
        self.deadline = monotonic() + COMMIT_INTERVAL
        if not (self.dirty_rows or self.status_dirty):
            return
        h_uuid, conn = self.h_uuid, self.conn
        assert h_uuid is not None
        run_id = self.status_get('run_id')
        if run_id.__class__ is not str:
            run_id = h_uuid  # a log written before runs had an id
        with conn:
            database.touch_uuid(conn, h_uuid, run_id, self.origin)
            if self.dirty_rows:
                insert_entries(conn, h_uuid, self.dirty_rows)
            if self.status_dirty:
                conn.executemany(INSERT_STATUS, [
                    (h_uuid, key, to_database(value))
                    for key, value in self.status.items()])
        for row in self.dirty_rows.values():
            if row.__class__ is MergedRow:
                row.dirty.clear()
        self.dirty_rows = {}
        self.status_dirty = False
        self._evict()

    def _evict(self) -> None:
        rows = self.rows
        if len(rows) <= CACHED_ROWS:
            return
        for time in list(islice(rows, len(rows) - CACHED_ROWS // 2)):
            del rows[time]
            if time > self.evicted:
                self.evicted = time
        if self.floor is not None and self.floor < self.evicted:
            self.floor = self.evicted

    def close(self) -> None:
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


def insert_entries(conn: Any, h_uuid: str,
                   dirty_rows: dict[int, dict[str, Any]]) -> None:
    params: list[Any] = []
    extend = params.extend
    items: Iterable[tuple[str, Any]]
    for time, row in dirty_rows.items():
        if row.__class__ is MergedRow:
            items = [(key, row[key]) for key in row.dirty]
        else:
            items = row.items()
        for key, value in items:
            if value.__class__ is Blob:
                value = value.blob
            extend((h_uuid, time, key, value))
    size = 4 * CHUNK
    full = len(params) - len(params) % size
    if full:
        conn.executemany(INSERT_ENTRIES, [params[start:start + size]
                                           for start in range(0, full, size)])
    if full < len(params):
        conn.executemany(INSERT_ENTRY, [params[start:start + 4] for start
                                         in range(full, len(params), 4)])


def _first(item: tuple[int, Any]) -> int:
    return item[0]
