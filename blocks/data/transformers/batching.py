"""Transformers grouping examples into batches and back."""
import numbers
from collections.abc import Iterator
from typing import Any

import numpy

from blocks.data import config
from blocks.data.schemes import BatchSizeScheme
from blocks.data.transformers.base import (Transformer, check_sources_exist,
                                           copy_axis_labels)

NEEDS_EXAMPLES = ("{name} needs a stream of examples, but the wrapped stream "
                  "produces batches; wrap it in Unpack first")
NEEDS_BATCHES = ("{name} needs a stream of batches, but the wrapped stream "
                 "produces examples; wrap it in Batch first")


def as_batch_array(examples: list) -> numpy.ndarray:
    """Stack examples into an array; ragged ones into a 1-D object array.

    NumPy 1 made the object array itself (with a warning); NumPy 2 raises,
    but batches of sequences of different lengths (for :class:`Padding`)
    need it.

    """
    try:
        return numpy.asarray(examples)
    except ValueError:
        array = numpy.empty(len(examples), dtype=object)
        for i, example in enumerate(examples):
            array[i] = example
        return array


class Cache(Transformer):
    """Re-batch a stream of batches into batches of the requested sizes.

    When the cache holds fewer examples than requested, one batch of the
    wrapped stream is added to it, so a result can be short mid-epoch if
    the wrapped batches are small. At the end of the epoch what is left
    comes out as a last, short batch.

    Parameters
    ----------
    data_stream
        The wrapped stream of batches.
    iteration_scheme
        A :class:`~blocks.data.schemes.BatchSizeScheme` giving the sizes.

    """

    _epoch_state_attributes = ('child_epoch_iterator', 'cache')

    def __init__(self, data_stream: Any, iteration_scheme: Any,
                 **kwargs: Any) -> None:
        if not isinstance(iteration_scheme, BatchSizeScheme):
            raise ValueError(
                "Cache's iteration scheme must be a BatchSizeScheme (such as "
                f"ConstantScheme), got {type(iteration_scheme).__name__}")
        copy_axis_labels(data_stream, kwargs)
        super().__init__(data_stream, iteration_scheme=iteration_scheme,
                         **kwargs)
        self.cache = [[] for _ in self.sources]

    def get_data(self, request: Any = None) -> tuple:
        if request is None:
            raise ValueError("Cache needs a batch size request, got None")
        if request > len(self.cache[0]):
            self._cache()
        data = []
        for i, cache in enumerate(self.cache):
            data.append(as_batch_array(cache[:request]))
            self.cache[i] = cache[request:]
        return tuple(data)

    def get_epoch_iterator(self, **kwargs: Any) -> Iterator:
        self.cache = [[] for _ in self.sources]
        return super().get_epoch_iterator(**kwargs)

    def _cache(self) -> None:
        try:
            for cache, data in zip(self.cache,
                                   next(self.child_epoch_iterator)):
                cache.extend(data)
        except StopIteration:
            if not self.cache[0]:
                raise


class Batch(Transformer):
    """Group the examples of a stream into batches.

    Parameters
    ----------
    data_stream
        The wrapped stream of examples.
    iteration_scheme
        A scheme requesting batches; each request gives the batch size (a
        number, or a list whose length is used).
    strictness
        What to do with a last, incomplete batch: 0 returns it, 1 drops it,
        2 raises :class:`ValueError`.

    Examples
    --------
    >>> from blocks.data.datasets import IterableDataset
    >>> from blocks.data.schemes import ConstantScheme
    >>> stream = IterableDataset([1, 2, 3]).get_example_stream()
    >>> list(Batch(stream, ConstantScheme(2)).get_epoch_iterator())
    [(array([1, 2]),), (array([3]),)]

    """

    def __init__(self, data_stream: Any, iteration_scheme: Any,
                 strictness: int = 0, **kwargs: Any) -> None:
        if not data_stream.produces_examples:
            raise ValueError(NEEDS_EXAMPLES.format(name='Batch'))
        if iteration_scheme.requests_examples:
            raise ValueError(
                "Batch's iteration scheme must request batches, but "
                f"{type(iteration_scheme).__name__} requests single "
                "examples; use a batch scheme such as ConstantScheme")
        if strictness not in (0, 1, 2):
            raise ValueError(
                f"strictness must be 0, 1 or 2, got {strictness!r}")
        if data_stream.axis_labels:
            kwargs.setdefault('axis_labels', {
                source: ('batch',) + labels if labels else None
                for source, labels in data_stream.axis_labels.items()})
        super().__init__(data_stream, iteration_scheme=iteration_scheme,
                         **kwargs)
        self.strictness = strictness

    def get_data(self, request: Any = None) -> tuple:
        if request is None:
            raise ValueError("Batch needs a batch size request, got None")
        size = (request if isinstance(request, numbers.Integral)
                else len(request))
        data = [[] for _ in self.sources]
        for _ in range(size):
            try:
                for source_data, example in zip(
                        data, next(self.child_epoch_iterator)):
                    source_data.append(example)
            except StopIteration:
                if data[0] and not self.strictness:
                    break
                if data[0] and self.strictness > 1:
                    raise ValueError(
                        f"the epoch ended with an incomplete batch of "
                        f"{len(data[0])} examples out of {size}, which "
                        "strictness=2 forbids; use strictness=0 to keep "
                        "it or 1 to drop it") from None
                raise
        return tuple(as_batch_array(source_data) for source_data in data)


