"""Data streams: iterate over a dataset's data, epoch by epoch."""
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

import zmq

from blocks.data.iterator import DataIterator
from blocks.data.wire import recv_arrays

NO_PRODUCES_EXAMPLES = (
    "cannot infer type of stream: it has no iteration scheme and "
    "produces_examples was not set; give the stream an iteration scheme or "
    "set produces_examples to True (examples) or False (batches)")


class AbstractDataStream(ABC):
    """A stream of data, read one epoch at a time.

    Parameters
    ----------
    iteration_scheme
        The scheme whose requests the stream answers, or ``None``.
    axis_labels
        Source name -> tuple of axis names (or ``None``).

    """

    # Attributes holding the position within an epoch; each epoch iterator
    # keeps its own values (see DataIterator).
    _epoch_state_attributes: tuple[str, ...] = ()
    # True when every array of the item the last get_data call returned is
    # new and referenced by nothing else (fancy indexing copies, for one):
    # the consumer may then change it in place rather than copy it. Streams
    # that know it set it on each call; the default is the safe answer.
    _fresh_output = False
    _sources = None

    def __init__(self, iteration_scheme: Any = None,
                 axis_labels: dict[str, tuple | None] | None = None) -> None:
        self.iteration_scheme = iteration_scheme
        self.axis_labels = axis_labels

    @property
    def produces_examples(self) -> bool:
        """Whether the stream gives single examples (else batches)."""
        if self.iteration_scheme:
            return self.iteration_scheme.requests_examples
        if not hasattr(self, '_produces_examples'):
            raise ValueError(NO_PRODUCES_EXAMPLES)
        return self._produces_examples

    @produces_examples.setter
    def produces_examples(self, value: bool) -> None:
        if self.iteration_scheme:
            raise ValueError(
                "cannot set produces_examples on a stream with an iteration "
                "scheme: the scheme's requests_examples decides it")
        self._produces_examples = value

    def get_data(self, request: Any = None) -> tuple:
        """Return the data answering ``request``."""
        raise NotImplementedError

    def reset(self) -> None:
        """Bring the stream back to its initial state."""

    def close(self) -> None:
        """Release what the stream holds (files, sockets)."""

    def next_epoch(self) -> None:
        """Prepare the stream for a new epoch."""

    @abstractmethod
    def get_epoch_iterator(self, as_dict: bool = False) -> Iterator:
        """An iterator over one epoch of data.

        Parameters
        ----------
        as_dict
            Yield dicts keyed by source name rather than tuples.

        """
        request_iterator = (self.iteration_scheme.get_request_iterator()
                            if self.iteration_scheme else None)
        return DataIterator(self, request_iterator, as_dict=as_dict)

    def iterate_epochs(self, as_dict: bool = False) -> Iterator[Iterator]:
        """Yield epoch iterators, endlessly."""
        while True:
            yield self.get_epoch_iterator(as_dict=as_dict)


class DataStream(AbstractDataStream):
    """A stream of the data of a dataset.

    Parameters
    ----------
    dataset
        The dataset to read; it is opened at construction.
    iteration_scheme
        Requests to make to the dataset; without one the stream gives
        examples (datasets such as
        :class:`~blocks.data.datasets.IterableDataset` take no requests).
    axis_labels
        Defaults to a copy of the dataset's, without the ``'batch'`` axis
        when the stream gives examples.

    Examples
    --------
    >>> import numpy
    >>> from blocks.data.datasets import IndexableDataset
    >>> from blocks.data.schemes import SequentialScheme
    >>> dataset = IndexableDataset({'x': numpy.arange(5)})
    >>> stream = DataStream(dataset, iteration_scheme=SequentialScheme(5, 2))
    >>> [batch for batch, in stream.get_epoch_iterator()]
    [array([0, 1]), array([2, 3]), array([4])]

    """

    _epoch_state_attributes = ('data_state',)

    def __init__(self, dataset: Any, **kwargs: Any) -> None:
        if dataset.axis_labels:
            kwargs.setdefault('axis_labels', dataset.axis_labels.copy())
        super().__init__(**kwargs)
        check_scheme = getattr(dataset, '_check_iteration_scheme', None)
        if check_scheme is not None:
            check_scheme(self.iteration_scheme)
        self.dataset = dataset
        self.data_state = self.dataset.open()
        self._fresh_state = True
        if not self.iteration_scheme:
            self.produces_examples = True
        if self.axis_labels and self.produces_examples:
            self.axis_labels = {
                source: (tuple(label for label in labels if label != 'batch')
                         if labels is not None else None)
                for source, labels in self.axis_labels.items()}

    @property
    def sources(self) -> tuple[str, ...]:
        """The sources of the data, in order (default: the dataset's)."""
        if self._sources is None:
            return self.dataset.sources
        return self._sources

    @sources.setter
    def sources(self, value: tuple[str, ...]) -> None:
        self._sources = value

    def close(self) -> None:
        self.data_state = self.dataset.close(self.data_state)

    def reset(self) -> None:
        self.data_state = self.dataset.reset(self.data_state)
        self._fresh_state = True

    def next_epoch(self) -> None:
        self.data_state = self.dataset.next_epoch(self.data_state)

    def get_data(self, request: Any = None) -> tuple:
        dataset = self.dataset
        data = dataset.get_data(self.data_state, request)
        returns_new_arrays = getattr(dataset, '_returns_new_arrays', None)
        self._fresh_output = (returns_new_arrays is not None
                              and returns_new_arrays(request))
        return data

    def get_epoch_iterator(self, **kwargs: Any) -> Iterator:
        if not self._fresh_state:
            self.next_epoch()
        else:
            self._fresh_state = False
        return super().get_epoch_iterator(**kwargs)

    @classmethod
    def default_stream(cls, dataset: Any, **kwargs: Any) -> Any:
        """A stream of ``dataset`` passed through its default transformers."""
        data_stream = cls(dataset, **kwargs)
        return dataset.apply_default_transformers(data_stream)


