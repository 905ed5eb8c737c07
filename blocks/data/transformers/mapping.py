"""Transformers applying a function to the data, or filtering it."""
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

import numpy

from blocks.data._picklable import AsDict
from blocks.data.transformers.base import Transformer, copy_axis_labels
from blocks.data.transformers.batching import as_batch_array


class Mapping(Transformer):
    """Apply a function to each item (example or batch) of a stream.

    Parameters
    ----------
    data_stream
        The wrapped stream.
    mapping
        Called with the item; returns the new item, or the data of the
        ``add_sources`` when those are given. Must be picklable (a module
        level function or a callable object, not a lambda) for the stream to
        be checkpointed.
    add_sources
        Names of sources the mapping adds after the wrapped stream's.
    mapping_accepts
        ``list``: the mapping gets the item as a tuple and returns a tuple;
        ``dict``: it gets an ``OrderedDict`` source -> data and returns a
        mapping, read in ``add_sources`` (or ``sources``) order.

    Examples
    --------
    >>> from blocks.data.datasets import IterableDataset
    >>> stream = IterableDataset([1, 2]).get_example_stream()
    >>> def square(data):
    ...     return (data[0] ** 2,)
    >>> list(Mapping(stream, square, add_sources=('square',))
    ...      .get_epoch_iterator(as_dict=True))
    [{'data': 1, 'square': 1}, {'data': 2, 'square': 4}]

    """

    def __init__(self, data_stream: Any, mapping: Callable,
                 add_sources: tuple[str, ...] | None = None,
                 mapping_accepts: type = list, **kwargs: Any) -> None:
        super().__init__(data_stream, data_stream.produces_examples, **kwargs)
        if mapping_accepts not in (list, dict):
            raise ValueError(
                "`mapping_accepts` must be `dict` or `list`, got "
                f"{mapping_accepts!r}")
        self.mapping = mapping
        self.add_sources = add_sources
        self.mapping_accepts = mapping_accepts

    @property
    def sources(self) -> tuple[str, ...]:
        return self.data_stream.sources + (self.add_sources or ())

    def get_data(self, request: Any = None) -> tuple:
        if request is not None:
            raise ValueError(f"Mapping takes no request, got {request!r}")
        data = next(self.child_epoch_iterator)
        if self.mapping_accepts is dict:
            image = self.mapping(OrderedDict(zip(self.data_stream.sources,
                                                 data)))
            image = tuple(image[source]
                          for source in (self.add_sources or self.sources))
        else:
            image = self.mapping(data)
        if not self.add_sources:
            return image
        return tuple(data) + tuple(image)


class SortMapping:
    """A mapping sorting the examples of a batch by ``key(example)``.

    Parameters
    ----------
    key
        Called with each example as a tuple (one item per source).
    reverse
        Sort in decreasing order.

    Examples
    --------
    >>> by_length = SortMapping(lambda example: len(example[0]))
    >>> by_length(([[1, 2], [3], [4, 5, 6]], ['b', 'a', 'c']))
    ([[3], [1, 2], [4, 5, 6]], ['a', 'b', 'c'])

    """

    def __init__(self, key: Callable, reverse: bool = False) -> None:
        self.key = key
        self.reverse = reverse

    def __call__(self, batch: tuple) -> tuple:
        output = sorted(zip(*batch), key=self.key, reverse=self.reverse)
        return tuple(as_batch_array(list(sorted_source))
                     if isinstance(source, numpy.ndarray)
                     else list(sorted_source)
                     for sorted_source, source in zip(zip(*output), batch))


class Filter(Transformer):
    """Keep only the items of a stream for which ``predicate`` is true.

    Parameters
    ----------
    data_stream
        The wrapped stream.
    predicate
        Called with each item as a tuple; must be picklable for the stream
        to be checkpointed.

    Notes
    -----
    Upstream Fuel ignored ``as_dict`` here; this version honours it.

    """

    def __init__(self, data_stream: Any, predicate: Callable,
                 **kwargs: Any) -> None:
        copy_axis_labels(data_stream, kwargs)
        super().__init__(data_stream, data_stream.produces_examples, **kwargs)
        self.predicate = predicate

    def get_epoch_iterator(self, as_dict: bool = False,
                           **kwargs: Any) -> Iterator:
        super().get_epoch_iterator(**kwargs)
        filtered = filter(self.predicate, self.child_epoch_iterator)
        if as_dict:
            return map(AsDict(self.sources), filtered)
        return filtered
