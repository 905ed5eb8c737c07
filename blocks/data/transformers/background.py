"""Reading a stream ahead in a background process."""
from multiprocessing import Process, Queue
from typing import Any

from blocks.data.iterator import DataIterator
from blocks.data.streams import iterate_epochs_from
from blocks.data.transformers.base import Transformer, copy_axis_labels


class BackgroundProcess:
    """Read a stream, epoch after epoch, into a queue.

    Parameters
    ----------
    data_stream
        The stream to read.
    max_batches
        Capacity of the queue.
    position
        ``(epochs, batches)`` to skip first, for a resumed stream.

    """

    def __init__(self, data_stream: Any, max_batches: int,
                 position: tuple[int, int] = (0, 0)) -> None:
        self.data_stream = data_stream
        self.batches = Queue(max_batches)
        self.position = position

    def main(self) -> None:
        """Queue every item of every epoch, each epoch followed by the
        :class:`StopIteration` class as an end marker; runs forever."""
        for iterator in iterate_epochs_from(self.data_stream, *self.position):
            for batch in iterator:
                self.batches.put(batch)
            self.batches.put(StopIteration)

    def get_next_data(self) -> Any:
        """The next item of the queue (blocks until there is one)."""
        return self.batches.get()


class MultiProcessing(Transformer):
    """Read the wrapped stream in a background process, ahead of use.

    The process starts at construction and queues up to ``max_store``
    items. The transformer counts the items it hands out; pickling keeps
    the wrapped stream and that count, and an unpickled copy starts a new
    process that skips to the same place. One epoch iterator at a time: all
    iterators read the same queue.

    Parameters
    ----------
    data_stream
        The wrapped stream; it must pickle if the start method of
        :mod:`multiprocessing` is not ``fork``.
    max_store
        Capacity of the queue.

    """

    _epoch_state_attributes = ()

    def __init__(self, data_stream: Any, max_store: int = 100,
                 **kwargs: Any) -> None:
        copy_axis_labels(data_stream, kwargs)
        super().__init__(data_stream, data_stream.produces_examples, **kwargs)
        self.max_store = max_store
        self.epochs_done = 0
        self.batches_done = 0
        self._start()

    def _start(self) -> None:
        self.background = BackgroundProcess(
            self.data_stream, self.max_store,
            (self.epochs_done, self.batches_done))
        self.proc = Process(target=self.background.main)
        self.proc.daemon = True
        self.proc.start()

    def get_epoch_iterator(self, as_dict: bool = False, **kwargs: Any
                           ) -> DataIterator:
        # The wrapped stream is read by the background process only.
        return DataIterator(self, None, as_dict=as_dict)

    def get_data(self, request: Any = None) -> tuple:
        if request is not None:
            raise ValueError(
                f"MultiProcessing takes no request, got {request!r}")
        if self.background is None:
            self._start()
        data = self.background.get_next_data()
        if data is StopIteration:
            self.epochs_done += 1
            self.batches_done = 0
            raise StopIteration
        self.batches_done += 1
        return data

    def terminate(self) -> None:
        """Stop the background process."""
        if self.background is not None:
            self.proc.terminate()
            self.proc.join()
            self.background = self.proc = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state['background'] = state['proc'] = None
        return state
