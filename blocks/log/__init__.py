"""Training logs: what happened at every iteration, and the status.

Two backends store a log: ``'python'`` (:class:`TrainingLog`, in memory,
saved by pickling) and ``'sqlite'`` (:class:`SQLiteLog`, in a database file
that other processes can read while training runs). :func:`list_runs`,
:func:`read_rows`, :func:`read_dataframe` and :func:`follow_rows` read the
runs of an SQLite log database, as the ``blocks-log`` command does.
"""
from blocks.log.log import TrainingLog, TrainingLogBase
from blocks.log.reading import (NotALogError, Run, UnknownRecordError,
                                follow_rows, list_runs, read_dataframe,
                                read_rows)
from blocks.log.sqlite import SQLiteLog, UnknownRunError

__all__ = ['BACKENDS', 'NotALogError', 'Run', 'SQLiteLog', 'TrainingLog',
           'TrainingLogBase', 'UnknownRecordError', 'UnknownRunError',
           'follow_rows', 'get_backend', 'list_runs', 'read_dataframe',
           'read_rows']

#: The log classes by backend name (``config.log_backend``).
BACKENDS = {
    'python': TrainingLog,
    'sqlite': SQLiteLog
}


def get_backend(name: str) -> type:
    """The log class of a backend.

    Parameters
    ----------
    name : str
        A key of :data:`BACKENDS`, such as ``config.log_backend``.

    Raises
    ------
    ValueError
        If there is no such backend.

    Examples
    --------
    >>> get_backend('sqlite')
    <class 'blocks.log.sqlite.SQLiteLog'>
    """
    try:
        return BACKENDS[name]
    except KeyError:
        valid = ', '.join(repr(backend) for backend in BACKENDS)
        raise ValueError(
            f"unknown log backend {name!r}: the backends are {valid}. Set "
            f"config.log_backend (or the main loop's log_backend) to one "
            f"of them.") from None
