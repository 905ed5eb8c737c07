"""Datasets: stateless sources of data (Fuel's ``fuel.datasets.base``)."""
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sized
from typing import Any

import numpy

from blocks.data.schemes import BatchSizeScheme, SequentialExampleScheme
from blocks.data.streams import DataStream
from blocks.data.utils import Subset


def check_index_requests(dataset: 'Dataset', iteration_scheme: Any) -> None:
    """Reject schemes whose requests are batch sizes: ``dataset`` would
    read them as example indices."""
    if isinstance(iteration_scheme, BatchSizeScheme):
        raise ValueError(
            f"{type(iteration_scheme).__name__} requests batch sizes, but "
            f"{type(dataset).__name__} takes example indices (it would "
            "read a size as an index); use SequentialScheme or "
            "ShuffledScheme for batches")


class Dataset(ABC):
    """A dataset: data organised in named sources.

    A dataset keeps no iteration state: :meth:`open` returns a state that
    the stream owns and passes back to :meth:`get_data`, together with a
    request (an index, a list of indices, a slice or a batch size).

    Parameters
    ----------
    sources
        The sources to provide, a subset of ``provides_sources``; default all.
    axis_labels
        Source name -> tuple of axis names, or ``None``.

    Attributes
    ----------
    provides_sources : tuple of str
        Every source the dataset can give; subclasses set it before calling
        this constructor.
    default_transformers : tuple
        ``(transformer_class, args, kwargs)`` triples applied by
        :meth:`apply_default_transformers`.

    """

    provides_sources = None
    default_transformers = tuple()
    _sources = None

    def __init__(self, sources: tuple[str, ...] | None = None,
                 axis_labels: dict[str, tuple | None] | None = None) -> None:
        if not self.provides_sources:
            raise ValueError(
                "dataset does not have `provides_sources`: set it to the "
                "tuple of source names before calling Dataset.__init__")
        if sources is not None:
            unknown = [s for s in sources if s not in self.provides_sources]
            if not sources or unknown:
                raise ValueError(
                    f"unable to provide requested sources {tuple(sources)!r}"
                    f": this dataset provides {tuple(self.provides_sources)!r}"
                    "; request a non-empty subset of those")
            self.sources = sources
        self.axis_labels = axis_labels

    @property
    def sources(self) -> tuple[str, ...]:
        """The sources given by :meth:`get_data`, in order."""
        if self._sources is None:
            return self.provides_sources
        return self._sources

    @sources.setter
    def sources(self, sources: tuple[str, ...]) -> None:
        self._sources = sources

    def apply_default_transformers(self, stream: Any) -> Any:
        """Wrap ``stream`` in the dataset's default transformers, in order."""
        for cls, args, kwargs in self.default_transformers:
            stream = cls(stream, *args, **kwargs)
        return stream

    @property
    def example_iteration_scheme(self) -> Any:
        """The scheme of :meth:`get_example_stream`."""
        if not hasattr(self, '_example_iteration_scheme'):
            raise AttributeError(
                f"{type(self).__name__} does not provide an example "
                "iteration scheme: set example_iteration_scheme or build "
                "the DataStream with an explicit iteration_scheme")
        return self._example_iteration_scheme

    @example_iteration_scheme.setter
    def example_iteration_scheme(self, value: Any) -> None:
        self._example_iteration_scheme = value

    def get_example_stream(self) -> DataStream:
        """A stream of the dataset's examples, one at a time."""
        return DataStream(self, iteration_scheme=self.example_iteration_scheme)

    def open(self) -> Any:
        """Return a new state for reading the data (default ``None``)."""
        return None

    def reset(self, state: Any) -> Any:
        """Close ``state`` and return a fresh one."""
        self.close(state)
        return self.open()

    def next_epoch(self, state: Any) -> Any:
        """Return the state for a new epoch (default: :meth:`reset`)."""
        return self.reset(state)

    def close(self, state: Any) -> None:
        """Release what ``state`` holds."""

    @abstractmethod
    def get_data(self, state: Any = None, request: Any = None) -> tuple:
        """Return the data answering ``request``, in ``sources`` order."""
        raise NotImplementedError

    def _check_iteration_scheme(self, iteration_scheme: Any) -> None:
        """Raise :class:`ValueError` if the dataset cannot answer the
        scheme's requests (called by :class:`DataStream`)."""

    def _returns_new_arrays(self, request: Any) -> bool:
        """Whether the arrays :meth:`get_data` returns for ``request`` are
        new and referenced by nothing else, so that their consumer may
        change them in place (see ``AbstractDataStream._fresh_output``)."""
        return False

    def filter_sources(self, data: tuple) -> tuple:
        """Keep the items of ``data`` (in ``provides_sources`` order) whose
        source is requested."""
        return tuple(d for d, s in zip(data, self.provides_sources)
                     if s in self.sources)


