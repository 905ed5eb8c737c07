"""Iteration schemes: which examples a stream requests, in which order.

A scheme's request iterator yields one request per batch (or per example):
a list of indices, an index, or a batch size. The iterators pickle at any
position; a shuffled scheme keeps its permutation in the iterator, and its
random state in the scheme, so every epoch draws a new permutation.
"""
import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import Any

import numpy

from blocks.data import config
from blocks.data._picklable import BatchIterator, Chain, Repeat


def _check_batch_size(batch_size: Any) -> None:
    if (not isinstance(batch_size, numbers.Integral)
            or isinstance(batch_size, bool) or batch_size <= 0):
        raise ValueError(
            f"batch_size must be a positive integer, got {batch_size!r}")


def _as_indices(examples: Iterable[int] | int) -> Iterable[int]:
    if isinstance(examples, Iterable):
        return examples
    if not isinstance(examples, numbers.Integral) or examples < 0:
        raise ValueError(
            "examples must be a non-negative number of examples or an "
            f"iterable of indices, got {examples!r}")
    return range(examples)


def _as_list(indices: Iterable[int]) -> list[int]:
    if isinstance(indices, numpy.ndarray):
        return indices.tolist()
    return list(indices)


def _as_array(indices: Iterable[int]) -> numpy.ndarray:
    if isinstance(indices, range):
        return numpy.arange(indices.start, indices.stop, indices.step)
    return numpy.array(_as_list(indices))


def _as_sequence(indices: Iterable[int]) -> list[int] | range:
    if isinstance(indices, (list, range)):
        return indices
    return _as_list(indices)


class IterationScheme(ABC):
    """Base class of iteration schemes.

    Attributes
    ----------
    requests_examples : bool
        Whether requests are for single examples (``True``) or batches.

    """

    requests_examples: bool

    @abstractmethod
    def get_request_iterator(self) -> Iterator:
        """An iterator of requests for one epoch."""


class BatchSizeScheme(IterationScheme):
    """A scheme whose requests are batch sizes."""

    requests_examples = False


