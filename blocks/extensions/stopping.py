"""Stop training when a watched quantity stops improving."""
import logging
from collections.abc import Callable
from typing import Any

from blocks.extensions.base import CompositeExtension
from blocks.extensions.finish_after import FinishAfter
from blocks.extensions.predicates import OnLogRecord
from blocks.extensions.protocol import (
    BEST_SO_FAR_SUFFIX,
    PATIENCE_EPOCHS_SUFFIX,
    PATIENCE_ITERATIONS_SUFFIX,
)
from blocks.extensions.record_watch import LogRecordWatcher, OnNewBestNotSaved
from blocks.extensions.training import TrackTheBest

logger = logging.getLogger(__name__)

__all__ = ['EarlyStopping', 'FinishIfNoImprovementAfter']

CHECKPOINT_BEFORE_EARLY_STOPPING = (
    "%s: the checkpoint extension %s runs before this extension in the main "
    "loop's extensions, so after an epoch it runs before the new best is "
    "notified and can not save it. Put the checkpoint after EarlyStopping "
    "in the extensions list, or leave it out of the list (EarlyStopping "
    "then runs it itself).")


class FinishIfNoImprovementAfter(LogRecordWatcher, FinishAfter):
    """Stop after improvements have ceased for a given period.

    Parameters
    ----------
    notification_name : str
        The name of the log record to look for which indicates a new best
        performer has been found: a row notifies it when the record is
        there with a true value (see
        :func:`~blocks.extensions.protocol.record_notified`).
    iterations : int, optional
        The number of iterations to wait for a new best. Exactly one of
        `iterations` or `epochs` must be not ``None`` (default).
    epochs : int, optional
        The number of epochs to wait for a new best. Exactly one of
        `iterations` or `epochs` must be not ``None`` (default).
    patience_log_record : str, optional
        The name under which to record the number of iterations we are
        currently willing to wait for a new best performer. Defaults to
        `notification_name` plus ``'_patience_epochs'`` or
        ``'_patience_iterations'``, depending on which measure is being
        used.

    Notes
    -----
    By default, runs after each epoch. This can be manipulated via
    keyword arguments (see :class:`~blocks.extensions.SimpleExtension`).

    Training finishes once the patience is used up, i.e. when it reaches
    zero or less (less happens when `iterations` is not a multiple of how
    often the extension runs).

    Examples
    --------
    >>> stop = FinishIfNoImprovementAfter('valid_cost_best_so_far', epochs=5)
    >>> stop.patience_log_record
    'valid_cost_best_so_far_patience_epochs'

    """

    def __init__(self, notification_name: str, iterations: int | None = None,
                 epochs: int | None = None,
                 patience_log_record: str | None = None, **kwargs: Any):
        if (epochs is None) == (iterations is None):
            raise ValueError("Need exactly one of epochs or iterations "
                             "to be specified")
        for argument, value in (('iterations', iterations),
                                ('epochs', epochs)):
            if value is not None and (isinstance(value, bool)
                                      or not isinstance(value, int)
                                      or value <= 0):
                raise ValueError(f"{argument} must be a positive integer, "
                                 f"got {value!r}")
        self.notification_name = notification_name
        self.iterations = iterations
        self.epochs = epochs
        kwargs.setdefault('after_epoch', True)
        self.last_best_iter = self.last_best_epoch = None
        if patience_log_record is None:
            self.patience_log_record = notification_name + (
                PATIENCE_EPOCHS_SUFFIX if self.epochs is not None
                else PATIENCE_ITERATIONS_SUFFIX)
        else:
            self.patience_log_record = patience_log_record
        super().__init__(notification_name, **kwargs)

    def update_best(self) -> None:
        """Remember the counters if the current row notifies a new best."""
        # Here mainly so we can easily subclass different criteria.
        log = self.main_loop.log
        if self.watched_record_notified(log):
            self.last_best_iter = log.status['iterations_done']
            self.last_best_epoch = log.status['epochs_done']

    def do(self, which_callback: str, *args: Any) -> None:
        self.update_best()
        # If we haven't encountered a best yet, then we should just bail.
        if self.last_best_iter is None:
            return
        status = self.main_loop.log.status
        if self.epochs is not None:
            since = status['epochs_done'] - self.last_best_epoch
            patience = self.epochs - since
        else:
            since = status['iterations_done'] - self.last_best_iter
            patience = self.iterations - since
        logger.debug('%s: Writing patience of %d to current log record (%s) '
                     'at iteration %d', type(self).__name__, patience,
                     self.patience_log_record, status['iterations_done'])
        self.main_loop.log.current_row[self.patience_log_record] = patience
        # Upstream tests `patience == 0`, which a check every epoch jumps
        # over when `iterations` is not a multiple of the epoch length.
        if patience <= 0:
            super().do(which_callback, *args)


