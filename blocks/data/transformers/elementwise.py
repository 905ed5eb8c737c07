"""Transformers changing the values of a source: scale, cast, reshape."""
from typing import Any

import numpy

from blocks.data import config
from blocks.data.transformers.base import (AgnosticSourcewiseTransformer,
                                           SourcewiseTransformer,
                                           copy_axis_labels)


class Flatten(SourcewiseTransformer):
    """Flatten each example of the selected sources to one axis.

    Axis labels of flattened sources become ``('feature',)`` (examples) or
    ``(<batch label>, 'feature')`` (batches).

    """

    def __init__(self, data_stream: Any, **kwargs: Any) -> None:
        if data_stream.axis_labels:
            which_sources = kwargs.get('which_sources', data_stream.sources)
            kwargs.setdefault('axis_labels', self._infer_axis_labels(
                data_stream, which_sources))
        super().__init__(data_stream, data_stream.produces_examples, **kwargs)

    @staticmethod
    def _infer_axis_labels(data_stream: Any, which_sources: Any
                           ) -> dict[str, tuple | None]:
        axis_labels = {}
        for source, labels in data_stream.axis_labels.items():
            if source not in which_sources:
                axis_labels[source] = labels
            elif not labels:
                axis_labels[source] = None
            elif data_stream.produces_examples:
                axis_labels[source] = ('feature',)
            else:
                axis_labels[source] = (labels[0], 'feature')
        return axis_labels

    def transform_source_example(self, source_example: Any, _: str
                                 ) -> numpy.ndarray:
        return numpy.asarray(source_example).flatten()

    def transform_source_batch(self, source_batch: Any, _: str
                               ) -> numpy.ndarray:
        return numpy.asarray(source_batch).reshape((len(source_batch), -1))


class ScaleAndShift(AgnosticSourcewiseTransformer):
    """Compute ``data * scale + shift`` for the selected sources.

    The result has the dtype and values of ``asarray(data) * scale +
    shift``. With scalar ``scale`` and ``shift``, the arithmetic is done in
    place when the wrapped stream hands over new arrays of that dtype (a
    shuffled batch of an in-memory dataset, for one), else with a single
    new array.

    Examples
    --------
    >>> import numpy
    >>> from blocks.data.datasets import IndexableDataset
    >>> stream = IndexableDataset(numpy.arange(3.)).get_example_stream()
    >>> [x for x, in ScaleAndShift(stream, 2, 1).get_epoch_iterator()]
    [np.float64(1.0), np.float64(3.0), np.float64(5.0)]

    """

    def __init__(self, data_stream: Any, scale: Any, shift: Any,
                 **kwargs: Any) -> None:
        self._scale, self._shift = scale, shift
        self._forget_dtypes()
        copy_axis_labels(data_stream, kwargs)
        super().__init__(data_stream, data_stream.produces_examples, **kwargs)
        self._input_fresh = False

    @property
    def scale(self) -> Any:
        """The factor."""
        return self._scale

    @scale.setter
    def scale(self, value: Any) -> None:
        self._scale = value
        self._forget_dtypes()

    @property
    def shift(self) -> Any:
        """The term added after scaling."""
        return self._shift

    @shift.setter
    def shift(self, value: Any) -> None:
        self._shift = value
        self._forget_dtypes()

    def _forget_dtypes(self) -> None:
        # What the fast path knows about scale and shift, found once.
        self._scalar_arithmetic = (numpy.ndim(self._scale)
                                   == numpy.ndim(self._shift) == 0)
        self._result_dtypes = {}

    def transform_any(self, data: tuple) -> tuple:
        self._input_fresh = self.data_stream._fresh_output
        transformed = super().transform_any(data)
        # Transformed arrays are new; the others are as fresh as they came.
        self._fresh_output = self._input_fresh or (
            len(self._positions) == len(data))
        return transformed

    def _result_dtype(self, dtype: numpy.dtype) -> numpy.dtype | None:
        """dtype of ``array * scale + shift`` if the product has it too."""
        if dtype not in self._result_dtypes:
            example = numpy.zeros(1, dtype)
            scaled = example * self._scale
            result = scaled + self._shift
            self._result_dtypes[dtype] = (
                result.dtype if result.dtype == scaled.dtype else None)
        return self._result_dtypes[dtype]

    def transform_any_source(self, source_data: Any, _: str) -> Any:
        if (self._scalar_arithmetic and type(source_data) is numpy.ndarray
                and source_data.ndim):
            result_dtype = self._result_dtypes.get(source_data.dtype, False)
            if result_dtype is False:
                result_dtype = self._result_dtype(source_data.dtype)
            if result_dtype is not None:
                if (self._input_fresh and result_dtype == source_data.dtype
                        and source_data.flags.writeable):
                    out = source_data
                    out *= self._scale
                else:
                    out = source_data * self._scale
                out += self._shift
                return out
        return numpy.asarray(source_data) * self._scale + self._shift


class Cast(AgnosticSourcewiseTransformer):
    """Convert the selected sources to ``dtype``.

    Parameters
    ----------
    data_stream
        The wrapped stream.
    dtype
        The target dtype; ``'floatX'`` means ``config.floatX``, read here.

    """

    def __init__(self, data_stream: Any, dtype: Any, **kwargs: Any) -> None:
        if dtype == 'floatX':
            dtype = config.floatX
        self.dtype = dtype
        copy_axis_labels(data_stream, kwargs)
        super().__init__(data_stream, data_stream.produces_examples, **kwargs)

    @property
    def dtype(self) -> Any:
        """The target dtype, as given."""
        return self._dtype_given

    @dtype.setter
    def dtype(self, value: Any) -> None:
        self._dtype_given = value
        self._dtype = numpy.dtype(value)

    def transform_any(self, data: tuple) -> tuple:
        transformed = super().transform_any(data)
        # Each array is either passed on or a new copy.
        self._fresh_output = self.data_stream._fresh_output
        return transformed

    def transform_any_source(self, source_data: Any, _: str) -> Any:
        return numpy.asarray(source_data, dtype=self._dtype)


class ForceFloatX(AgnosticSourcewiseTransformer):
    """Cast floating-point arrays of the selected sources to floatX.

    ``config.floatX`` is read at construction.

    """

    def __init__(self, data_stream: Any, **kwargs: Any) -> None:
        self.floatX = numpy.dtype(config.floatX)
        copy_axis_labels(data_stream, kwargs)
        super().__init__(data_stream, data_stream.produces_examples, **kwargs)

    def transform_any_source(self, source_data: Any, _: str) -> Any:
        if (isinstance(source_data, numpy.ndarray)
                and source_data.dtype.kind == 'f'
                and source_data.dtype != self.floatX):
            return source_data.astype(self.floatX)
        return source_data
