"""Predicates on the log for :meth:`SimpleExtension.add_condition`."""


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

    def __call__(self, log):
        return bool(log.current_row.get(self.record_name, False))

    def __eq__(self, other):
        return (type(other) is type(self)
                and other.record_name == self.record_name)

    def __hash__(self):
        return hash((type(self), self.record_name))