class IterableDataset(Dataset):
    """A dataset over iterables, read in order once per epoch.

    Parameters
    ----------
    iterables
        A dict source name -> iterable (sources in dict order), or one
        iterable (source ``'data'``). Iterables with a length must all have
        the same one. Epochs pickle mid-way when the iterables' iterators do
        (lists, ranges, arrays).

    Examples
    --------
    >>> dataset = IterableDataset({'x': [1, 2, 3], 'y': 'abc'})
    >>> list(dataset.get_example_stream().get_epoch_iterator())
    [(1, 'a'), (2, 'b'), (3, 'c')]

    """

    example_iteration_scheme = None

    def __init__(self, iterables: dict[str, Iterable] | Iterable,
                 **kwargs: Any) -> None:
        if isinstance(iterables, dict):
            self.provides_sources = tuple(iterables.keys())
        else:
            self.provides_sources = ('data',)
        super().__init__(**kwargs)
        if isinstance(iterables, dict):
            bad = [s for s, it in iterables.items()
                   if not isinstance(it, Iterable)]
            if bad:
                raise ValueError(
                    f"sources {bad!r} are not iterable: IterableDataset "
                    "needs an iterable (list, array, ...) per source")
            self.iterables = [iterables[source] for source in self.sources]
        else:
            if not isinstance(iterables, Iterable):
                raise ValueError(
                    f"IterableDataset needs an iterable or a dict of them, "
                    f"got {type(iterables).__name__}")
            self.iterables = [iterables]
        lengths = {len(it) for it in self.iterables if isinstance(it, Sized)}
        if len(lengths) > 1:
            raise ValueError(
                f"iterables are of different length ({sorted(lengths)}); "
                "give every source the same number of examples")

    @property
    def num_examples(self) -> int | float:
        """The common length of the iterables, or ``nan`` when unknown."""
        try:
            num_examples, = set(len(iterable) for iterable in self.iterables)
            return num_examples
        except TypeError:
            return float('nan')

    def open(self) -> zip:
        return zip(*[iter(iterable) for iterable in self.iterables])

    def _check_iteration_scheme(self, iteration_scheme: Any) -> None:
        # A subclass that overrides get_data(state, request) answers the
        # scheme's requests itself (data-driven epochs): only this class's
        # get_data would ignore them.
        overridden = type(self).get_data is not IterableDataset.get_data
        if iteration_scheme is not None and not overridden:
            name = type(iteration_scheme).__name__
            raise ValueError(
                "IterableDataset reads examples in order and takes no "
                f"requests, but the stream has a {name}; drop the iteration "
                "scheme (wrap the stream in Batch to get batches)")

    def get_data(self, state: Any = None, request: Any = None) -> tuple:
        if state is None or request is not None:
            raise ValueError(
                "IterableDataset reads examples in order: it needs the "
                f"state from open() and no request (got request {request!r})"
                "; use a DataStream without iteration scheme")
        return next(state)


class IndexableDataset(Dataset):
    """A dataset over indexable data (arrays, lists), read by index.

    Parameters
    ----------
    indexables
        A dict source name -> indexable (sources in dict order), or one
        indexable (source ``'data'``). All sources must have the same
        length.
    start, stop
        Use only the examples ``[start, stop)``.

    Notes
    -----
    Source names are also attributes: ``dataset.features``.

    Examples
    --------
    >>> import numpy
    >>> dataset = IndexableDataset({'features': numpy.arange(6).reshape(3, 2),
    ...                             'targets': numpy.array([0, 1, 0])})
    >>> dataset.num_examples
    3
    >>> dataset.get_data(request=[2, 0])
    (array([[4, 5],
           [0, 1]]), array([0, 0]))

    """

    def __init__(self, indexables: dict[str, Any] | Any,
                 start: int | None = None, stop: int | None = None,
                 **kwargs: Any) -> None:
        if isinstance(indexables, dict):
            self.provides_sources = tuple(indexables.keys())
        else:
            self.provides_sources = ('data',)
        super().__init__(**kwargs)
        if isinstance(indexables, dict):
            indexables = [indexables[source] for source in self.sources]
        else:
            indexables = [indexables]
        if start is not None or stop is not None:
            indexables = [indexable[start:stop] for indexable in indexables]
        lengths = [len(indexable) for indexable in indexables]
        if len(set(lengths)) > 1:
            raise ValueError(
                "sources have different lengths "
                f"({dict(zip(self.sources, lengths))}); give every source "
                "one entry per example")
        self.indexables = indexables
        # Fancy indexing an array with a list always copies.
        self._fancy_copies = all(isinstance(indexable, numpy.ndarray)
                                 for indexable in indexables)
        self.start = start
        self.stop = stop
        self.subset = Subset(slice(None), self.num_examples)
        self.example_iteration_scheme = SequentialExampleScheme(
            self.num_examples)

    def __getattr__(self, attr: str) -> Any:
        # Unpickling looks attributes up before __dict__ is filled: only
        # consult the sources once the data is there.
        if not attr.startswith('_') and 'indexables' in self.__dict__:
            sources = self.sources
            if attr in sources:
                return self.indexables[sources.index(attr)]
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {attr!r}")

    @property
    def num_examples(self) -> int:
        """Number of examples."""
        return len(self.indexables[0])

    def get_data(self, state: Any = None, request: Any = None) -> tuple:
        if state is not None or request is None:
            raise ValueError(
                "IndexableDataset needs a request (index, list of indices "
                f"or slice) and no state, got state {state!r} and request "
                f"{request!r}; give the DataStream an iteration scheme")
        subset = self.subset
        return tuple([subset.index_within_subset(indexable, request)
                      for indexable in self.indexables])

    def _check_iteration_scheme(self, iteration_scheme: Any) -> None:
        check_index_requests(self, iteration_scheme)

    def _returns_new_arrays(self, request: Any) -> bool:
        return self._fancy_copies and isinstance(request, list)
