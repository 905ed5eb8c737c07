"""Serving a data stream over ZeroMQ (``fuel.server``).

The messages are those of :mod:`blocks.data.wire`, whose
:func:`~blocks.data.wire.send_arrays` and :func:`~blocks.data.wire.recv_arrays`
this module re-exports.
"""
import logging

import zmq

from blocks.data.streams import AbstractDataStream, iterate_epochs_from
from blocks.data.wire import recv_arrays, send_arrays

__all__ = ['recv_arrays', 'send_arrays', 'start_server']

logger = logging.getLogger(__name__)


def start_server(data_stream: AbstractDataStream, port: int = 5557,
                 hwm: int = 10, *,
                 host: str = '*',
                 resume_from: tuple[int, int] = (0, 0)) -> None:
    """Send the batches of ``data_stream`` to clients, epoch after epoch.

    Runs forever; start it in its own process. Clients read it with
    :class:`~blocks.data.streams.ServerDataStream`.

    Parameters
    ----------
    data_stream
        The stream to serve.
    port
        TCP port to bind.
    hwm
        ZeroMQ high-water mark: how many messages may wait to be sent.
    host
        Interface to bind: ``'*'`` (all, as upstream) or an address such as
        ``'127.0.0.1'`` to serve this machine only.
    resume_from
        ``(epochs, batches)`` to skip first: pass a resumed client's
        ``ServerDataStream.position`` so that it receives the batches that
        follow the ones it already used. The skipped data is read and
        dropped, so that random draws happen as in the original run.

    """
    logging.basicConfig(level='INFO')
    context = zmq.Context()
    socket = context.socket(zmq.PUSH)
    socket.set_hwm(hwm)
    socket.bind(f'tcp://{host}:{port}')
    logger.info('server started on port %d', port)
    for iterator in iterate_epochs_from(data_stream, *resume_from):
        for data in iterator:
            logger.debug("sending %d arrays", len(data))
            send_arrays(socket, data)
        logger.debug("sending StopIteration")
        send_arrays(socket, None, stop=True)
