"""Watching one record of the training log.

Extensions communicate only through the log: one writes ``valid_cost``,
:class:`~blocks.extensions.training.TrackTheBest` watches it and writes
``valid_cost_best_so_far``, which
:class:`~blocks.extensions.stopping.FinishIfNoImprovementAfter` and a
checkpoint (through :class:`OnNewBestNotSaved`) watch in turn. The logic they
share lives in :class:`LogRecordWatcher`.
"""
import difflib
import warnings
from typing import Any

from blocks.extensions.protocol import SAVED_TO, record_notified

__all__ = ['LogRecordWatcher', 'OnNewBestNotSaved', 'cost_record_names']

RECORD_NEVER_SEEN = (
    "{watcher}: the log record {record!r} has not appeared in the log during "
    "the first epoch, so nothing is watched yet. Records found (first row, "
    "ends of epochs, current row): {existing}.{suggestion} Check the record "
    "name (including the prefix or suffix of the monitoring extension that "
    "writes it) and that this extension comes after that one in the main "
    "loop's extensions. If the "
    "record is written less often than once per epoch (e.g. validation "
    "every few epochs), this warning is harmless.")


def cost_record_names(main_loop: Any) -> tuple[str, ...]:
    """The names under which the training cost may be logged.

    The name of the algorithm's ``cost`` variable (``'cost'`` if it has
    none), unprefixed and with the prefix and suffix of each monitoring
    extension of the main loop (``train_cost`` for
    ``TrainingDataMonitoring(..., prefix='train')``).
    """
    cost = getattr(main_loop.algorithm, 'cost', None)
    cost_name = getattr(cost, 'name', None) or 'cost'
    names = {cost_name}
    for extension in main_loop.extensions:
        # Monitoring extensions, recognised without importing them (they
        # need PyTensor).
        record_name = getattr(extension, '_record_name', None)
        if record_name is not None:
            names.add(record_name(cost_name))
    return tuple(sorted(names))


class LogRecordWatcher:
    """Reacts to one record of the main loop's log.

    A small base class (a mixin for extensions, usable alone for
    predicates). Its ``__init__`` cooperates: keyword arguments it does not
    take go to the next class in the method resolution order.

    Parameters
    ----------
    watched_record : str
        The name of the log record to watch.
    warn_if_never_seen : bool
        Warn once, at the first look after the first epoch, if the record
        has never been seen. Defaults to ``False``.

    """

    def __init__(self, watched_record: str, *,
                 warn_if_never_seen: bool = False, **kwargs: Any):
        if not isinstance(watched_record, str) or not watched_record:
            raise ValueError(f"the name of the log record to watch must be a "
                             f"non-empty string, got {watched_record!r}")
        self.watched_record = watched_record
        self.warn_if_never_seen = warn_if_never_seen
        self._watched_record_seen = False
        self._never_seen_reported = False
        super().__init__(**kwargs)

    def watched_value(self, log: Any) -> Any:
        """The watched record in the current row, ``None`` if absent."""
        value = log.current_row.get(self.watched_record)
        if value is not None:
            self._watched_record_seen = True
        elif (self.warn_if_never_seen and not self._watched_record_seen
              and not self._never_seen_reported
              and log.status['epochs_done'] >= 1):
            self._never_seen_reported = True
            self._warn_never_seen(log)
        return value

    def watched_record_notified(self, log: Any) -> bool:
        """Whether the current row notifies the watched record.

        See :func:`~blocks.extensions.protocol.record_notified`.
        """
        notified = record_notified(log.current_row, self.watched_record)
        if notified:
            self._watched_record_seen = True
        return notified

    def _warn_never_seen(self, log: Any) -> None:
        # Not every row: a first epoch can be long and SQLite rows are read
        # one query each. `get`: reading a missing row of a `TrainingLog`
        # would create it.
        times = [0] + list(log.status['_epoch_ends'])
        rows = [log.current_row] + [log.get(time) or {} for time in times]
        existing = sorted({key for row in rows for key in row
                           if not key.startswith('_')})
        close = difflib.get_close_matches(self.watched_record, existing, n=3)
        suggestion = (f" Did you mean {' or '.join(map(repr, close))}?"
                      if close else "")
        warnings.warn(RECORD_NEVER_SEEN.format(
            watcher=f"{type(self).__name__}",
            record=self.watched_record,
            existing=', '.join(existing) or '(none)',
            suggestion=suggestion), stacklevel=3)


class OnNewBestNotSaved(LogRecordWatcher):
    """Predicate: a new best is notified in this row and not yet saved.

    Used by :class:`~blocks.extensions.stopping.EarlyStopping` to make its
    checkpoint save the best model after an epoch: true when the current
    row has the notification record and the checkpoint has not saved to
    `path` in this row already (``path`` is not in its ``saved_to``
    record), so that a best found on the last batch of an epoch is saved
    once, not twice.

    Parameters
    ----------
    notification_name : str
        The record that notifies a new best, e.g.
        ``'valid_cost_best_so_far'``.
    path : str
        The path the checkpoint saves the best model to.

    """

    def __init__(self, notification_name: str, path: Any):
        super().__init__(notification_name)
        self.path = path

    def __call__(self, log: Any) -> bool:
        if not self.watched_record_notified(log):
            return False
        return self.path not in (log.current_row.get(SAVED_TO) or ())

    def __eq__(self, other: object) -> bool:
        return (type(other) is type(self)
                and other.watched_record == self.watched_record
                and other.path == self.path)

    def __hash__(self) -> int:
        return hash((type(self), self.watched_record, self.path))
