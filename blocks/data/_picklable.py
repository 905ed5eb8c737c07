"""Small iterators that pickle at any position.

The main loop pickles the epoch iterator in its checkpoints, so every request
iterator must pickle mid-epoch. ``itertools`` objects lose that ability
after Python 3.13, hence these replacements. Builtin ``iter`` over lists and
ranges, ``zip``, ``map`` and ``filter`` pickle and are used as they are.
"""
from collections.abc import Iterator
from typing import Any

import numpy


class IndexList(list):
    """A request of example indices: a list that also holds them as an array.

    Datasets that fancy-index arrays use :attr:`array` directly, rather than
    converting the list back to an array on every batch (the slowest step
    of an in-memory pipeline otherwise). ``low`` and ``high`` bound the
    indices, so that range checks need not scan them.

    """

    __slots__ = ('array', 'low', 'high')


class BatchIterator:
    """Consecutive slices of ``batch_size`` indices, as :class:`IndexList`.

    Parameters
    ----------
    indices
        1-D array of the indices, in the order to request them. Integer
        indices give :class:`IndexList` batches, others plain lists.
    batch_size
        Length of each batch; the last one may be shorter.
    sort
        Sort the indices within each batch.

    """

    def __init__(self, indices: numpy.ndarray, batch_size: int,
                 sort: bool = False) -> None:
        self.indices = indices
        self.batch_size = batch_size
        self.sort = sort
        self.position = 0
        self.integers = indices.dtype.kind in 'iu' and len(indices) > 0
        if self.integers:
            # Bounds of the whole epoch hold for each of its batches.
            self.low, self.high = int(indices.min()), int(indices.max())

    def __iter__(self) -> 'BatchIterator':
        return self

    def __next__(self) -> IndexList | list:
        start = self.position
        if start >= len(self.indices):
            raise StopIteration
        self.position = stop = start + self.batch_size
        array = self.indices[start:stop]
        if self.sort:
            array = numpy.sort(array)
        if not self.integers:
            return array.tolist()
        batch = IndexList(array.tolist())
        batch.array = array
        batch.low = self.low
        batch.high = self.high
        return batch


class Repeat:
    """``value`` forever, or ``times`` times."""

    def __init__(self, value: Any, times: int | None = None) -> None:
        self.value = value
        self.remaining = times

    def __iter__(self) -> 'Repeat':
        return self

    def __next__(self) -> Any:
        if self.remaining is not None:
            if self.remaining <= 0:
                raise StopIteration
            self.remaining -= 1
        return self.value


class Chain:
    """The items of several iterators, one iterator after the other."""

    def __init__(self, iterators: list[Iterator]) -> None:
        self.iterators = list(iterators)
        self.current = 0

    def __iter__(self) -> 'Chain':
        return self

    def __next__(self) -> Any:
        while self.current < len(self.iterators):
            try:
                return next(self.iterators[self.current])
            except StopIteration:
                self.current += 1
        raise StopIteration


class AsDict:
    """Callable turning a data tuple into a dict keyed by ``sources``."""

    def __init__(self, sources: tuple[str, ...]) -> None:
        self.sources = sources

    def __call__(self, data: tuple) -> dict[str, Any]:
        return dict(zip(self.sources, data))
