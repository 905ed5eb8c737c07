"""The main loop on several ranks: who writes, when to stop, failures.

:class:`DistributedMainLoop` is a :class:`~blocks.main_loop.MainLoop` that,
on more than one rank, before running:

- mutes, on ranks other than 0, the extensions that write (printing,
  progress bar, plots), and has rank 0 alone save the checkpoints;
- makes the monitoring extensions combine their values across the ranks;
- appends :class:`AgreeOnStop`, which makes every rank stop at the same
  iteration;

and, if training fails on a rank, logs which rank and why, and aborts the
whole job (``MPI_Abort``) so that no rank waits forever in a collective.
On one rank it is a :class:`~blocks.main_loop.MainLoop`.
"""
import logging
import signal
import sys
import traceback

import numpy

from blocks.distributed.algorithm import DistributedGradientDescent
from blocks.distributed.communicator import mpi, world
from blocks.distributed.monitoring import aggregate_across_ranks
from blocks.distributed.schemes import ShardedScheme
from blocks.extensions.base import TrainingExtension
from blocks.extensions.protocol import (BATCH_INTERRUPT_RECEIVED,
                                        EPOCH_INTERRUPT_RECEIVED,
                                        TRAINING_FINISH_REQUESTED)
from blocks.extensions.progress import iteration_scheme
from blocks.extensions.monitoring import (DataStreamMonitoring,
                                          TrainingDataMonitoring)
from blocks.extensions.saveload import Checkpoint
from blocks.main_loop import MainLoop

logger = logging.getLogger(__name__)

__all__ = ['DistributedMainLoop', 'AgreeOnStop', 'ROOT_ONLY']

#: Names of the extension classes (or their bases) run on rank 0 only
#: (names: the plotting extensions need optional packages). Checkpoints
#: are saved by rank 0 too, see :class:`SaveOnRank0`.
ROOT_ONLY = frozenset({'Printing', 'ProgressBar', 'Plot', 'TensorBoard'})

NOT_DISTRIBUTED_ALGORITHM = (
    "on {size} ranks the algorithm must average gradients across them, "
    "but it is a {type}: each rank would train its own model. Use "
    "blocks.distributed.DistributedGradientDescent (same arguments as "
    "GradientDescent).")

NOT_SHARDED = (
    "on {size} ranks each rank must read its own part of every batch, but "
    "the training stream's iteration scheme {scheme!r} is not sharded: "
    "every rank would train on the same examples. Wrap it: "
    "iteration_scheme=ShardedScheme({scheme_name}(...)).")

ABORTING = (
    "rank %d of %d failed: %s: %s\n"
    "Aborting the whole job (MPI_Abort), so that the other ranks do not "
    "wait for this one forever.")


def _muted(*args):
    """The dispatch of an extension that runs on rank 0 only."""


def _walk(extensions):
    for extension in extensions:
        yield extension
        yield from _walk(getattr(extension, 'sub_extensions', ()))
        # EarlyStopping adds its checkpoint to itself only before training.
        checkpoint = getattr(extension, 'checkpoint_extension', None)
        if checkpoint is not None:
            yield checkpoint


class SaveOnRank0:
    """The ``do`` of a checkpoint extension on several ranks.

    Runs on every rank when the checkpoint's conditions fire (the same
    iterations everywhere): the partial training-monitoring aggregates of
    all the ranks are gathered on rank 0, which then saves, so that the
    checkpoint stands for the whole job.
    """

    def __init__(self, extension):
        self.extension = extension

    def __call__(self, *args):
        main_loop = self.extension.main_loop
        for buffer in main_loop.partial_aggregates:
            buffer.gather_on_rank0()
        if main_loop.comm.rank == 0:
            type(self.extension).do(self.extension, *args)


def _class_names(extension):
    return {cls.__name__ for cls in type(extension).__mro__}


class AgreeOnStop(TrainingExtension):
    """Make every rank stop training at the same iteration.

    After every batch and epoch, the last of the extensions, it combines
    each rank's reasons to stop (a finish request in the log, an interrupt
    received) with one small ``Allreduce`` and records them on every rank,
    so that the main loop's check that follows stops all ranks or none.
    SIGINT and SIGTERM are deferred to this point (see
    :meth:`defer_signals`): a signal received by any rank is delivered to
    the main loop of every rank.
    """

    _SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self, comm=None, **kwargs):
        super().__init__(**kwargs)
        self._comm = comm
        self._pending = numpy.zeros(2, dtype=numpy.int8)

    @property
    def comm(self):
        return self._comm if self._comm is not None else world()

    def __getstate__(self):
        state = dict(self.__dict__)
        state['_comm'] = None
        state.pop('_handlers', None)
        return state

    def after_batch(self, batch):
        self._agree()

    def after_epoch(self):
        self._agree()

    def _defer(self, signal_number, frame):
        self._pending[self._SIGNALS.index(signal_number)] = 1

    def defer_signals(self):
        """Take SIGINT and SIGTERM over from the handlers installed now.

        They are delivered to those handlers at the next agreement, on
        every rank. Call it right after the main loop installs its own.
        """
        handlers = self.__dict__.setdefault('_handlers', {})
        for signal_number in self._SIGNALS:
            current = signal.getsignal(signal_number)
            if current != self._defer:
                handlers[signal_number] = current
                signal.signal(signal_number, self._defer)

    def _agree(self):
        main_loop = self.main_loop
        row = main_loop.log.current_row
        status = main_loop.status
        flags = numpy.array(
            [row.get(TRAINING_FINISH_REQUESTED, False),
             status.get(BATCH_INTERRUPT_RECEIVED, False),
             status.get(EPOCH_INTERRUPT_RECEIVED, False),
             self._pending[0], self._pending[1]], dtype=numpy.int8)
        self._pending[:] = 0
        self.comm.Allreduce(mpi().IN_PLACE, flags, op=mpi().MAX)
        finish, batch_interrupt, epoch_interrupt, sigint, sigterm = flags
        for received, signal_number in ((sigint, signal.SIGINT),
                                        (sigterm, signal.SIGTERM)):
            if received:
                self._deliver(signal_number)
        if finish and not row.get(TRAINING_FINISH_REQUESTED, False):
            row[TRAINING_FINISH_REQUESTED] = True
        if batch_interrupt:
            status[BATCH_INTERRUPT_RECEIVED] = True
        if epoch_interrupt:
            status[EPOCH_INTERRUPT_RECEIVED] = True

    def _deliver(self, signal_number):
        """Run the main loop's handler, as if the signal arrived now."""
        handler = self.__dict__.get('_handlers', {}).get(signal_number)
        if not callable(handler):
            return
        handler(signal_number, None)
        # The main loop's handler may install another handler of its own
        # (the second Ctrl + C finishes the batch): defer that one too.
        current = signal.getsignal(signal_number)
        if getattr(current, '__self__', None) is self.main_loop:
            self._handlers[signal_number] = current
            signal.signal(signal_number, self._defer)


