"""The training log interface and its in-memory (``'python'``) backend."""
from abc import ABCMeta
from collections import defaultdict
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4


class TrainingLogBase(metaclass=ABCMeta):
    """Base class for training logs.

    A training log maps a time (the number of iterations done, a
    non-negative integer) to a row: a mutable mapping of record names to
    values. It also keeps a :attr:`status`, a mapping that describes the
    state of training (``iterations_done``, ``epochs_done``, ...).

    Write to a log by assignment only (``log[t][key] = value``,
    ``log.status[key] = value``): a backend may hand out copies, so a value
    mutated in place is not saved.

    Parameters
    ----------
    uuid : :class:`uuid.UUID`, optional
        The UUID of this log. For persistent backends, providing a UUID
        reopens an existing log; its status is left alone. By default a new
        UUID is generated and the status is initialized, with
        ``status['run_id']`` set to it (see :attr:`run_id`).

    Notes
    -----
    Subclasses must set :attr:`status` before calling this constructor.
    """

    status: MutableMapping[str, Any]

    def __init__(self, uuid: UUID | None = None):
        self.uuid = uuid4() if uuid is None else uuid
        if uuid is None:
            self.status.update({
                'iterations_done': 0,
                'epochs_done': 0,
                '_epoch_ends': [],
                'resumed_from': None,
                'run_id': self.uuid.hex,
            })

    @property
    def h_uuid(self) -> str:
        """The hexadecimal form of :attr:`uuid`."""
        return self.uuid.hex

    @property
    def run_id(self) -> str:
        """The identifier of the run: the same through checkpoints and
        resumptions.

        It is the :attr:`h_uuid` of the run's first log, kept in
        ``status['run_id']``, which :meth:`resume` copies. A log written
        before runs had an identifier falls back to its :attr:`h_uuid`.
        """
        run_id = self.status.get('run_id')
        return run_id if isinstance(run_id, str) else self.h_uuid

    def resume(self) -> None:
        """Continue this log under a new UUID.

        The status is copied to the new UUID (so :attr:`run_id` stays the
        same) and ``status['resumed_from']`` is set to the previous
        :attr:`h_uuid`.
        """
        old_uuid = self.h_uuid
        old_status = dict(self.status)
        self.uuid = uuid4()
        self.status.update(old_status)
        self.status['resumed_from'] = old_uuid

    def flush(self) -> None:
        """Make every write so far durable and visible to other readers.

        A no-op for logs that have nothing to write out; persistent
        backends override it. The main loop calls it at the end of every
        epoch, at checkpoints and when training stops.
        """

    if TYPE_CHECKING:
        def __getitem__(self, time: int) -> Any: ...

    def _check_time(self, time: Any) -> None:
        if not isinstance(time, int) or time < 0:
            raise ValueError("time must be a non-negative integer")

    @property
    def current_row(self):
        """The row of the current time, ``status['iterations_done']``."""
        return self[self.status['iterations_done']]

    @property
    def previous_row(self):
        """The row of the previous time, ``iterations_done - 1``."""
        return self[self.status['iterations_done'] - 1]

    @property
    def last_epoch_row(self):
        """The row of the time at which the last epoch ended."""
        return self[self.status['_epoch_ends'][-1]]


class TrainingLog(defaultdict, TrainingLogBase):
    """Training log using a `defaultdict` as backend.

    Rows are plain dictionaries, created on first access: reading a row that
    was never written creates it (empty), and ``len(log)`` counts every row
    touched so far.

    Examples
    --------
    >>> log = TrainingLog()
    >>> log.status['iterations_done']
    0
    >>> log[1]
    {}
    >>> log.current_row['cost'] = 0.5
    >>> log[0], len(log)
    ({'cost': 0.5}, 2)
    """

    def __init__(self):
        defaultdict.__init__(self, dict)
        self.status = {}
        TrainingLogBase.__init__(self)

    def __reduce__(self):
        # defaultdict pickles only its items; keep status and uuid too.
        reduced: Any = super().__reduce__()
        constructor, args, _, _, items = reduced
        return constructor, (), self.__dict__, _, items

    def __getitem__(self, time):
        self._check_time(time)
        return super().__getitem__(time)

    def __setitem__(self, time, value):
        self._check_time(time)
        return super().__setitem__(time, value)


class NewRecords:
    """Reads the records that a log gained since the last call.

    Extensions that export the log as training goes (plots, TensorBoard)
    call :meth:`read` from their callbacks. The state is two values, so a
    checkpoint that pickles the extension resumes it exactly: rows up to
    :attr:`last_time` were read, and of that row the records in
    :attr:`taken` (the current row can still gain records after a read).

    Parameters
    ----------
    records : list of str, optional
        The records to read; by default all.
    """

    def __init__(self, records: list[str] | None = None):
        self.records = records
        self.last_time = -1
        self.taken: set[str] = set()

    def read(self, log: TrainingLogBase) -> list[tuple[int, dict[str, Any]]]:
        """``(time, {record: value})`` of the records new since last time."""
        now = log.status['iterations_done']
        found = []
        for time in range(max(self.last_time, 0), now + 1):
            row = _existing_row(log, time)
            if not row:
                continue
            names = row if self.records is None else [
                name for name in self.records if name in row]
            if time == self.last_time:
                names = [name for name in names if name not in self.taken]
            if names:
                found.append((time, {name: row[name] for name in names}))
        if now != self.last_time:
            self.taken = set()
        self.taken.update(found[-1][1] if found and found[-1][0] == now
                          else ())
        self.last_time = now
        return found


def _existing_row(log: Any, time: int) -> Any:
    """Row ``time``, without creating it in a :class:`TrainingLog`."""
    if isinstance(log, dict):
        return dict.get(log, time)
    return log[time]