def iterate_epochs_from(data_stream: AbstractDataStream, epochs_done: int = 0,
                        batches_done: int = 0) -> Iterator[Iterator]:
    """Yield epoch iterators of a stream, resumed at a position.

    The first ``epochs_done`` epochs, then ``batches_done`` items of the
    next one, are read and dropped, so that a re-created stream continues
    exactly where the original one was, random draws included. The first
    iterator yielded is the partial epoch; then whole epochs, endlessly.

    Examples
    --------
    >>> from blocks.data.datasets import IterableDataset
    >>> stream = IterableDataset([1, 2, 3]).get_example_stream()
    >>> epochs = iterate_epochs_from(stream, epochs_done=1, batches_done=2)
    >>> list(next(epochs)), list(next(epochs))
    ([(3,)], [(1,), (2,), (3,)])

    """
    for _ in range(epochs_done):
        for _ in data_stream.get_epoch_iterator():
            pass
    iterator = data_stream.get_epoch_iterator()
    for skipped in range(batches_done):
        try:
            next(iterator)
        except StopIteration:
            raise ValueError(
                f"cannot resume after {batches_done} items of epoch "
                f"{epochs_done}: the epoch has only {skipped}; is the stream "
                "the one the position was taken from?") from None
    yield iterator
    while True:
        yield data_stream.get_epoch_iterator()


class ServerDataStream(AbstractDataStream):
    """A stream of the batches sent by :func:`.server.start_server`.

    The ZeroMQ PULL socket connects on the first read. The stream counts what
    it received, as ``position == (epochs_done, batches_done)``; the count is
    pickled (the socket is not), so that a resumed training run can restart
    the server at the same place with
    ``start_server(stream, resume_from=server_stream.position)``.

    Parameters
    ----------
    sources
        Names of the sources the server sends, in order.
    produces_examples
        Whether the server sends examples (else batches).
    host, port
        Where the server listens.
    hwm
        ZeroMQ high-water mark: how many messages may wait in the queue.
    axis_labels
        Axis labels of the sources.
    timeout
        Seconds to wait for a message before raising :class:`TimeoutError`;
        ``None`` waits forever.

    """

    def __init__(self, sources: tuple[str, ...], produces_examples: bool,
                 host: str = 'localhost', port: int = 5557, hwm: int = 10,
                 axis_labels: dict | None = None, *,
                 timeout: float | None = None) -> None:
        super().__init__(axis_labels=axis_labels)
        self.sources = sources
        self.produces_examples = produces_examples
        self.host = host
        self.port = port
        self.hwm = hwm
        self.timeout = timeout
        self.connected = False
        self.epochs_done = 0
        self.batches_done = 0

    @property
    def position(self) -> tuple[int, int]:
        """``(epochs_done, batches_done)``: what was received so far."""
        return (self.epochs_done, self.batches_done)

    def connect(self) -> None:
        """Open the PULL socket to ``tcp://host:port``."""
        context = zmq.Context.instance()
        self.socket = context.socket(zmq.PULL)
        self.socket.set_hwm(self.hwm)
        if self.timeout is not None:
            self.socket.setsockopt(zmq.RCVTIMEO, int(self.timeout * 1000))
        self.socket.connect(f"tcp://{self.host}:{self.port}")
        self.connected = True

    def get_data(self, request: Any = None) -> tuple:
        if request is not None:
            raise ValueError(
                "ServerDataStream takes no requests: the server decides "
                f"what to send, got {request!r}")
        if not self.connected:
            self.connect()
        try:
            data = tuple(recv_arrays(self.socket))
        except StopIteration:
            self.epochs_done += 1
            self.batches_done = 0
            raise
        except zmq.Again as exc:
            raise TimeoutError(
                f"no data from tcp://{self.host}:{self.port} within "
                f"{self.timeout} s; is a server running there (see "
                "blocks.data.server.start_server)?") from exc
        self.batches_done += 1
        return data

    def get_epoch_iterator(self, **kwargs: Any) -> Iterator:
        return super().get_epoch_iterator(**kwargs)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state['connected'] = False
        state.pop('socket', None)
        return state