class DistributedMainLoop(MainLoop):
    """A :class:`~blocks.main_loop.MainLoop` for data-parallel training.

    Run the same script on every rank (``mpirun -n N python script.py``).
    Takes the arguments of :class:`~blocks.main_loop.MainLoop`, plus:

    Parameters
    ----------
    comm : communicator, optional
        Defaults to :func:`~blocks.distributed.world`.
    root_only : list of extensions, optional
        Extensions run on rank 0 only, besides those of the classes named
        in :data:`ROOT_ONLY` (which write files or to the screen).

    Notes
    -----
    On more than one rank, the algorithm must be a
    :class:`~blocks.distributed.DistributedGradientDescent` and the
    training stream's scheme a :class:`~blocks.distributed.ShardedScheme`.
    Ranks other than 0 keep their log in memory (the ``python`` backend),
    whatever `log` and `log_backend` say: create a log that writes a file
    on rank 0 only. Extensions that run on every rank must make the
    same decisions from the same log records, which they do: monitored
    values are combined across ranks, and stop requests are agreed on.

    """

    def __init__(self, algorithm, data_stream, model=None, log=None,
                 log_backend=None, extensions=None, *, comm=None,
                 root_only=None):
        if (comm if comm is not None else world()).rank > 0:
            log, log_backend = None, 'python'
        super().__init__(algorithm, data_stream, model=model, log=log,
                         log_backend=log_backend, extensions=extensions)
        self._comm = comm
        self.root_only = list(root_only) if root_only is not None else []
        #: The buffers of training monitoring, accumulated on each rank.
        self.partial_aggregates = []

    @property
    def comm(self):
        """The communicator of the ranks."""
        return self._comm if self._comm is not None else world()

    def __getstate__(self):
        state = super().__getstate__()
        state['_comm'] = None
        return state

    def run(self):
        comm = self.comm
        if comm.size == 1:
            super().run()
            return
        try:
            self._prepare_ranks(comm)
            if self.status['iterations_done'] > 0:
                # Continued from rank 0's checkpoint, whose partial
                # aggregates stand for all the ranks.
                for buffer in self.partial_aggregates:
                    buffer.drop_sums_unless_rank0()
            super().run()
        except (Exception, KeyboardInterrupt) as error:
            logger.critical(ABORTING, comm.rank, comm.size,
                            type(error).__name__, error)
            logger.debug(traceback.format_exc())
            sys.stdout.flush()
            sys.stderr.flush()
            comm.Abort(1)

    def _prepare_ranks(self, comm):
        if not isinstance(self.algorithm, DistributedGradientDescent):
            raise ValueError(NOT_DISTRIBUTED_ALGORITHM.format(
                size=comm.size, type=type(self.algorithm).__name__))
        scheme = iteration_scheme(self.data_stream)
        if scheme is not None and not isinstance(scheme, ShardedScheme):
            raise ValueError(NOT_SHARDED.format(
                size=comm.size, scheme=scheme,
                scheme_name=type(scheme).__name__))
        root_only = {id(extension) for extension in self.root_only}
        self.partial_aggregates = []
        for extension in _walk(self.extensions):
            if isinstance(extension, (DataStreamMonitoring,
                                      TrainingDataMonitoring)):
                buffer = aggregate_across_ranks(extension)
                if isinstance(extension, TrainingDataMonitoring):
                    self.partial_aggregates.append(buffer)
            if isinstance(extension, Checkpoint):
                if not isinstance(extension.__dict__.get('do'), SaveOnRank0):
                    extension.do = SaveOnRank0(extension)
                if comm.rank > 0:
                    # Rank 0 writes: other ranks' machines may not even
                    # have its directory.
                    extension.check_destinations = _muted
            elif comm.rank > 0 and (id(extension) in root_only or
                                    _class_names(extension) & ROOT_ONLY):
                extension.dispatch = _muted
        # Last, so that it sees every other extension's stop request.
        agree = [extension for extension in self.extensions
                 if isinstance(extension, AgreeOnStop)]
        for extension in agree:
            self.extensions.remove(extension)
        agree = agree[0] if agree else AgreeOnStop()
        # A loop continued from a checkpoint assigns no main loops.
        agree.main_loop = self
        self.extensions.append(agree)
        self._agree_on_stop = agree

    def _install_signal_handlers(self):
        super()._install_signal_handlers()
        # No signal may reach the main loop's handlers directly between
        # two agreements: one rank would stop alone.
        agree = self.__dict__.get('_agree_on_stop')
        if agree is not None:
            agree.defer_signals()
