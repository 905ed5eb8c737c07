"""Time spent training and reading data, written to the log."""
import datetime
from typing import Any

from blocks.extensions.base import SimpleExtension


class Timing(SimpleExtension):
    """Add timing information to the log.

    This adds data about the time spent in the algorithm's
    ``process_batch`` method as well as the time spent reading data per
    batch or epoch. It also reports the time spent initializing the
    algorithm.

    Parameters
    ----------
    prefix : str
        Prefix to be added to the log record. Defaults to the empty string.

    Notes
    -----
    Add this extension before the :class:`Printing` extension.

    Created with callbacks like ``every_n_batches`` this extension averages
    the time.

    This extension does *not* enable full profiling information. To see a
    full profile of the main loop at the end of training, use the
    ``profile`` configuration (e.g. by setting ``BLOCKS_PROFILE=true``).
    """

    def __init__(self, prefix: str = "", **kwargs: Any):
        kwargs.setdefault('before_first_epoch', True)
        kwargs.setdefault('after_epoch', True)
        super().__init__(**kwargs)
        self.prefix = prefix + '_' if prefix else prefix
        self.previous = {'batch': {'train': 0, 'read_data': 0},
                         'epoch': {'train': 0, 'read_data': 0}}
        self.current = {'batch': {'train': 0, 'read_data': 0},
                        'epoch': {'train': 0, 'read_data': 0}}
        self.previous_index = {'batch': 0, 'epoch': 0}

    def do(self, which_callback: str, *args: Any) -> None:
        current_row = self.main_loop.log.current_row
        profile = self.main_loop.profile.total

        if which_callback == 'before_epoch':
            current_row['time_initialization'] = profile[('initialization',)]
            return
        if which_callback == 'after_batch':
            level = 'batch'
            counter = 'iterations_done'
        elif which_callback == 'after_epoch':
            level = 'epoch'
            counter = 'epochs_done'
        else:
            raise ValueError(
                f"Timing can not be triggered on {which_callback!r}: use "
                "after_batch, after_epoch or before_first_epoch triggers")
        index = self.main_loop.log.status[counter]
        for action in ['train', 'read_data']:
            self.previous[level][action] = self.current[level][action]
            self.current[level][action] = profile[
                ('training', 'epoch', action)]
            steps = index - self.previous_index[level]
            if steps:
                this_time = (self.current[level][action]
                             - self.previous[level][action]) / steps
                current_row[
                    f'{self.prefix}time_{action}_this_{level}'] = this_time
                current_row[f'{self.prefix}time_{action}_total'] = (
                    self.current[level][action])
        self.previous_index[level] = index


def get_timestamp(separator: str = ' ') -> str:
    """The current local time in ISO 8601 format."""
    return datetime.datetime.now().isoformat(separator)


class Timestamp(SimpleExtension):
    """Adds a human readable (ISO 8601) timestamp to the log.

    Parameters
    ----------
    log_record : str, optional
        The record name to use. Defaults to 'timestamp'.
    separator : str, optional
        Separator between the date and time. ISO 8601 specifies 'T'.
        Here, we default to ' ' (blank space) for human readability.

    Notes
    -----
    By default, triggers after every epoch as well as before training
    starts, after training finishes, when an error occurs or when training
    is interrupted or resumed, as these are all generally useful
    circumstances for which to have a timestamp. These can be disabled by
    passing ``False`` as the appropriate keyword argument; see
    :class:`SimpleExtension`.
    """

    DEFAULT_LOG_RECORD = 'timestamp'

    def __init__(self, log_record: str = DEFAULT_LOG_RECORD,
                 separator: str = ' ', **kwargs: Any):
        self.log_record = log_record
        self.separator = separator
        default_callbacks = ['before_training', 'after_epoch', 'on_error',
                             'on_interrupt', 'on_resumption',
                             'after_training']
        for callback in default_callbacks:
            kwargs.setdefault(callback, True)
        super().__init__(**kwargs)

    def do(self, *args: Any) -> None:
        self.main_loop.log.current_row[self.log_record] = (
            self.get_timestamp())

    def get_timestamp(self) -> str:
        """The timestamp to write; override it to write another one.

        Examples
        --------
        >>> class Hour(Timestamp):
        ...     def get_timestamp(self):
        ...         return super().get_timestamp()[:13]
        >>> len(Hour(separator='T').get_timestamp())
        13
        """
        return get_timestamp(self.separator)
