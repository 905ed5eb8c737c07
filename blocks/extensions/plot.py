"""Draw training curves into a PNG file while training runs."""
import os
from collections.abc import Sequence
from typing import Any

from blocks.extensions import SimpleExtension
from blocks.log.log import NewRecords
from blocks.log.plotting import draw, panels, series
from blocks.log.reading import require


class Plot(SimpleExtension):
    """Redraw a PNG of chosen log records during training.

    The image has one panel per group of records, iterations on the x axis;
    records logged at different intervals (a cost every batch, a validation
    error every epoch) each get their own points, without gaps. The file is
    replaced atomically, so an image viewer never shows half a file. By
    default it is redrawn after every epoch and when training ends; pass
    ``every_n_batches=N`` to redraw more often. Needs matplotlib (``pip
    install 'blocks[plot]'``).

    Parameters
    ----------
    path : str
        The PNG file.
    records : str or list
        The records to draw: a list whose items are record names or lists
        of names drawn in one panel, or a string such as
        ``'train_cost+valid_cost,valid_error_rate'`` (panels separated by
        commas, records in a panel by ``+``).
    title : str, optional
        Drawn above the first panel.
    \\*\\*kwargs
        Conditions, as for any :class:`SimpleExtension`.

    Raises
    ------
    ImportError
        At construction, if matplotlib is not installed.
    blocks.log.plotting.NotNumericError
        During training, if a record holds something that is not a number.

    Examples
    --------
    >>> plot = Plot('curves.png', ['train_cost+valid_cost', 'valid_error'],
    ...             every_n_batches=100)
    >>> plot.groups
    [['train_cost', 'valid_cost'], ['valid_error']]
    """

    def __init__(self, path: str,
                 records: str | Sequence[str | Sequence[str]],
                 title: str | None = None, **kwargs: Any):
        require('matplotlib', 'plot')
        kwargs.setdefault('after_epoch', True)
        kwargs.setdefault('after_training', True)
        super().__init__(**kwargs)
        self.path = os.fspath(path)
        self.groups = panels(records)
        self.title = title
        names = [name for group in self.groups for name in group]
        self._new = NewRecords(names)
        self._curves: dict[str, tuple[list[int], list[float]]] = {
            name: ([], []) for name in names}

    def do(self, which_callback: str, *args: Any) -> None:
        new = series(self._new.read(self.main_loop.log), self._new.records
                     or ())
        for name, (times, values) in new.items():
            self._curves[name][0].extend(times)
            self._curves[name][1].extend(values)
        draw(self.path, {'': self._curves}, self.groups, self.title)
