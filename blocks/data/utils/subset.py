"""Subsets of a dataset's examples, and requests made relative to them."""
import numbers
import sys
from collections.abc import Sequence
from typing import Any

import numpy

from blocks.data._picklable import IndexList

Request = int | slice | list


def iterable_fancy_indexing(iterable: Sequence, request: Any) -> list:
    """Index a sequence without fancy-indexing support with a list.

    A boolean mask is turned into the indices of its true entries first.

    Examples
    --------
    >>> iterable_fancy_indexing(['a', 'b', 'c'], [2, 0])
    ['c', 'a']

    """
    if numpy.asarray(request).dtype == bool:
        request = numpy.flatnonzero(request)
    return [iterable[r] for r in request]


def _supports_fancy_indexing(indexable: Any) -> bool:
    if isinstance(indexable, numpy.ndarray):
        return True
    # An h5py dataset can only exist once h5py is imported; looking it up
    # here keeps h5py out of the import of this module.
    h5py = sys.modules.get('h5py')
    return h5py is not None and isinstance(indexable, h5py.Dataset)


class Subset:
    """A subset of the examples of a dataset, as a slice or a list.

    Parameters
    ----------
    list_or_slice
        The examples: a slice with non-negative bounds and a step of 1 (or
        ``None``), or a list of indices. A list is sorted, de-duplicated and
        turned into a slice when it is contiguous.
    original_num_examples
        Number of examples of the whole dataset.

    Examples
    --------
    >>> subset = Subset([4, 2, 3], 10)
    >>> subset.list_or_slice
    slice(2, 5, None)
    >>> subset[[0, 2]]
    [2, 4]
    >>> (Subset(slice(0, 4), 10) + Subset(slice(4, 7), 10)).list_or_slice
    slice(0, 7, 1)

    """

    def __init__(self, list_or_slice: list | slice,
                 original_num_examples: int) -> None:
        if isinstance(list_or_slice, numpy.ndarray):
            list_or_slice = list_or_slice.tolist()
        if isinstance(list_or_slice, slice):
            self._check_slice(list_or_slice, original_num_examples)
        else:
            list_or_slice = self._normalize_list(list_or_slice,
                                                 original_num_examples)
        self.original_num_examples = original_num_examples
        self.list_or_slice = list_or_slice

    @property
    def list_or_slice(self) -> list | slice:
        """The examples of the subset, as a slice or a sorted list."""
        return self._list_or_slice

    @list_or_slice.setter
    def list_or_slice(self, value: list | slice) -> None:
        self._list_or_slice = value
        # Requests are checked against the size on every batch: compute once.
        if isinstance(value, slice):
            self._num_examples = len(range(*self.slice_to_numerical_args(
                value, self.original_num_examples)))
            self._offset = value.start or 0
        else:
            self._num_examples = len(value)
            self._offset = 0
        self._covers_all = (self._offset == 0 and self._num_examples
                            == self.original_num_examples)

    @staticmethod
    def _check_slice(slice_: slice, num_examples: int) -> None:
        start, stop, step = Subset.slice_to_numerical_args(slice_,
                                                           num_examples)
        problem = None
        if step != 1:
            problem = "its step must be None or 1"
        elif start < 0 or stop < 0:
            problem = "its bounds must be non-negative"
        elif start > stop:
            problem = "its start must not exceed its stop"
        elif stop > num_examples or (slice_.start is not None
                                     and start >= num_examples):
            problem = f"it must lie within the {num_examples} examples"
        if problem:
            raise ValueError(f"invalid subset {slice_}: {problem}")

    @staticmethod
    def _normalize_list(indices: list, num_examples: int) -> list | slice:
        indices = sorted(set(int(i) for i in indices))
        if indices and (indices[0] < 0 or indices[-1] >= num_examples):
            raise ValueError(
                f"invalid subset: indices must lie in [0, {num_examples}), "
                f"got values from {indices[0]} to {indices[-1]}")
        if indices and indices[-1] - indices[0] + 1 == len(indices):
            return slice(indices[0], indices[-1] + 1)
        return indices

    @classmethod
    def subset_of(cls, subset: 'Subset', list_or_slice: list | slice
                  ) -> 'Subset':
        """Build the subset of ``subset`` given relative to it."""
        return cls(subset[list_or_slice], subset.original_num_examples)

    @classmethod
    def empty_subset(cls, original_num_examples: int) -> 'Subset':
        """Build an empty subset of a dataset."""
        return cls([], original_num_examples)

    @property
    def is_list(self) -> bool:
        """Whether the subset is stored as a list of indices."""
        return not isinstance(self.list_or_slice, slice)

    @property
    def num_examples(self) -> int:
        """Number of examples in the subset."""
        return self._num_examples

    @property
    def is_empty(self) -> bool:
        """Whether the subset holds no example."""
        return self.num_examples == 0

    @staticmethod
    def slice_to_numerical_args(slice_: slice, num_examples: int
                                ) -> tuple[int, int, int]:
        """Replace the ``None`` fields of a slice by their values."""
        start = 0 if slice_.start is None else slice_.start
        stop = num_examples if slice_.stop is None else slice_.stop
        step = 1 if slice_.step is None else slice_.step
        return start, stop, step

    def get_list_representation(self) -> list[int]:
        """The subset as a list of indices."""
        if self.is_list:
            return self.list_or_slice
        return list(range(*self.slice_to_numerical_args(
            self.list_or_slice, self.original_num_examples)))

    def __add__(self, other: 'Subset') -> 'Subset':
        if self.original_num_examples != other.original_num_examples:
            raise ValueError(
                "cannot add subsets of datasets of different sizes "
                f"({self.original_num_examples} and "
                f"{other.original_num_examples} examples)")
        if self.is_empty:
            return other
        if other.is_empty:
            return self
        if not (self.is_list or other.is_list):
            (start_1, stop_1, _), (start_2, stop_2, _) = sorted(
                self.slice_to_numerical_args(s.list_or_slice,
                                             self.original_num_examples)
                for s in (self, other))
            if start_2 <= stop_1:
                return Subset(slice(start_1, max(stop_1, stop_2), 1),
                              self.original_num_examples)
        return Subset(self.get_list_representation()
                      + other.get_list_representation(),
                      self.original_num_examples)

    def __getitem__(self, key: Request) -> Request:
        """Map a request relative to the subset onto the whole dataset."""
        num_examples = self._num_examples
        if not num_examples:
            raise ValueError("cannot index an empty subset")
        if isinstance(key, slice):
            if key == slice(None):
                return self._list_or_slice
            self._slice_request_sanity_check(key, num_examples)
            if self.is_list:
                return self._list_or_slice[key]
            offset = self._offset
            stop = num_examples if key.stop is None else key.stop
            return slice(offset + (key.start or 0), offset + stop, key.step)
        self._list_request_sanity_check(key, num_examples)
        if self.is_list:
            return [self._list_or_slice[index] for index in key]
        offset = self._offset
        if offset:
            return [offset + index for index in key]
        return key

    @staticmethod
    def _list_request_sanity_check(indices: Sequence[int],
                                   num_examples: int) -> None:
        """Raise :class:`ValueError` unless ``indices`` is a valid request.

        A valid list request is not empty and holds indices in
        ``[0, num_examples)``.

        """
        if not len(indices):
            raise ValueError(
                "request is an empty list of indices; ask for at least "
                "one example")
        low, high = min(indices), max(indices)
        if low < 0:
            raise ValueError(
                f"request holds a negative index ({low}), out of the "
                f"subset's range [0, {num_examples})")
        if high >= num_examples:
            raise ValueError(
                f"request holds an index past the end ({high}), out of the "
                f"subset's range [0, {num_examples})")

    @staticmethod
    def _slice_request_sanity_check(slice_: slice, num_examples: int) -> None:
        """Raise :class:`ValueError` unless ``slice_`` is a valid request.

        A valid slice request has no negative field, stops at most at
        ``num_examples``, starts before it and before its stop.

        """
        fields = (slice_.start, slice_.stop, slice_.step)
        if any(field is not None and field < 0 for field in fields):
            raise ValueError(
                f"request {slice_} has a negative field; give start, stop "
                f"and step within the subset's range [0, {num_examples})")
        if slice_.step == 0:
            raise ValueError(f"request {slice_} has a step of 0")
        start, stop, _ = Subset.slice_to_numerical_args(slice_, num_examples)
        if stop > num_examples:
            raise ValueError(
                f"request {slice_} stops past the end, out of the subset's "
                f"range [0, {num_examples})")
        if start >= num_examples:
            raise ValueError(
                f"request {slice_} starts past the end, out of the subset's "
                f"range [0, {num_examples})")
        if start >= stop:
            raise ValueError(
                f"request {slice_} is empty (start >= stop); ask for at "
                "least one example")

    def index_within_subset(self, indexable: Any, subset_request: Request,
                            sort_indices: bool = False) -> Any:
        """Index ``indexable`` with a request relative to the subset.

        Parameters
        ----------
        indexable
            The whole data of one source (array, h5py dataset, list, ...).
        subset_request
            An index, a slice or a list of indices, relative to the subset.
        sort_indices
            Read list requests in increasing order and reorder the result
            (h5py only accepts increasing indices).

        """
        if type(subset_request) is IndexList and self._covers_all and (
                0 <= subset_request.low
                and subset_request.high < self._num_examples):
            # Known to be in range and to index the data as it is: use the
            # array the list was made from.
            request = subset_request.array
            if type(indexable) is numpy.ndarray and not sort_indices:
                return indexable[request]
        elif type(subset_request) is list and self._covers_all:
            # The request indexes the data as it is. Indexing rejects
            # indices past the end; negative ones would wrap around.
            if not subset_request or min(subset_request) < 0:
                self[subset_request]  # raises the request error
            request = subset_request
        elif isinstance(subset_request, numbers.Integral):
            request, = self[[subset_request]]
        else:
            request = self[subset_request]
        if isinstance(request, (numbers.Integral, slice)):
            return indexable[request]
        if sort_indices:
            return self.sorted_fancy_indexing(indexable, request)
        if _supports_fancy_indexing(indexable):
            return indexable[request]
        return iterable_fancy_indexing(indexable, request)

    @staticmethod
    def sorted_fancy_indexing(indexable: Any, request: list) -> Any:
        """Fancy-index in increasing order, then restore the request's order.

        Examples
        --------
        >>> Subset.sorted_fancy_indexing(numpy.arange(10) * 2, [5, 1, 3])
        array([10,  2,  6])

        """
        if len(request) <= 1:
            return indexable[request]
        order = numpy.argsort(request)
        data = numpy.empty((len(request),) + indexable.shape[1:],
                           dtype=indexable.dtype)
        data[order] = indexable[numpy.asarray(request)[order]]
        return data

    def __repr__(self) -> str:
        return (f"Subset({self.list_or_slice!r}, "
                f"{self.original_num_examples})")
