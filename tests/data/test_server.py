"""Tests of blocks.data.server and ServerDataStream, over loopback."""
import multiprocessing
import pickle
import socket
from contextlib import contextmanager

import numpy
import pytest
import zmq

from blocks.data.datasets import IndexableDataset
from blocks.data.schemes import SequentialScheme, ShuffledScheme
from blocks.data.server import recv_arrays, send_arrays, start_server
from blocks.data.streams import DataStream, ServerDataStream

TIMEOUT = 20


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def make_stream(shuffle=False):
    features = numpy.arange(1500 * 4, dtype='float32').reshape(1500, 4)
    targets = numpy.arange(1500, dtype='uint8').reshape(1500, 1)
    dataset = IndexableDataset({'f': features, 't': targets})
    scheme = (ShuffledScheme(1500, 500, rng=numpy.random.RandomState(4))
              if shuffle else SequentialScheme(1500, 500))
    return DataStream(dataset, iteration_scheme=scheme)


@contextmanager
def server(port, shuffle=False, resume_from=(0, 0)):
    process = multiprocessing.Process(
        target=start_server, args=(make_stream(shuffle), port),
        kwargs={'host': '127.0.0.1', 'resume_from': resume_from},
        daemon=True)
    process.start()
    try:
        yield process
    finally:
        process.terminate()
        process.join(TIMEOUT)


def as_lists(batches):
    return [[array.tolist() for array in batch] for batch in batches]


def test_send_and_receive_arrays_over_a_socket_pair():
    context = zmq.Context.instance()
    push, pull = context.socket(zmq.PUSH), context.socket(zmq.PULL)
    try:
        port = push.bind_to_random_port('tcp://127.0.0.1')
        pull.connect(f'tcp://127.0.0.1:{port}')
        pull.setsockopt(zmq.RCVTIMEO, TIMEOUT * 1000)
        arrays = [numpy.arange(6.).reshape(2, 3),
                  numpy.asfortranarray(numpy.arange(6).reshape(2, 3)),
                  numpy.arange(10)[::2]]
        send_arrays(push, arrays)
        received = recv_arrays(pull)
        assert [a.tolist() for a in received] == [a.tolist() for a in arrays]
        assert all(not a.flags.writeable for a in received)
        send_arrays(push, None, stop=True)
        with pytest.raises(StopIteration):
            recv_arrays(pull)
    finally:
        push.close(linger=0)
        pull.close(linger=0)


def test_server_data_stream_reads_epochs_and_survives_pickling():
    port = free_port()
    expected = as_lists(make_stream().get_epoch_iterator())
    with server(port):
        # Unpickled before it connects: the socket is opened lazily.
        stream = pickle.loads(pickle.dumps(ServerDataStream(
            ('f', 't'), False, port=port, timeout=TIMEOUT)))
        assert not stream.produces_examples
        assert as_lists(stream.get_epoch_iterator()) == expected
        assert stream.position == (1, 0)
        clone = pickle.loads(pickle.dumps(stream))
        assert not clone.connected and clone.position == (1, 0)
        batch = next(stream.get_epoch_iterator(as_dict=True))
        assert set(batch) == {'f', 't'}
        assert stream.position == (1, 1)


def test_server_data_stream_takes_no_request():
    with pytest.raises(ValueError, match='takes no requests'):
        ServerDataStream(('f',), False).get_data(3)


def test_server_data_stream_times_out_without_server():
    stream = ServerDataStream(('f',), False, port=free_port(), timeout=0.2)
    with pytest.raises(TimeoutError, match='is a server running there'):
        stream.get_data()


def test_resuming_mid_epoch_restarts_the_server_at_the_position():
    reference = make_stream(shuffle=True)
    epochs = [as_lists(reference.get_epoch_iterator()) for _ in range(3)]
    port = free_port()
    with server(port, shuffle=True):
        stream = ServerDataStream(('f', 't'), False, port=port,
                                  timeout=TIMEOUT)
        assert as_lists(stream.get_epoch_iterator()) == epochs[0]
        iterator = stream.get_epoch_iterator()
        assert as_lists([next(iterator)]) == epochs[1][:1]
        checkpoint = pickle.dumps((stream, iterator))
        # The training process ends (its socket with it), as does the server.
        stream.socket.close(linger=0)
    stream_copy, iterator_copy = pickle.loads(checkpoint)
    assert stream_copy.position == (1, 1)
    with server(port, shuffle=True, resume_from=stream_copy.position):
        assert as_lists(iterator_copy) == epochs[1][1:]
        assert as_lists(stream_copy.get_epoch_iterator()) == epochs[2]