class Unpack(Transformer):
    """Split the batches of a stream into examples."""

    _epoch_state_attributes = ('child_epoch_iterator', 'data')

    def __init__(self, data_stream: Any, **kwargs: Any) -> None:
        if data_stream.produces_examples:
            raise ValueError(NEEDS_BATCHES.format(name='Unpack'))
        kwargs.setdefault('produces_examples', True)
        super().__init__(data_stream, **kwargs)
        self.data = None
        if data_stream.axis_labels:
            self.axis_labels = {
                source: labels[1:] if labels else None
                for source, labels in data_stream.axis_labels.items()}

    def get_epoch_iterator(self, **kwargs: Any) -> Iterator:
        self.data = None
        return super().get_epoch_iterator(**kwargs)

    def get_data(self, request: Any = None) -> tuple:
        if request is not None:
            raise ValueError(f"Unpack takes no request, got {request!r}")
        while True:
            if self.data is None:
                self.data = zip(*next(self.child_epoch_iterator))
            try:
                return next(self.data)
            except StopIteration:
                self.data = None


class Padding(Transformer):
    """Pad the sequences of a batch to a common length, and add masks.

    Parameters
    ----------
    data_stream
        The wrapped stream of batches.
    mask_sources
        Sources to pad (default: all); each gets a ``<source>_mask`` source
        right after it, with 1 on real steps and 0 on padding.
    mask_dtype
        dtype of the masks (default ``config.floatX``).

    Examples
    --------
    >>> from blocks.data.datasets import IterableDataset
    >>> from blocks.data.schemes import ConstantScheme
    >>> stream = Batch(IterableDataset([[1, 2], [3]]).get_example_stream(),
    ...                ConstantScheme(2))
    >>> next(Padding(stream, mask_dtype='int8').get_epoch_iterator())
    (array([[1, 2],
           [3, 0]]), array([[1, 1],
           [1, 0]], dtype=int8))

    """

    def __init__(self, data_stream: Any, mask_sources: Any = None,
                 mask_dtype: Any = None, **kwargs: Any) -> None:
        if data_stream.produces_examples:
            raise ValueError(NEEDS_BATCHES.format(name='Padding'))
        super().__init__(data_stream, produces_examples=False, **kwargs)
        if mask_sources is None:
            mask_sources = self.data_stream.sources
        else:
            check_sources_exist(mask_sources, data_stream,
                                "Padding's mask_sources")
        self.mask_sources = mask_sources
        self.mask_dtype = config.floatX if mask_dtype is None else mask_dtype

    @property
    def sources(self) -> tuple[str, ...]:
        sources = []
        for source in self.data_stream.sources:
            sources.append(source)
            if source in self.mask_sources:
                sources.append(source + '_mask')
        return tuple(sources)

    def transform_batch(self, batch: tuple) -> tuple:
        batch_with_masks = []
        for source, source_batch in zip(self.data_stream.sources, batch):
            if source not in self.mask_sources:
                batch_with_masks.append(source_batch)
                continue
            shapes = [numpy.shape(sample) for sample in source_batch]
            lengths = [shape[0] for shape in shapes]
            max_sequence_length = max(lengths)
            rest_shape = shapes[0][1:]
            if not all(shape[1:] == rest_shape for shape in shapes):
                raise ValueError(
                    "All dimensions except length must be equal; source "
                    f"{source!r} has examples of shapes {sorted(set(shapes))}")
            dtype = numpy.asarray(source_batch[0]).dtype
            padded_batch = numpy.zeros(
                (len(source_batch), max_sequence_length) + rest_shape,
                dtype=dtype)
            mask = numpy.zeros((len(source_batch), max_sequence_length),
                               self.mask_dtype)
            for i, sample in enumerate(source_batch):
                padded_batch[i, :len(sample)] = sample
                mask[i, :lengths[i]] = 1
            batch_with_masks.append(padded_batch)
            batch_with_masks.append(mask)
        return tuple(batch_with_masks)
