"""A progress bar for the epochs of the main loop."""
import sys
import time

import progressbar

from blocks.extensions.base import TrainingExtension


class CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the time of the write.

    progressbar2 replaces ``sys.stderr`` by the stream it found when it was
    imported; this proxy keeps redirections made later (by a notebook,
    ``contextlib.redirect_stderr`` or a test runner) working.
    """

    def write(self, text):
        return sys.stderr.write(text)

    def flush(self):
        sys.stderr.flush()

    def isatty(self):
        return getattr(sys.stderr, 'isatty', lambda: False)()

    def fileno(self):
        return sys.stderr.fileno()


class ProgressBar(TrainingExtension):
    """Display a progress bar during training.

    This extension tries to infer the number of iterations per epoch by
    querying the ``num_batches``, ``num_examples`` and ``batch_size``
    attributes from the iteration scheme. When this information is not
    available it displays a simplified progress bar that does not include
    the estimated time until the end of the epoch.

    Notes
    -----
    Place this extension before the extensions that print to the screen at
    the end or at the beginning of the epoch (e.g. :class:`Printing`), so
    that their output does not get mixed with the bar.
    """

    #: Seconds between redraws of the bar.
    REDRAW_INTERVAL = 0.1

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bar = None
        self._reset_count()

    def __getstate__(self):
        # The bar holds a file object and timers: it is rebuilt on demand.
        state = dict(self.__dict__)
        state['bar'] = None
        return state

    def get_iter_per_epoch(self):
        """Try to infer the number of iterations per epoch."""
        iter_scheme = getattr(self.main_loop.data_stream,
                              'iteration_scheme', None)
        if iter_scheme is None:
            return None
        indices = getattr(iter_scheme, 'indices', None)
        batch_size = getattr(iter_scheme, 'batch_size', None)
        num_examples = getattr(iter_scheme, 'num_examples', None)
        if indices is not None and batch_size is None:
            return len(indices)
        if indices is not None and batch_size is not None:
            return len(indices) // batch_size
        if num_examples is not None and batch_size is not None:
            return num_examples // batch_size
        return None

    def create_bar(self):
        """Create a new progress bar.

        Calls ``self.get_iter_per_epoch()``, selects an appropriate set of
        widgets and creates a ProgressBar.
        """
        iter_per_epoch = self.get_iter_per_epoch()
        epochs_done = self.main_loop.log.status['epochs_done']

        if iter_per_epoch is None:
            widgets = [f"Epoch {epochs_done}, step ",
                       progressbar.Counter(), ' ',
                       progressbar.BouncingBar(), ' ',
                       progressbar.Timer()]
            iter_per_epoch = progressbar.UnknownLength
        else:
            widgets = [f"Epoch {epochs_done}, step ",
                       progressbar.Counter(),
                       ' (', progressbar.Percentage(), ') ',
                       progressbar.Bar(), ' ',
                       progressbar.Timer(), ' ', progressbar.ETA()]

        return progressbar.ProgressBar(widgets=widgets,
                                       max_value=iter_per_epoch,
                                       fd=CurrentStderr())

    def _reset_count(self):
        self.iter_count = 0
        self._next_update = 0
        self._update_step = 1
        self._last_update = None

    def before_epoch(self):
        self._reset_count()

    def after_epoch(self):
        if self.bar is None:
            return
        self._update_bar()
        self.bar.finish()
        self.bar = None

    def before_batch(self, batch):
        self.iter_count += 1
        # Redrawing costs more than a fast training step: redraw about
        # every REDRAW_INTERVAL seconds, counting batches in between.
        if self.iter_count >= self._next_update:
            self._update_bar()

    def _update_bar(self):
        if self.bar is None:
            self.bar = self.create_bar()
            self.bar.start()
        max_value = self.bar.max_value
        if max_value is not progressbar.UnknownLength and (
                self.iter_count > max_value):
            # The scheme under-estimated the epoch: keep counting.
            self.bar.max_value = progressbar.UnknownLength
        self.bar.update(self.iter_count)
        now = time.monotonic()
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
