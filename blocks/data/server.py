"""Serving a data stream over ZeroMQ (``fuel.server``).

Wire format: a multipart message whose first frame is a JSON list of
``.npy`` header dicts (``descr``, ``fortran_order``, ``shape``), followed by
one raw frame per array; the end of an epoch is the JSON ``{"stop": true}``.
Nothing is unpickled on reception.
"""
import logging
from typing import Any

import numpy
import zmq
from numpy.lib.format import header_data_from_array_1_0

from blocks.data.streams import iterate_epochs_from

logger = logging.getLogger(__name__)


def send_arrays(socket: zmq.Socket, arrays: Any, stop: bool = False) -> None:
    """Send arrays (made C-contiguous) as one multipart message.

    Parameters
    ----------
    socket
        A ZeroMQ socket.
    arrays
        The arrays; ignored when ``stop``.
    stop
        Send the end-of-epoch message instead.

    """
    if stop:
        socket.send_json({'stop': True})
        return
    arrays = [numpy.ascontiguousarray(array) for array in arrays]
    headers = [header_data_from_array_1_0(array) for array in arrays]
    socket.send_json(headers, zmq.SNDMORE)
    for array in arrays[:-1]:
        socket.send(array, zmq.SNDMORE)
    socket.send(arrays[-1])


def recv_arrays(socket: zmq.Socket) -> list[numpy.ndarray]:
    """Receive a message of :func:`send_arrays`.

    Returns
    -------
    list of numpy.ndarray
        Read-only arrays over the received buffers.

    Raises
    ------
    StopIteration
        On the end-of-epoch message.

    """
    headers = socket.recv_json()
    if 'stop' in headers:
        raise StopIteration
    arrays = []
    for header in headers:
        data = socket.recv(copy=False)
        array = numpy.frombuffer(memoryview(data),
                                 dtype=numpy.dtype(header['descr']))
        shape = tuple(header['shape'])
        if header['fortran_order']:
            array = array.reshape(shape[::-1]).transpose()
        else:
            array = array.reshape(shape)
        # The array lives in ZeroMQ's message buffer: keep it read-only.
        array.flags.writeable = False
        arrays.append(array)
    return arrays


def start_server(data_stream: Any, port: int = 5557, hwm: int = 10, *,
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
