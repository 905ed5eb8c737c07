"""The wire format of the data server (``fuel.server``'s arrays).

A multipart message whose first frame is a JSON list of ``.npy`` header
dicts (``descr``, ``fortran_order``, ``shape``), followed by one raw frame
per array; the end of an epoch is the JSON ``{"stop": true}``. Nothing is
unpickled on reception.

:mod:`blocks.data.server` (which sends) and
:class:`~blocks.data.streams.ServerDataStream` (which receives) both use it,
so that neither module imports the other's.
"""
from typing import Any

import numpy
import zmq
from numpy.lib.format import header_data_from_array_1_0


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
