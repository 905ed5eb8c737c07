"""Predicates on the log for :meth:`SimpleExtension.add_condition`."""
from typing import Any

from blocks.extensions.protocol import record_notified


class OnLogRecord:
    """Trigger a callback when a certain log record is found.

    Parameters
    ----------
    record_name : str
        The record name to check.

    Examples
    --------
    >>> from blocks.log import TrainingLog
    >>> log = TrainingLog()
    >>> predicate = OnLogRecord('cost_best_so_far')
    >>> predicate(log)
    False
    >>> log.current_row['cost_best_so_far'] = True
    >>> predicate(log)
    True
    """

    def __init__(self, record_name: str):
        self.record_name = record_name

    def __call__(self, log: Any) -> bool:
        return record_notified(log.current_row, self.record_name)

    def __eq__(self, other: object) -> bool:
        return (type(other) is type(self)
                and other.record_name == self.record_name)

    def __hash__(self) -> int:
        return hash((type(self), self.record_name))
