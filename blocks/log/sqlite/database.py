"""The SQLite database of the log: schema, connection, path checks, queries.

The tables ``entries`` and ``status`` are those of the original Blocks.
A third table, ``uuids``, says for every UUID the run it belongs to, how it
came to be (``'new'``, ``'checkpoint'``: the live log moved on when a
checkpoint pickled it, ``'resumed'``: training resumed) and when it was
first and last committed. Readers that do not know it ignore it.
"""
import difflib
import os
import sqlite3
from time import time as wall_time

from blocks.serialization.atomic import check_destination

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

unwritable_database_message = """\
cannot use {path!r} as the SQLite log database: {problem}. Fix that, or \
choose another file: set the environment variable BLOCKS_SQLITEDB or \
`blocks.config.config.sqlite_database`, or pass `database=` to SQLiteLog \
(':memory:' keeps the log in memory)."""

SCHEMA = (
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
       );""",
    """CREATE TABLE IF NOT EXISTS uuids (
           uuid TEXT PRIMARY KEY,
           run_id TEXT NOT NULL,
           origin TEXT NOT NULL,
           started REAL NOT NULL,
           updated REAL NOT NULL
       );""",
    'CREATE INDEX IF NOT EXISTS uuids_by_run ON uuids(run_id);')
INSERT_ENTRY = 'INSERT OR REPLACE INTO entries VALUES (?, ?, ?, ?)'
INSERT_STATUS = 'INSERT OR REPLACE INTO status VALUES (?, ?, ?)'
# Many records per statement: a third less time per record when committing.
CHUNK = 128
INSERT_ENTRIES = ('INSERT OR REPLACE INTO entries VALUES ' +
                  ', '.join(['(?, ?, ?, ?)'] * CHUNK))
TOUCH_UUID = """INSERT INTO uuids VALUES (?, ?, ?, ?, ?)
    ON CONFLICT(uuid) DO UPDATE SET updated = excluded.updated"""
# The UUID of a run that was committed last: the one training writes now.
HEAD_QUERY = """SELECT uuid FROM uuids WHERE run_id = ?
    ORDER BY updated DESC, rowid DESC LIMIT 1"""


_PROBLEMS = {
    FileNotFoundError: "the directory {directory} does not exist",
    NotADirectoryError: "{directory} is not a directory",
    IsADirectoryError: "it is a directory",
    PermissionError: "the directory {directory} is not writable",
}


def check_database_path(database: str) -> None:
    """Raise early if SQLite could not create or write the database."""
    if database in ('', ':memory:'):
        return
    directory = os.path.dirname(os.path.abspath(database))
    try:
        # SQLite creates the file and its write-ahead log next to it.
        check_destination(database)
    except OSError as exc:
        problem = _PROBLEMS.get(type(exc), '{exc}').format(
            directory=directory, exc=exc)
        raise type(exc)(unwritable_database_message.format(
            path=database, problem=problem)) from exc


def connect(database: str) -> sqlite3.Connection:
    """A connection for a log that writes, with the schema created."""
    check_database_path(database)
    conn = sqlite3.connect(database, timeout=30, check_same_thread=False)
    try:
        # Readers in other processes do not block the writer, nor it them.
        conn.execute('PRAGMA journal_mode=WAL')
        with conn:
            for statement in SCHEMA:
                conn.execute(statement)
    except sqlite3.Error as exc:
        conn.close()
        raise sqlite3.OperationalError(unwritable_database_message.format(
            path=database, problem=str(exc))) from exc
    return conn


def placeholders(count: int) -> str:
    return ', '.join('?' * count)


def touch_uuid(conn: sqlite3.Connection, h_uuid: str, run_id: str,
               origin: str) -> None:
    """Record that ``h_uuid`` of run ``run_id`` was committed now."""
    now = wall_time()
    conn.execute(TOUCH_UUID, (h_uuid, run_id, origin, now, now))


def run_head(conn: sqlite3.Connection, run_id: str) -> str | None:
    """The UUID that run ``run_id`` committed last (``None``: no such run)."""
    row = conn.execute(HEAD_QUERY, (run_id,)).fetchone()
    return None if row is None else row[0]


class UnknownRunError(LookupError):
    """No run in the database has the identifier that was asked for."""


def run_ids(conn: sqlite3.Connection) -> list[str]:
    """The identifiers of the runs in the database, newest first."""
    return [run_id for run_id, in conn.execute(
        'SELECT run_id FROM uuids GROUP BY run_id '
        'ORDER BY MAX(updated) DESC')]


def resolve_run(conn: sqlite3.Connection, run: str, path: str) -> str:
    """The run id of ``run``: a run id, a UUID of the run, or a prefix.

    Raises
    ------
    UnknownRunError
        If no run matches, or a prefix matches several; the message lists
        the closest run ids.
    """
    found = conn.execute('SELECT run_id FROM uuids WHERE run_id = ? OR '
                         'uuid = ?', (run, run)).fetchone()
    if found is not None:
        return found[0]
    known = run_ids(conn)
    matches = sorted({run_id for run_id, in conn.execute(
        "SELECT run_id FROM uuids WHERE substr(run_id, 1, ?) = ? OR "
        "substr(uuid, 1, ?) = ?", (len(run), run, len(run), run))})
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise UnknownRunError(
            f"the run id {run!r} is ambiguous in {path}: it starts "
            f"{', '.join(matches)}; give more characters")
    if not known:
        raise UnknownRunError(
            f"there is no run {run!r} in {path}: the database holds no "
            f"runs of this version of blocks")
    closest = difflib.get_close_matches(run, known, n=3, cutoff=0) \
        or known[:3]
    raise UnknownRunError(
        f"there is no run {run!r} in {path}; the closest run ids are "
        f"{', '.join(closest)} (`blocks-log runs {path}` lists them all)")