class EarlyStopping(CompositeExtension):
    """A 'batteries-included' early stopping extension.

    Parameters
    ----------
    record_name : str
        The log record entry whose value represents the quantity to base
        early stopping decisions on, e.g. some measure of validation set
        performance.
    checkpoint_extension : Checkpoint, optional
        A :class:`~blocks.extensions.saveload.Checkpoint` instance to
        configure to save a checkpoint when a new best performer is found.
    checkpoint_filename : str, optional
        The filename to use for the 'current best' checkpoint. Must be
        provided if ``checkpoint_extension`` is specified.
    notification_name : str, optional
        The name to be written in the log when a new best-performing model
        is found. Defaults to ``record_name + '_best_so_far'``.
    choose_best : callable, optional
        See :class:`~blocks.extensions.training.TrackTheBest`.
    iterations : int, optional
        See :class:`FinishIfNoImprovementAfter`.
    epochs : int, optional
        See :class:`FinishIfNoImprovementAfter`.

    Notes
    -----
    Trigger keyword arguments will affect how often the log is inspected
    for the record name (in order to determine if a new best has been
    found), as well as how often a decision is made about whether to
    continue training. By default, ``after_epoch`` is set, as is
    ``before_training``, where some sanity checks are performed
    (including the optional self-management of checkpointing).

    If ``checkpoint_extension`` is not in the main loop's extensions list
    when the ``before_training`` trigger is run, it will be added as a
    sub-extension of this object.

    The checkpoint saves to `checkpoint_filename` whenever a new best is
    notified, both when the record is tracked after batches and after
    epochs, and at most once per log row.

    Examples
    --------
    To stop training if the error on the validation set has not improved in
    5 epochs, saving the parameters of the best performing model to
    ``best.tar``:

    .. code-block:: python

        checkpoint = Checkpoint('last.tar', after_epoch=True)
        stopper = EarlyStopping('valid_error', checkpoint_extension=checkpoint,
                                checkpoint_filename='best.tar', epochs=5)
        main_loop = MainLoop(algorithm, stream,
                             extensions=[valid_monitor, stopper, checkpoint])

    """

    def __init__(self, record_name: str, checkpoint_extension: Any = None,
                 checkpoint_filename: Any = None,
                 notification_name: str | None = None,
                 choose_best: Callable[[Any, Any], Any] = min,
                 iterations: int | None = None, epochs: int | None = None,
                 **kwargs: Any):
        if notification_name is None:
            notification_name = record_name + BEST_SO_FAR_SUFFIX
        kwargs.setdefault('after_epoch', True)
        tracking_ext = TrackTheBest(record_name, notification_name,
                                    choose_best=choose_best, **kwargs)
        stopping_ext = FinishIfNoImprovementAfter(notification_name,
                                                  iterations=iterations,
                                                  epochs=epochs,
                                                  **kwargs)
        self.checkpoint_extension = checkpoint_extension
        if checkpoint_extension and checkpoint_filename:
            # Upstream only adds the `after_batch` condition, which never
            # fires when the best is tracked after epochs (the default):
            # the notification is written after the epoch's last
            # `after_batch`. The `after_epoch` condition saves then, unless
            # the `after_batch` one saved this row already.
            checkpoint_extension.add_condition(
                ['after_epoch'],
                OnNewBestNotSaved(notification_name, checkpoint_filename),
                (checkpoint_filename,))
            checkpoint_extension.add_condition(['after_batch'],
                                               OnLogRecord(notification_name),
                                               (checkpoint_filename,))
        elif checkpoint_extension is not None and checkpoint_filename is None:
            raise ValueError('checkpoint_extension specified without '
                             'checkpoint_filename')
        kwargs.setdefault('before_training', True)
        super().__init__([tracking_ext, stopping_ext], **kwargs)

    def do(self, which_callback: str, *args: Any) -> None:
        if which_callback == 'before_training' and self.checkpoint_extension:
            if self.checkpoint_extension not in self.main_loop.extensions:
                logger.info('%s: checkpoint extension %s not in main loop '
                            'extensions, adding as sub-extension of %s',
                            type(self).__name__, self.checkpoint_extension,
                            self)
                self.checkpoint_extension.main_loop = self.main_loop
                self.sub_extensions.append(self.checkpoint_extension)
                # The main loop caches which extensions respond to which
                # callbacks: the checkpoint's conditions are new to it.
                self.conditions_changed()
            else:
                exts = self.main_loop.extensions
                if exts.index(self.checkpoint_extension) < exts.index(self):
                    logger.warning(CHECKPOINT_BEFORE_EARLY_STOPPING,
                                   type(self).__name__,
                                   self.checkpoint_extension)
