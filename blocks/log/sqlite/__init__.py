"""SQLite backend for the training log.

The log lives in a database file that several runs can share and that other
processes can read while training writes it. The schema is the one of the
original Blocks::

    entries(uuid TEXT NOT NULL, time INT NOT NULL, "key" TEXT NOT NULL,
            value, PRIMARY KEY(uuid, time, "key"))
    status(uuid TEXT NOT NULL, "key" text NOT NULL, value,
           PRIMARY KEY(uuid, "key"))

where ``uuid`` is the :attr:`~SQLiteLog.h_uuid` of a log, plus a table
``uuids`` that says which run each UUID belongs to.

The package has one module per job:

- :mod:`~blocks.log.sqlite.encoding`: how values are stored, and read back
  without running code (only numbers, strings, arrays and containers of
  them; pickles only when the reader allows them);
- :mod:`~blocks.log.sqlite.database`: the schema, the connection and its
  path checks, the queries over runs and ancestors;
- :mod:`~blocks.log.sqlite.buffer`: the write-behind buffer. Unlike the
  original, which committed every write, writes are kept in memory and
  committed together, at least once a second (checked on writes), and
  whenever :meth:`SQLiteLog.flush` is called: the main loop does so at the
  end of every epoch, at checkpoints (pickling) and when training stops,
  and the log flushes when it is garbage collected or the interpreter
  exits. A crash loses at most the writes since the last commit; SQLite's
  transactions keep the file consistent;
- :mod:`~blocks.log.sqlite.mapping`: :class:`SQLiteLog` and its status and
  row mappings.

One run, one identity: a log's UUID changes at every checkpoint and
resumption (as in Blocks, so that a run resumed from a checkpoint never
writes over the rows of the run that went on after it), but
``status['run_id']``, the UUID of the run's first log, stays the same.
``SQLiteLog(path, run_id=...)`` and :mod:`blocks.log.reading` follow it.
"""
from blocks.log.sqlite.database import ANCESTORS_QUERY, UnknownRunError
from blocks.log.sqlite.encoding import LARGE_BLOB_WARNING, PickledValueError
from blocks.log.sqlite.mapping import SQLiteEntry, SQLiteLog, SQLiteStatus

__all__ = ['ANCESTORS_QUERY', 'LARGE_BLOB_WARNING', 'PickledValueError',
           'SQLiteEntry', 'SQLiteLog', 'SQLiteStatus', 'UnknownRunError']
