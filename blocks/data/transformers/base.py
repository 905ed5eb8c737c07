"""Base classes of transformers: streams that change another stream's data."""
import logging
from abc import ABCMeta, abstractmethod
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from blocks.data.exceptions import AxisLabelsMismatchError
from blocks.data.streams import AbstractDataStream

log = logging.getLogger(__name__)

_KINDS = {True: 'examples', False: 'batches'}


def check_sources_exist(names: Any, data_stream: Any, what: str) -> None:
    """Raise :class:`ValueError` naming any of ``names`` missing from the
    stream's sources."""
    missing = [name for name in names if name not in data_stream.sources]
    if missing:
        raise ValueError(
            f"{what} names sources {missing!r} that the wrapped stream does "
            f"not have; its sources are {tuple(data_stream.sources)!r}")


def copy_axis_labels(data_stream: Any, kwargs: dict[str, Any]) -> None:
    """Default ``kwargs['axis_labels']`` to a copy of the stream's labels,
    for transformers that keep every axis as it is."""
    if data_stream.axis_labels:
        kwargs.setdefault('axis_labels', data_stream.axis_labels.copy())


class ExpectsAxisLabels:
    """Mixin for transformers that check the axis labels of their input."""

    def verify_axis_labels(self, expected: tuple, actual: tuple | None,
                           source_name: str) -> None:
        """Check a source's labels once: warn if ``None``, raise on mismatch.

        Raises
        ------
        AxisLabelsMismatchError
            When ``actual`` is not ``expected``.

        """
        if not getattr(self, '_checked_axis_labels', False):
            self._checked_axis_labels = defaultdict(bool)
        if not self._checked_axis_labels[source_name]:
            if actual is None:
                log.warning("%s instance could not verify (missing) axis "
                            "expected %s, got None",
                            type(self).__name__, expected)
            elif expected != actual:
                raise AxisLabelsMismatchError(
                    f"{type(self).__name__} expected axis labels "
                    f"{expected} for source {source_name!r}, got {actual} "
                    "instead")
            self._checked_axis_labels[source_name] = True


