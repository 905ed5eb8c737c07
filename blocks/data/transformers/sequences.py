"""Transformers over sequences (Fuel's ``fuel.transformers.sequences``)."""
from typing import Any

from blocks.data.transformers.base import Transformer


class Window(Transformer):
    """Slide a source window and a target window along each sequence.

    For each position ``index`` of a sequence the stream gives
    ``(sequence[index:index + source_window],
    sequence[target:target + target_window])`` where ``target = index +
    source_window * (not overlapping) + offset``. A sequence is left once
    the windows no longer fit in it.

    Parameters
    ----------
    offset
        Shift of the target window.
    source_window, target_window
        Lengths of the two windows.
    overlapping
        Whether the target window starts with the source window (else right
        after it).
    data_stream
        A stream of examples with a single source of sequences.
    target_source
        Name of the added target source.

    Examples
    --------
    >>> from blocks.data.datasets import IterableDataset
    >>> stream = IterableDataset([[1, 2, 3, 4]]).get_example_stream()
    >>> list(Window(0, 2, 1, False, stream).get_epoch_iterator())
    [([1, 2], [3]), ([2, 3], [4])]

    """

    _epoch_state_attributes = ('child_epoch_iterator', 'sequence', 'index')

    def __init__(self, offset: int, source_window: int, target_window: int,
                 overlapping: bool, data_stream: Any,
                 target_source: str = 'targets', **kwargs: Any) -> None:
        if not data_stream.produces_examples:
            raise ValueError(
                f"{type(self).__name__} needs a stream of examples, but the "
                "wrapped stream produces batches; wrap it in Unpack first")
        if len(data_stream.sources) != 1:
            raise ValueError(
                f"{type(self).__name__} expects exactly one source, the "
                f"wrapped stream has {tuple(data_stream.sources)!r}; select "
                "one with FilterSources")
        super().__init__(data_stream, produces_examples=True, **kwargs)
        self.sources = self.sources + (target_source,)
        self.offset = offset
        self.source_window = source_window
        self.target_window = target_window
        self.overlapping = overlapping
        self._target_shift = source_window * (not overlapping) + offset
        self.sequence = []
        self.index = 0

    def get_epoch_iterator(self, **kwargs: Any) -> Any:
        self.sequence = []
        self.index = 0
        return super().get_epoch_iterator(**kwargs)

    def _fits(self) -> bool:
        target = self.index + self._target_shift
        return (max(self.index + self.source_window,
                    target + self.target_window) <= len(self.sequence))

    def get_data(self, request: Any = None) -> tuple:
        if request is not None:
            raise ValueError(
                f"{type(self).__name__} takes no request, got {request!r}")
        while not self._fits():
            self.sequence, = next(self.child_epoch_iterator)
            self.index = -min(0, self._target_shift)
        index = self.index
        target = index + self._target_shift
        self.index += 1
        return (self.sequence[index:index + self.source_window],
                self.sequence[target:target + self.target_window])


class NGrams(Window):
    """Give each n-gram of a sequence with the element that follows it.

    Parameters
    ----------
    ngram_order
        Length of the n-grams.
    *args, **kwargs
        ``data_stream`` and the other arguments of :class:`Window`.

    Examples
    --------
    >>> from blocks.data.datasets import IterableDataset
    >>> stream = IterableDataset([[1, 2, 3, 4]]).get_example_stream()
    >>> list(NGrams(2, stream).get_epoch_iterator())
    [([1, 2], 3), ([2, 3], 4)]

    """

    def __init__(self, ngram_order: int, *args: Any, **kwargs: Any) -> None:
        super().__init__(0, ngram_order, 1, False, *args, **kwargs)

    def get_data(self, *args: Any, **kwargs: Any) -> tuple:
        source, target = super().get_data(*args, **kwargs)
        return (source, target[0])
