"""Stop training with an error when a watched record stops being finite."""
import logging
import math
from collections.abc import Iterable, Mapping
from typing import Any

import numpy

from blocks.extensions.base import SimpleExtension
from blocks.extensions.protocol import EPOCHS_DONE, ITERATIONS_DONE, SAVED_TO
from blocks.extensions.record_watch import cost_record_names

logger = logging.getLogger(__name__)

__all__ = ['NonFiniteError', 'TerminateOnNonFinite']

NON_FINITE_MESSAGE = (
    "{extension}: the log record {record!r} is {value} at iteration "
    "{iteration} (epoch {epoch}); training was stopped. Likely cause: "
    "{cause} {checkpoint}")

CAUSE_DATA = (
    "the batch of this iteration holds non-finite values in the source(s) "
    "{sources}: clean the data, or filter it in the stream.")
CAUSE_DIVERGED = (
    "training diverged: {evidence}. The usual cause is a learning rate too "
    "large: lower it, or clip the gradients (StepClipping).")
PARAMETERS_NOT_FINITE = "the parameters {parameters} are no longer finite"
RECORD_GREW = (
    "{record!r} grew from {first} at iteration {first_iteration} to {last} "
    "at iteration {last_iteration}")

#: How many times its first value a record must grow to count as diverging.
DIVERGENCE_GROWTH = 1e3
CAUSE_COST = (
    "the data of this batch and the parameters are finite, so the cost "
    "itself is not: look for a log or a division of zero in it (for example "
    "log(0) in a cross-entropy; clip the probabilities), or an overflow.")
CAUSE_UNKNOWN = (
    "a non-finite value in the data or the parameters (training diverged: "
    "lower the learning rate), or a log or division of zero in the cost.")

CHECKPOINT_KEPT = (
    "The last checkpoint, written to {path!r} at iteration {iteration} "
    "before this happened, was kept.")
NO_CHECKPOINT = "No checkpoint had been written in this run."


class NonFiniteError(FloatingPointError):
    """A watched record of the training log is NaN or infinite."""


def _is_finite(value: Any) -> bool:
    """Whether a record value is finite; non-numbers count as finite."""
    if isinstance(value, float | int):
        return math.isfinite(value)
    try:
        array = numpy.asarray(value)
    except Exception:  # noqa: BLE001 - any record can be in a log
        return True
    if array.dtype.kind not in 'fciu':
        return True
    return bool(numpy.isfinite(array).all())


def _describe(value: Any) -> str:
    array = numpy.asarray(value)
    if array.ndim == 0:
        return str(array.item())
    return (f"an array of shape {array.shape} with "
            f"{int((~numpy.isfinite(array)).sum())} non-finite values")