class Transformer(AbstractDataStream, metaclass=ABCMeta):
    """A stream that transforms the data of another stream.

    Subclasses implement :meth:`transform_example` and/or
    :meth:`transform_batch`, or override :meth:`get_data`, which reads the
    wrapped stream through ``self.child_epoch_iterator``.

    Parameters
    ----------
    data_stream
        The wrapped stream.
    produces_examples
        Whether this stream gives examples (else batches); needed unless an
        ``iteration_scheme`` decides it.
    iteration_scheme, axis_labels
        As for :class:`~blocks.data.streams.AbstractDataStream`; axis labels
        are not inherited from the wrapped stream.

    """

    _epoch_state_attributes = ('child_epoch_iterator',)

    def __init__(self, data_stream: Any, produces_examples: bool | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if produces_examples is not None:
            self.produces_examples = produces_examples
        self.data_stream = data_stream

    @property
    def sources(self) -> tuple[str, ...]:
        """The sources of the data (default: the wrapped stream's)."""
        if self._sources is None:
            return self.data_stream.sources
        return self._sources

    @sources.setter
    def sources(self, value: tuple[str, ...]) -> None:
        self._sources = value

    def close(self) -> None:
        self.data_stream.close()

    def reset(self) -> None:
        self.data_stream.reset()

    def next_epoch(self) -> None:
        self.data_stream.next_epoch()

    def get_epoch_iterator(self, **kwargs: Any) -> Iterator:
        """Open an epoch of the wrapped stream, then iterate over this one."""
        self.child_epoch_iterator = self.data_stream.get_epoch_iterator()
        return super().get_epoch_iterator(**kwargs)

    def get_data(self, request: Any = None) -> tuple:
        if request is not None:
            raise ValueError(
                f"{type(self).__name__} takes no request, got {request!r}")
        data = next(self.child_epoch_iterator)
        produces_examples = self.produces_examples
        if produces_examples != self.data_stream.produces_examples:
            raise NotImplementedError(
                "the wrapped data stream produces "
                f"{_KINDS[self.data_stream.produces_examples]} while the "
                f"{type(self).__name__} transformer produces "
                f"{_KINDS[produces_examples]}, which it does not support")
        if produces_examples:
            return self.transform_example(data)
        return self.transform_batch(data)

    def transform_example(self, example: tuple) -> tuple:
        """Transform one example (a tuple in the child's source order)."""
        raise NotImplementedError(
            f"{type(self).__name__} does not transform examples")

    def transform_batch(self, batch: tuple) -> tuple:
        """Transform one batch (a tuple in the child's source order)."""
        raise NotImplementedError(
            f"{type(self).__name__} does not transform batches")


class AgnosticTransformer(Transformer):
    """A transformer applying one method to examples and batches alike."""

    @abstractmethod
    def transform_any(self, data: tuple) -> tuple:
        """Transform an example or a batch."""

    def transform_example(self, example: tuple) -> tuple:
        return self.transform_any(example)

    def transform_batch(self, batch: tuple) -> tuple:
        return self.transform_any(batch)


class SourcewiseTransformer(Transformer):
    """A transformer changing each selected source on its own.

    Parameters
    ----------
    data_stream
        The wrapped stream.
    produces_examples
        Whether this stream gives examples (else batches).
    which_sources
        Sources to transform (default: all of the wrapped stream's); each
        must be a source of the wrapped stream.

    """

    def __init__(self, data_stream: Any, produces_examples: bool | None,
                 which_sources: tuple[str, ...] | None = None,
                 **kwargs: Any) -> None:
        if which_sources is None:
            which_sources = data_stream.sources
        else:
            check_sources_exist(which_sources, data_stream,
                                f"{type(self).__name__}'s which_sources")
        self.which_sources = which_sources
        super().__init__(data_stream, produces_examples, **kwargs)

    def _transformed_positions(self) -> list[tuple[int, str]]:
        """``(position, name)`` of the transformed sources in the data."""
        sources = self.data_stream.sources
        # Recomputed only when the child's sources or which_sources change.
        key = (sources, self.which_sources)
        if self.__dict__.get('_positions_key') != key:
            self._positions = [(i, name) for i, name in enumerate(sources)
                               if name in self.which_sources]
            self._positions_key = key
        return self._positions

    def _apply_sourcewise_transformation(self, data: tuple,
                                         method: Any) -> tuple:
        data = list(data)
        for i, source_name in self._transformed_positions():
            data[i] = method(data[i], source_name)
        return tuple(data)

    def transform_source_example(self, source_example: Any,
                                 source_name: str) -> Any:
        """Transform one source of an example."""
        raise NotImplementedError(
            f"{type(self).__name__} does not transform examples")

    def transform_source_batch(self, source_batch: Any,
                               source_name: str) -> Any:
        """Transform one source of a batch."""
        raise NotImplementedError(
            f"{type(self).__name__} does not transform batches")

    def transform_example(self, example: tuple) -> tuple:
        return self._apply_sourcewise_transformation(
            example, self.transform_source_example)

    def transform_batch(self, batch: tuple) -> tuple:
        return self._apply_sourcewise_transformation(
            batch, self.transform_source_batch)


class AgnosticSourcewiseTransformer(AgnosticTransformer, SourcewiseTransformer,
                                    metaclass=ABCMeta):
    """A sourcewise transformer applying one method to examples and
    batches alike."""

    def transform_any(self, data: tuple) -> tuple:
        return self._apply_sourcewise_transformation(
            data, self.transform_any_source)

    @abstractmethod
    def transform_any_source(self, source_data: Any, source_name: str) -> Any:
        """Transform one source of an example or a batch."""
