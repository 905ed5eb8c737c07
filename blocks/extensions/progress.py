"""A progress bar for the epochs of the main loop."""
import sys
import time
from collections.abc import Iterable
from typing import Any

import progressbar

from blocks.extensions.base import TrainingExtension
from blocks.extensions.formatting import format_record
from blocks.extensions.protocol import EPOCH_ENDS, EPOCHS_DONE
from blocks.extensions.record_watch import cost_record_names


class CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time of the write.

    progressbar2 replaces ``sys.stderr`` by the stream it found when it was
    imported; this proxy keeps redirections made later (by a notebook,
    ``contextlib.redirect_stderr`` or a test runner) working.
    """

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return getattr(sys.stderr, 'isatty', lambda: False)()

    def fileno(self) -> int:
        return sys.stderr.fileno()


def iteration_scheme(stream: Any) -> Any:
    """The first iteration scheme found going down a chain of transformers.

    Transformers that do not batch or split (``Flatten``, ``Mapping``,
    ``Cast``, ...) have no scheme of their own: their ``data_stream`` is
    looked at, and so on down to the dataset's stream.
    """
    while stream is not None:
        scheme = getattr(stream, 'iteration_scheme', None)
        if scheme is not None:
            return scheme
        stream = getattr(stream, 'data_stream', None)
    return None


def batches_per_epoch(scheme: Any) -> int | None:
    """The number of requests a scheme makes per epoch, when it says."""
    num_batches = getattr(scheme, 'num_batches', None)
    if isinstance(num_batches, int):
        return num_batches
    indices = getattr(scheme, 'indices', None)
    batch_size = getattr(scheme, 'batch_size', None)
    num_examples = getattr(scheme, 'num_examples', None)
    if indices is not None and batch_size is None:
        return len(indices)
    if indices is not None and batch_size is not None:
        return len(indices) // batch_size
    if num_examples is not None and batch_size is not None:
        return num_examples // batch_size
    return None


class ProgressBar(TrainingExtension):
    """Display a progress bar during training.

    The number of iterations per epoch comes from the iteration scheme of
    the data stream, found through any chain of transformers
    (``num_batches``, or ``indices``, ``num_examples`` and
    ``batch_size``); when no scheme says, from the length of the previous
    epoch. With it the bar shows a percentage and an estimate of the time
    left; without it, a count.

    Parameters
    ----------
    records : iterable of str, optional
        Log records whose latest values are shown in the bar. By default
        the training cost, when it is logged (see
        :func:`~blocks.extensions.record_watch.cost_record_names`).
    line_interval : float
        When the standard error is not a terminal (a file, a CI log), the
        bar is replaced by a plain line every ``line_interval`` seconds
        and one at the end of each epoch.

    Notes
    -----
    Place this extension before the extensions that print to the screen at
    the end or at the beginning of the epoch (e.g. :class:`Printing`), so
    that their output does not get mixed with the bar.

    The records are read from the current row when the bar is redrawn
    (about ten times a second) and at the end of each epoch; a record
    written more rarely than that may be shown late.
    """

    #: Seconds between redraws of the bar.
    REDRAW_INTERVAL = 0.1

    def __init__(self, *, records: Iterable[str] | None = None,
                 line_interval: float = 10.0, **kwargs: Any):
        if isinstance(records, str):
            raise TypeError(f"records must be a list of record names, got "
                            f"the string {records!r}: write [{records!r}]")
        super().__init__(**kwargs)
        self.records: tuple[str, ...] | None = (
            None if records is None else tuple(records))
        self.line_interval = line_interval
        self.bar: Any = None
        self._reset_count()

    def __getstate__(self) -> dict[str, Any]:
        # The bar holds a file object and timers: it is rebuilt on demand.
        state = dict(self.__dict__)
        state['bar'] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault('records', None)
        self.__dict__.setdefault('line_interval', 10.0)
        self.__dict__.setdefault('_values', {})

    def get_iter_per_epoch(self) -> int | None:
        """Try to infer the number of iterations per epoch."""
        scheme = iteration_scheme(self.main_loop.data_stream)
        if scheme is not None:
            count = batches_per_epoch(scheme)
            if count is not None:
                return count
        return self._previous_epoch_length()

    def _previous_epoch_length(self) -> int | None:
        ends = self.main_loop.log.status.get(EPOCH_ENDS) or []
        if not ends:
            return None
        length = ends[-1] - (ends[-2] if len(ends) > 1 else 0)
        return length or None

    def create_bar(self) -> Any:
        """Create a new progress bar.

        Calls ``self.get_iter_per_epoch()``, selects an appropriate set of
        widgets and creates a ProgressBar.
        """
        iter_per_epoch: Any = self.get_iter_per_epoch()
        epochs_done = self.main_loop.log.status[EPOCHS_DONE]
        # The latest records, updated before each redraw.
        text = progressbar.FormatCustomText('%(records)s', {'records': ''})
        if iter_per_epoch is None:
            widgets = [f"Epoch {epochs_done}, step ",
                       progressbar.Counter(), ' ',
                       progressbar.BouncingBar(), ' ',
                       progressbar.Timer(), text]
            iter_per_epoch = progressbar.UnknownLength
        else:
            widgets = [f"Epoch {epochs_done}, step ",
                       progressbar.Counter(), f'/{iter_per_epoch}',
                       ' (', progressbar.Percentage(), ') ',
                       progressbar.Bar(), ' ',
                       progressbar.Timer(), ' ', progressbar.ETA(), text]
        return progressbar.ProgressBar(widgets=widgets,
                                       max_value=iter_per_epoch,
                                       fd=CurrentStderr())

    def _reset_count(self) -> None:
        self.iter_count = 0
        self._next_update = 0
        self._update_step = 1
        self._last_update: float | None = None
        self._epoch_start: float | None = None
        self._epoch = 0
        self._next_line = 0.0
        self._max_value: int | None = None
        self._values: dict[str, Any] = {}

    def before_epoch(self) -> None:
        self._reset_count()

    def after_epoch(self) -> None:
        if self._epoch_start is None:
            return
        self._update_bar(final=True)
        if self.bar is not None:
            self.bar.finish()
            self.bar = None
        self._epoch_start = None

    def before_batch(self, batch: Any) -> None:
        self.iter_count += 1
        # Redrawing costs more than a fast training step: redraw about
        # every REDRAW_INTERVAL seconds, counting batches in between.
        if self.iter_count >= self._next_update:
            self._update_bar()

    def _record_text(self) -> str:
        if self.records is None:
            self.records = cost_record_names(self.main_loop)
        log = self.main_loop.log
        # `get`: reading a missing row of a `TrainingLog` would create it.
        row = log.get(log.status['iterations_done']) or {}
        for name in self.records:
            value = row.get(name)
            if value is not None:
                self._values[name] = value
        return ''.join(f" {name}={format_record(name, value, 4)}"
                       for name, value in self._values.items())

    def _update_bar(self, final: bool = False) -> None:
        now = time.monotonic()
        if self._epoch_start is None:
            self._epoch_start = now
            self._epoch = self.main_loop.log.status[EPOCHS_DONE]
            self._next_line = now + self.line_interval
            self._max_value = self.get_iter_per_epoch()
            if CurrentStderr().isatty():
                self.bar = self.create_bar()
                self.bar.start()
        if self._max_value is not None and (
                self.iter_count > self._max_value):
            # The scheme under-estimated the epoch: keep counting.
            self._max_value = None
            if self.bar is not None:
                self.bar.max_value = progressbar.UnknownLength
        text = self._record_text()
        if self.bar is not None:
            self.bar.widgets[-1].update_mapping(records=text)
            self.bar.update(self.iter_count)
        elif final or now >= self._next_line:
            self._next_line = now + self.line_interval
            self._print_line(now, text)
        self._schedule(now)

    def _print_line(self, now: float, text: str) -> None:
        """One plain line for logs that are not a terminal."""
        epoch = self._epoch
        elapsed = now - (self._epoch_start or now)
        total = self._max_value
        if total:
            left = elapsed * (total - self.iter_count) / self.iter_count
            progress = (f"step {self.iter_count}/{total} "
                        f"({100 * self.iter_count / total:.0f}%), "
                        f"elapsed {_duration(elapsed)}, "
                        f"ETA {_duration(left)}")
        else:
            progress = (f"step {self.iter_count}, "
                        f"elapsed {_duration(elapsed)}")
        print(f"Epoch {epoch}, {progress}{text}", file=sys.stderr,
              flush=True)

    def _schedule(self, now: float) -> None:
        last = self._last_update
        step = self._update_step
        if last is not None:
            if now - last < self.REDRAW_INTERVAL / 2:
                step *= 2
            elif now - last > self.REDRAW_INTERVAL * 2 and step > 1:
                step //= 2
        self._last_update = now
        self._update_step = step
        self._next_update = self.iter_count + step


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
