"""Print the status and the latest log records."""
from collections.abc import Iterable, Mapping
from typing import Any

from blocks.extensions.base import SimpleExtension
from blocks.extensions.formatting import format_record
from blocks.extensions.protocol import (
    BEST_SO_FAR_SUFFIX,
    EPOCHS_DONE,
    ITERATIONS_DONE,
    STATUS_RECORDS,
)

HEADINGS = {
    'before_epoch': 'BEFORE FIRST EPOCH',
    'on_resumption': 'TRAINING HAS BEEN RESUMED',
    'after_training': 'TRAINING HAS BEEN FINISHED:',
    'after_epoch': 'AFTER ANOTHER EPOCH',
    'on_interrupt': 'TRAINING HAS BEEN INTERRUPTED',
}


def _is_status_record(name: str) -> bool:
    return name in STATUS_RECORDS or name.endswith(BEST_SO_FAR_SUFFIX)


def grouped(items: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Records in the order they are printed.

    Those that say where training stands (the log protocol's records:
    ``training_finish_requested``, ``saved_to``, ``*_best_so_far``, ...)
    first, then the rest; each group sorted by name; private records
    (starting with ``_``) left out.
    """
    shown = sorted((name, value) for name, value in items
                   if not name.startswith('_'))
    return ([item for item in shown if _is_status_record(item[0])] +
            [item for item in shown if not _is_status_record(item[0])])


class Printing(SimpleExtension):
    """Prints log messages to the screen.

    By default prints before the first epoch, on resumption, after every
    epoch, after training and when training is interrupted.

    Parameters
    ----------
    compact : bool, optional
        Print one line per call (the iteration, the epoch and the records
        of the current row) rather than the status and the records under
        a banner. By default, one line when called after a batch (e.g.
        ``every_n_batches=100``), the full report otherwise.
    digits : int
        Significant digits of the floats printed. Arrays are summarised,
        flags printed as booleans with every log backend (see
        :func:`~blocks.extensions.formatting.format_record`).

    Examples
    --------
    >>> printing = Printing(every_n_batches=100)
    """

    def __init__(self, *, compact: bool | None = None, digits: int = 6,
                 **kwargs: Any):
        kwargs.setdefault("before_first_epoch", True)
        kwargs.setdefault("on_resumption", True)
        kwargs.setdefault("after_training", True)
        kwargs.setdefault("after_epoch", True)
        kwargs.setdefault("on_interrupt", True)
        super().__init__(**kwargs)
        self.compact = compact
        self.digits = digits

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault('compact', None)
        self.__dict__.setdefault('digits', 6)

    def _print_attributes(self, attribute_tuples: Mapping[str, Any]) -> None:
        for attr, value in grouped(attribute_tuples.items()):
            print("\t", f"{attr}:", format_record(attr, value, self.digits))

    def _print_line(self, log: Any) -> None:
        records = ' '.join(
            f"{name}={format_record(name, value, self.digits)}"
            for name, value in grouped(log.current_row.items()))
        print(f"Iteration {log.status[ITERATIONS_DONE]} "
              f"(epoch {log.status[EPOCHS_DONE]}): {records}".rstrip())

    def do(self, which_callback: str, *args: Any) -> None:
        log = self.main_loop.log
        compact = self.compact
        if compact is None:
            compact = which_callback == 'after_batch'
        if compact:
            self._print_line(log)
            return
        print()
        print(79 * "-")
        heading = HEADINGS.get(str(which_callback))
        if heading:
            print(heading)
        print(79 * "-")
        if which_callback != "on_interrupt":
            print("Training status:")
            self._print_attributes(log.status)
            print("Log records from the iteration "
                  f"{log.status[ITERATIONS_DONE]}:")
            self._print_attributes(log.current_row)
        print()
