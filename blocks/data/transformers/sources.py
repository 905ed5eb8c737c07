"""Transformers combining, renaming and selecting sources."""
import logging
from collections.abc import Iterator
from typing import Any

from blocks.data.streams import AbstractDataStream
from blocks.data.transformers.base import AgnosticTransformer

log = logging.getLogger(__name__)


class Merge(AbstractDataStream):
    """Read several streams in step and concatenate their sources.

    Parameters
    ----------
    data_streams
        Streams that all give examples, or all give batches.
    sources
        Names of the merged sources, one per source of the streams, in
        order.
    axis_labels
        Axis labels of the merged sources.

    Examples
    --------
    >>> from blocks.data.datasets import IterableDataset
    >>> merged = Merge([IterableDataset([1, 2]).get_example_stream(),
    ...                 IterableDataset('ab').get_example_stream()],
    ...                ('number', 'letter'))
    >>> list(merged.get_epoch_iterator())
    [(1, 'a'), (2, 'b')]

    """

    _epoch_state_attributes = ('child_epoch_iterators',)

    def __init__(self, data_streams: list, sources: tuple[str, ...],
                 axis_labels: dict | None = None) -> None:
        super().__init__(iteration_scheme=None, axis_labels=axis_labels)
        kinds = set(stream.produces_examples for stream in data_streams)
        if len(kinds) > 1:
            raise ValueError(
                "all data streams must produce the same type of output "
                "(batches or examples); Batch or Unpack some of them first")
        self.data_streams = data_streams
        self.produces_examples = self.data_streams[0].produces_examples
        num_sources = sum(len(stream.sources) for stream in data_streams)
        if num_sources != len(sources):
            raise ValueError(
                f"wrong number of sources given: the streams have "
                f"{num_sources} sources in all, got {len(sources)} names")
        self.sources = sources

    def close(self) -> None:
        for data_stream in self.data_streams:
            data_stream.close()

    def reset(self) -> None:
        for data_stream in self.data_streams:
            data_stream.reset()

    def next_epoch(self) -> None:
        for data_stream in self.data_streams:
            data_stream.next_epoch()

    def get_epoch_iterator(self, **kwargs: Any) -> Iterator:
        self.child_epoch_iterators = [data_stream.get_epoch_iterator()
                                      for data_stream in self.data_streams]
        return super().get_epoch_iterator(**kwargs)

    def get_data(self, request: Any = None) -> tuple:
        if request is not None:
            raise ValueError(f"Merge takes no request, got {request!r}")
        result = []
        for child_epoch_iterator in self.child_epoch_iterators:
            result.extend(next(child_epoch_iterator))
        return tuple(result)


class Rename(AgnosticTransformer):
    """Rename sources.

    Parameters
    ----------
    data_stream
        The wrapped stream.
    names
        Old name -> new name.
    on_non_existent
        What to do with an old name the stream does not have: ``'raise'``
        (:class:`KeyError`), ``'warn'`` (log a warning) or ``'ignore'``.

    Examples
    --------
    >>> from blocks.data.datasets import IterableDataset
    >>> stream = IterableDataset({'x': [1]}).get_example_stream()
    >>> Rename(stream, {'x': 'features'}).sources
    ('features',)

    """

    def __init__(self, data_stream: Any, names: dict[str, str],
                 on_non_existent: str = 'raise', **kwargs: Any) -> None:
        if on_non_existent not in ('raise', 'ignore', 'warn'):
            raise ValueError(
                "on_non_existent must be one of 'raise', 'ignore', 'warn', "
                f"got {on_non_existent!r}")
        # Only the names of existing sources must be unique, so that one
        # Rename can map differently named sources of several datasets.
        usable_names = {old: new for old, new in names.items()
                        if old in data_stream.sources}
        if len(set(usable_names.values())) != len(usable_names):
            raise KeyError(
                "multiple old source names cannot map to the same new "
                f"source name: {usable_names}")
        sources = list(data_stream.sources)
        sources_lookup = {name: i for i, name in enumerate(sources)}
        for old, new in names.items():
            if (new in sources_lookup and new not in names
                    and old in usable_names):
                raise KeyError(
                    f"Renaming source '{old}' to '{new}' would create two "
                    f"sources named '{new}'; rename '{new}' too")
            if old not in sources_lookup:
                message = (f"Renaming source '{old}' to '{new}': stream does "
                           f"not provide a source '{old}' (its sources are "
                           f"{tuple(data_stream.sources)!r})")
                if on_non_existent == 'raise':
                    raise KeyError(message)
                level = {'warn': logging.WARNING,
                         'ignore': logging.DEBUG}[on_non_existent]
                log.log(level, message)
            else:
                sources[sources_lookup[old]] = new
        self.sources = tuple(sources)
        if data_stream.axis_labels:
            kwargs.setdefault('axis_labels', {
                names.get(source, source): labels
                for source, labels in data_stream.axis_labels.items()})
        super().__init__(data_stream, data_stream.produces_examples, **kwargs)

    def transform_any(self, data: tuple) -> tuple:
        return data


class FilterSources(AgnosticTransformer):
    """Keep only some sources, in the wrapped stream's order.

    Parameters
    ----------
    data_stream
        The wrapped stream.
    sources
        Names of the sources to keep; each must be a source of the stream.

    """

    def __init__(self, data_stream: Any, sources: tuple[str, ...],
                 **kwargs: Any) -> None:
        missing = [s for s in sources if s not in data_stream.sources]
        if missing:
            raise ValueError(
                f"sources must all be contained in data_stream.sources: "
                f"{missing!r} are not among {tuple(data_stream.sources)!r}")
        if data_stream.axis_labels:
            kwargs.setdefault('axis_labels', {
                source: labels
                for source, labels in data_stream.axis_labels.items()
                if source in sources})
        super().__init__(data_stream, data_stream.produces_examples, **kwargs)
        self.sources = tuple(s for s in data_stream.sources if s in sources)
        self._keep = [s in self.sources for s in data_stream.sources]

    def transform_any(self, data: tuple) -> list:
        return [d for d, keep in zip(data, self._keep) if keep]
