"""The epoch iterator of data streams (Fuel's ``fuel.iterator``)."""
from typing import Any


class DataIterator:
    """Iterate over one epoch of a data stream.

    Each step asks the stream for data, with the next request of
    ``request_iterator`` if there is one; ``StopIteration`` from either ends
    the epoch.

    A stream may name, in ``_epoch_state_attributes``, attributes that hold
    the position of an epoch (a transformer's ``child_epoch_iterator``, a
    data stream's ``data_state``, ...). The iterator keeps its own copy of
    them and installs it on the stream around each ``get_data`` call, so
    that several live epoch iterators of one stream (training and monitoring
    at once) do not disturb each other, and so that pickling the iterator
    pickles its position.

    Parameters
    ----------
    data_stream
        The stream to read.
    request_iterator
        The requests of the epoch, or ``None`` for streams that take none.
    as_dict
        Yield dicts keyed by source name rather than tuples.

    """

    def __init__(self, data_stream: Any, request_iterator: Any = None,
                 as_dict: bool = False) -> None:
        self.data_stream = data_stream
        self.request_iterator = request_iterator
        self.as_dict = as_dict
        names = getattr(data_stream, '_epoch_state_attributes', ())
        self._state_names = tuple(name for name in names
                                  if hasattr(data_stream, name))
        self._state = [getattr(data_stream, name)
                       for name in self._state_names]

    def __iter__(self) -> 'DataIterator':
        return self

    def __next__(self) -> tuple | dict:
        stream = self.data_stream
        names = self._state_names
        for name, value in zip(names, self._state):
            setattr(stream, name, value)
        try:
            if self.request_iterator is None:
                data = stream.get_data()
            else:
                data = stream.get_data(next(self.request_iterator))
        finally:
            if names:
                self._state = [getattr(stream, name) for name in names]
        if self.as_dict:
            return dict(zip(stream.sources, data))
        return data