class BatchScheme(IterationScheme):
    """A scheme whose requests are lists of example indices.

    Parameters
    ----------
    examples
        The number of examples (indices ``range(examples)``) or the indices
        themselves.
    batch_size
        Number of indices per request; the last request may be shorter.

    """

    requests_examples = False

    def __init__(self, examples: Iterable[int] | int, batch_size: int
                 ) -> None:
        _check_batch_size(batch_size)
        self.indices = _as_indices(examples)
        self.batch_size = batch_size

    @property
    def num_batches(self) -> int:
        """Number of requests per epoch."""
        return -(-len(self.indices) // self.batch_size)


class IndexScheme(IterationScheme):
    """A scheme whose requests are single example indices.

    Parameters
    ----------
    examples
        The number of examples (indices ``range(examples)``) or the indices
        themselves.

    """

    requests_examples = True

    def __init__(self, examples: Iterable[int] | int) -> None:
        self.indices = _as_indices(examples)


class ConcatenatedScheme(IterationScheme):
    """The requests of several schemes, one scheme after the other.

    Parameters
    ----------
    schemes
        Schemes that all request examples, or all request batches.

    """

    def __init__(self, schemes: list[IterationScheme]) -> None:
        kinds = set(scheme.requests_examples for scheme in schemes)
        if len(kinds) != 1:
            raise ValueError(
                "all schemes must produce the same type of requests "
                "(batches or examples): concatenate example schemes and "
                "batch schemes separately")
        self.schemes = schemes

    @property
    def requests_examples(self) -> bool:
        return self.schemes[0].requests_examples

    def get_request_iterator(self) -> Chain:
        return Chain([scheme.get_request_iterator()
                      for scheme in self.schemes])


class ConstantScheme(BatchSizeScheme):
    """Requests of a constant batch size.

    Parameters
    ----------
    batch_size
        The size requested.
    num_examples
        Request this many examples in all: full batches, then the non-zero
        remainder.
    times
        Request ``times`` batches. With neither, requests never end.

    Examples
    --------
    >>> list(ConstantScheme(3, num_examples=7).get_request_iterator())
    [3, 3, 1]

    """

    def __init__(self, batch_size: int, num_examples: int | None = None,
                 times: int | None = None) -> None:
        _check_batch_size(batch_size)
        if num_examples and times:
            raise ValueError(
                "give num_examples or times to ConstantScheme, not both")
        self.batch_size = batch_size
        self.num_examples = num_examples
        self.times = times

    @property
    def num_batches(self) -> int | None:
        """Number of requests per epoch (``None`` when endless)."""
        if self.times:
            return self.times
        if self.num_examples:
            return -(-self.num_examples // self.batch_size)
        return None

    def get_request_iterator(self) -> Repeat | Chain:
        if self.times:
            return Repeat(self.batch_size, self.times)
        if self.num_examples:
            full, remainder = divmod(self.num_examples, self.batch_size)
            return Chain([Repeat(self.batch_size, full),
                          iter([remainder] if remainder else [])])
        return Repeat(self.batch_size)


class SequentialScheme(BatchScheme):
    """Consecutive batches of indices, in order.

    Examples
    --------
    >>> list(SequentialScheme(5, 2).get_request_iterator())
    [[0, 1], [2, 3], [4]]

    """

    def get_request_iterator(self) -> BatchIterator:
        return BatchIterator(_as_array(self.indices), self.batch_size)


def _default_rng(rng: numpy.random.RandomState | None
                 ) -> numpy.random.RandomState:
    if rng is None:
        return numpy.random.RandomState(config.default_seed)
    return rng


class ShuffledScheme(BatchScheme):
    """Batches of indices in a random order, new every epoch.

    Parameters
    ----------
    examples, batch_size
        As for :class:`BatchScheme`.
    rng
        Random state; by default ``RandomState(config.default_seed)``, made
        once, so that successive epochs differ.
    sorted_indices
        Sort the indices within each batch (faster HDF5 reads).

    Examples
    --------
    >>> scheme = ShuffledScheme(6, 4, rng=numpy.random.RandomState(1))
    >>> [len(batch) for batch in scheme.get_request_iterator()]
    [4, 2]

    """

    def __init__(self, *args: Any, rng: numpy.random.RandomState | None = None,
                 sorted_indices: bool = False, **kwargs: Any) -> None:
        self.rng = _default_rng(rng)
        self.sorted_indices = sorted_indices
        super().__init__(*args, **kwargs)

    def get_request_iterator(self) -> BatchIterator:
        # Shuffling an array draws the same permutation as shuffling a list
        # (upstream), several times faster.
        indices = _as_array(self.indices)
        self.rng.shuffle(indices)
        return BatchIterator(indices, self.batch_size,
                             sort=self.sorted_indices)


class SequentialExampleScheme(IndexScheme):
    """Example indices, in order.

    Examples
    --------
    >>> list(SequentialExampleScheme(3).get_request_iterator())
    [0, 1, 2]

    """

    def get_request_iterator(self) -> Iterator[int]:
        return iter(_as_sequence(self.indices))


class ShuffledExampleScheme(IndexScheme):
    """Example indices in a random order, new every epoch.

    Parameters
    ----------
    examples
        As for :class:`IndexScheme`.
    rng
        Random state; by default ``RandomState(config.default_seed)``.

    """

    def __init__(self, *args: Any, rng: numpy.random.RandomState | None = None,
                 **kwargs: Any) -> None:
        self.rng = _default_rng(rng)
        super().__init__(*args, **kwargs)

    def get_request_iterator(self) -> Iterator[int]:
        indices = _as_list(self.indices)
        self.rng.shuffle(indices)
        return iter(indices)


def cross_validation(scheme_class: type, num_examples: int, num_folds: int,
                     strict: bool = True, **kwargs: Any) -> Iterator[tuple]:
    """Yield (train, valid) schemes for each fold of a cross-validation.

    Fold ``i`` validates on examples ``[N*i//k, N*(i+1)//k)`` and trains on
    the others.

    Parameters
    ----------
    scheme_class
        Scheme built for each part, as ``scheme_class(indices, **kwargs)``.
    num_examples
        Number of examples ``N``.
    num_folds
        Number of folds ``k``.
    strict
        Require ``N`` divisible by ``k``; when false, each fold also yields
        the size of its validation part.

    Examples
    --------
    >>> folds = cross_validation(SequentialScheme, 4, 2, batch_size=2)
    >>> [list(valid.get_request_iterator()) for _, valid in folds]
    [[[0, 1]], [[2, 3]]]

    """
    if strict and num_examples % num_folds != 0:
        raise ValueError(
            f"{num_examples} examples are not divisible in {num_folds} "
            "evenly-sized folds; pass strict=False to allow folds of "
            "different sizes")
    for i in range(num_folds):
        begin = num_examples * i // num_folds
        end = num_examples * (i + 1) // num_folds
        train = scheme_class(list(range(0, begin))
                             + list(range(end, num_examples)), **kwargs)
        valid = scheme_class(range(begin, end), **kwargs)
        if strict:
            yield (train, valid)
        else:
            yield (train, valid, end - begin)