class TerminateOnNonFinite(SimpleExtension):
    """Stop training with an error when a watched record is NaN or infinite.

    A NaN in one example, or a learning rate so large that training
    diverges, makes every parameter NaN; this extension stops training at
    the first non-finite value of a watched record, with a
    :class:`NonFiniteError` that names the record, the iteration and the
    likely cause (the data, diverging parameters or the cost itself).
    Since training stops with an error, ``after_training`` extensions do
    not run: a :class:`~blocks.extensions.saveload.Checkpoint` does not
    overwrite the last checkpoint with non-finite parameters (unless it is
    triggered ``on_error``).

    Parameters
    ----------
    record_names : iterable of str, optional
        The records to watch. By default the training cost: the record of
        the algorithm's ``cost`` variable (``'cost'`` if it has none)
        under the prefix and suffix of each monitoring extension of the
        main loop, e.g. ``train_cost``, and unprefixed.

    Notes
    -----
    By default checks after every batch and every epoch. Place it after
    the extensions that write the watched records and before the
    checkpoints, so that a checkpoint due at the same batch is not written
    with non-finite parameters.

    Examples
    --------
    >>> stop = TerminateOnNonFinite(['train_cost'])
    >>> stop.record_names
    ('train_cost',)

    """

    def __init__(self, record_names: Iterable[str] | None = None,
                 **kwargs: Any):
        if isinstance(record_names, str):
            raise TypeError(f"record_names must be a list of record names, "
                            f"got the string {record_names!r}: write "
                            f"[{record_names!r}]")
        self.record_names: tuple[str, ...] | None = (
            None if record_names is None else tuple(record_names))
        kwargs.setdefault('after_batch', True)
        kwargs.setdefault('after_epoch', True)
        super().__init__(**kwargs)
        self._watched: tuple[str, ...] | None = self.record_names
        # Per record: the first and the last finite (value, iteration).
        self._first_finite: dict[str, tuple[Any, int]] = {}
        self._last_finite: dict[str, tuple[Any, int]] = {}

    def do(self, which_callback: str, *args: Any) -> None:
        if self._watched is None:
            self._watched = cost_record_names(self.main_loop)
        log = self.main_loop.log
        row = log.current_row
        for name in self._watched:
            value = row.get(name)
            if value is None:
                continue
            if _is_finite(value):
                seen = (value, log.status[ITERATIONS_DONE])
                self._first_finite.setdefault(name, seen)
                self._last_finite[name] = seen
                continue
            batch, _ = self.parse_args(which_callback, args)
            raise NonFiniteError(NON_FINITE_MESSAGE.format(
                extension=type(self).__name__, record=name,
                value=_describe(value),
                iteration=log.status[ITERATIONS_DONE],
                epoch=log.status[EPOCHS_DONE],
                cause=self._likely_cause(name, batch[0] if batch else None),
                checkpoint=self._last_checkpoint(log)))

    def _likely_cause(self, record: str, batch: Any) -> str:
        if isinstance(batch, Mapping):
            sources = [source for source, data in batch.items()
                       if not _is_finite(data)]
            if sources:
                return CAUSE_DATA.format(sources=', '.join(map(repr,
                                                               sources)))
        evidence = []
        parameters = self._parameters()
        broken = [getattr(parameter, 'name', None) or str(parameter)
                  for parameter in parameters or ()
                  if not _is_finite(parameter.get_value(borrow=True))]
        if broken:
            shown = ', '.join(map(repr, broken[:5]))
            if len(broken) > 5:
                shown += f" and {len(broken) - 5} more"
            evidence.append(PARAMETERS_NOT_FINITE.format(parameters=shown))
        grew = self._growth(record)
        if grew:
            evidence.append(grew)
        if evidence:
            return CAUSE_DIVERGED.format(evidence='; '.join(evidence))
        return CAUSE_UNKNOWN if parameters is None else CAUSE_COST

    def _growth(self, record: str) -> str | None:
        """Say how the record grew, if it grew enough to mean divergence."""
        if record not in self._last_finite:
            return None
        (first, first_iteration) = self._first_finite[record]
        (last, last_iteration) = self._last_finite[record]
        first_size = float(numpy.max(numpy.abs(first)))
        last_size = float(numpy.max(numpy.abs(last)))
        if last_size <= DIVERGENCE_GROWTH * max(first_size, 1e-12):
            return None
        return RECORD_GREW.format(
            record=record, first=f"{first_size:.3g}",
            first_iteration=first_iteration, last=f"{last_size:.3g}",
            last_iteration=last_iteration)

    def _parameters(self) -> list[Any] | None:
        parameters = getattr(self.main_loop.algorithm, 'parameters', None)
        if parameters is None:
            model = getattr(self.main_loop, '_model', None)
            parameters = getattr(model, 'parameters', None)
        return None if parameters is None else list(parameters)

    @staticmethod
    def _last_checkpoint(log: Any) -> str:
        for time in sorted(log, reverse=True):
            paths = [path for path in log[time].get(SAVED_TO) or ()
                     if path is not None]
            if paths:
                return CHECKPOINT_KEPT.format(path=str(paths[-1]),
                                              iteration=time)
        return NO_CHECKPOINT
