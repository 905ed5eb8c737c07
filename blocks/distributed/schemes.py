"""Split every batch of an iteration scheme among the ranks.

Every rank iterates the same global scheme (same shuffling seed) and keeps
its slice of each request, so the union of the shards of an epoch is the
single-process epoch, and a 1-rank run with batch ``B`` is a 2-rank run
with each rank seeing ``B / 2`` examples per batch. The rank is read when
a request is made, not stored: the position in an epoch pickled by rank 0
resumes on any rank.
"""
import zlib
from collections.abc import Iterator

import numpy

from blocks.data._picklable import IndexList
from blocks.data.schemes import IterationScheme
from blocks.distributed.communicator import world

__all__ = ['ShardedScheme', 'shard_bounds']

NOT_A_BATCH_SCHEME = (
    "ShardedScheme splits batches of example indices among the ranks, but "
    "{scheme!r} requests {what}. Wrap a batch scheme such as "
    "ShuffledScheme(num_examples, batch_size) or SequentialScheme(...).")

DIFFERENT_ORDER = (
    "the ranks iterate over different examples: the first batch of this "
    "epoch differs between ranks (checksums {checksums}). Every rank must "
    "iterate the same global scheme: give the shuffled scheme the same "
    "seed on every rank (e.g. rng=numpy.random.RandomState(1), or the "
    "default, config.default_seed).")


def shard_bounds(length: int, rank: int, size: int) -> tuple[int, int]:
    """The slice ``[start, stop)`` of a request of `length` for a rank.

    Contiguous slices whose lengths differ by one at most.

    >>> [shard_bounds(5, rank, 2) for rank in range(2)]
    [(0, 2), (2, 5)]

    """
    return (rank * length // size, (rank + 1) * length // size)


class ShardedScheme(IterationScheme):
    """The shard of this rank of every request of a batch scheme.

    Parameters
    ----------
    scheme : :class:`~blocks.data.schemes.IterationScheme`
        A scheme whose requests are lists of example indices; its batch
        size is the *global* batch size, shared by all the ranks.
    comm : communicator, optional
        Defaults to :func:`~blocks.distributed.world`, looked up when each
        epoch starts (so not pickled).
    check_order : bool
        Check, at the first batch of every epoch, that all ranks draw the
        same global batch (one small ``allgather``); on by default.

    Notes
    -----
    With fewer examples in a global batch than ranks, some ranks get an
    empty batch; :class:`~blocks.distributed.DistributedGradientDescent`
    then contributes no gradient from them.

    Examples
    --------
    >>> from blocks.data.schemes import SequentialScheme
    >>> from blocks.distributed.communicator import SingleProcess
    >>> scheme = ShardedScheme(SequentialScheme(5, 4), comm=SingleProcess())
    >>> list(scheme.get_request_iterator())
    [[0, 1, 2, 3], [4]]

    """

    requests_examples = False

    def __init__(self, scheme: IterationScheme, comm=None,
                 check_order: bool = True) -> None:
        if getattr(scheme, 'requests_examples', True):
            raise ValueError(NOT_A_BATCH_SCHEME.format(
                scheme=scheme, what='single examples'))
        if not hasattr(scheme, 'indices'):
            raise ValueError(NOT_A_BATCH_SCHEME.format(
                scheme=scheme, what='batch sizes, not example indices'))
        self.scheme = scheme
        self.comm = comm
        self.check_order = check_order

    def __getstate__(self):
        state = dict(self.__dict__)
        state['comm'] = None
        return state

    @property
    def num_batches(self) -> int:
        """Number of (global) requests per epoch."""
        return self.scheme.num_batches

    def get_request_iterator(self) -> 'ShardIterator':
        return ShardIterator(self.scheme.get_request_iterator(),
                             check_order=self.check_order, comm=self.comm)


class ShardIterator(Iterator):
    """The requests of one epoch, each cut down to this rank's shard.

    Holds the global iterator: its pickled state is the same on every rank.
    """

    def __init__(self, requests: Iterator, check_order: bool = True,
                 comm=None) -> None:
        self.requests = requests
        self.check_order = check_order
        self.comm = comm
        self._first = True

    def __getstate__(self):
        state = dict(self.__dict__)
        state['comm'] = None
        return state

    def __next__(self) -> list:
        request = next(self.requests)
        comm = self.comm if self.comm is not None else world()
        if comm.size == 1:
            return request
        if self._first and self.check_order:
            self._check_same_request(comm, request)
        self._first = False
        start, stop = shard_bounds(len(request), comm.rank, comm.size)
        shard = request[start:stop]
        if isinstance(request, IndexList):
            # Keep the array and bounds that datasets index with directly.
            shard = IndexList(shard)
            shard.array = request.array[start:stop]
            shard.low, shard.high = request.low, request.high
        return shard

    @staticmethod
    def _check_same_request(comm, request) -> None:
        checksum = zlib.crc32(numpy.asarray(request, dtype=numpy.int64)
                              .tobytes())
        checksums = comm.allgather(checksum)
        if len(set(checksums)) != 1:
            raise RuntimeError(DIFFERENT_ORDER.format(checksums=checksums))
