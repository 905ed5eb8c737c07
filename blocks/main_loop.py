"""The main loop: feed batches from a data stream to a training algorithm."""
import logging
import signal
import threading
import traceback
from time import perf_counter
from types import FrameType
from typing import Any

from blocks.config import config
from blocks.extensions.dispatch import Dispatcher
from blocks.extensions.protocol import (
    BATCH_INTERRUPT_RECEIVED,
    EPOCH_INTERRUPT_RECEIVED,
    GOT_EXCEPTION,
    TRAINING_FINISH_REQUESTED,
    TRAINING_FINISHED,
)
from blocks.log import get_backend
from blocks.utils.profile import Profile, Timer
from blocks.utils.utils import change_recursion_limit, reraise_as

logger = logging.getLogger(__name__)

error_message = """

Blocks will attempt to run `on_error` extensions, potentially saving data, \
before exiting and reraising the error. Note that the usual `after_training` \
extensions will *not* be run. The original error will be re-raised and also \
stored in the training log. Press CTRL + C to halt Blocks immediately."""

error_in_error_handling_message = """

Blocks will now exit. The remaining `on_error` extensions will not be run."""

epoch_interrupt_message = """

Blocks will complete this epoch of training and run extensions \
before exiting. If you do not want to complete this epoch, press CTRL + C \
again to stop training after the current batch."""

batch_interrupt_message = """

Blocks will complete the current batch and run extensions before exiting. If \
you do not want to complete this batch, press CTRL + C again. WARNING: Note \
that this will end training immediately, and might lead to corrupted model \
files and other unexpected behaviour."""

no_model_message = """

A possible reason: one of your extensions requires the main loop to have \
a model. Check documentation of your extensions."""

zero_batches_message = (
    "epoch iterator yielded zero batches: check that the dataset is not "
    "empty and that the iteration scheme does not drop every batch (for "
    "example a batch size larger than the dataset)")

class TrainingFinish(Exception):
    """An exception raised when a finish request is found in the log."""


class MainLoop:
    """The standard main loop of Blocks.

    In the main loop a model is trained by a training algorithm using data
    extracted from a data stream. This process is scrupulously documented
    in a log object.

    The main loop itself does very little: only fetching the data from the
    data stream and feeding it to the algorithm. It expects the extensions
    to do most of the job. A respective callback of every extension is
    called at every stage of training. The extensions should communicate
    between themselves and with the main loop object by means of making
    records in the log. For instance in order to stop the training
    procedure an extension can make a record
    ``training_finish_requested=True`` in the log. The main loop checks for
    such a record after every batch and every epoch and terminates when it
    finds it.

    The main loop also handles the interruption signal SIGINT for you (the
    one a program receives when you press Ctrl + C). It notes this event in
    the log and at the end of the epoch the main loop is gracefully
    finished, calling all necessary extension callbacks and waiting until
    they finish. A second SIGINT, or a SIGTERM, finishes training after the
    current batch.

    Parameters
    ----------
    algorithm : :class:`~blocks.algorithms.TrainingAlgorithm`
        The training algorithm.
    data_stream : :class:`~blocks.data.streams.AbstractDataStream`
        The data stream. Any object with the interface of Fuel's
        ``AbstractDataStream`` works.
    model : :class:`~blocks.model.Model`, optional
        An annotated computation graph, typically a
        :class:`~blocks.model.Model`. The main loop uses the model only for
        optional sanity checks; it is here mainly for the extensions.
    log : :class:`~blocks.log.TrainingLog`, optional
        The log. When not given, a log of the ``log_backend`` is created.
    log_backend : str
        The backend to use for the log: ``'python'`` or ``'sqlite'``. If not
        given, ``config.log_backend`` is used. Ignored if ``log`` is passed.
    extensions : list of :class:`~blocks.extensions.TrainingExtension`
        The training extensions. They are called in the same order as given
        here.

    Examples
    --------
    >>> from blocks.data.datasets import IterableDataset
    >>> from blocks.extensions import FinishAfter
    >>> from blocks.utils.testing import MockAlgorithm
    >>> stream = IterableDataset(range(10)).get_example_stream()
    >>> main_loop = MainLoop(MockAlgorithm(), stream,
    ...                      extensions=[FinishAfter(after_n_epochs=2)])
    >>> main_loop.run()
    >>> main_loop.status['iterations_done'], main_loop.status['_epoch_ends']
    (20, [10, 20])
    """

    def __init__(self, algorithm: Any, data_stream: Any, model: Any = None,
                 log: Any = None, log_backend: str | None = None,
                 extensions: list[Any] | None = None):
        if log is None:
            if log_backend is None:
                log_backend = config.log_backend
            log = get_backend(log_backend)()
        if extensions is None:
            extensions = []

        self.data_stream = data_stream
        self.algorithm = algorithm
        self.log = log
        self.extensions = extensions
        self.epoch_iterator: Any = None

        self.profile = Profile()
        self.dispatcher = Dispatcher(self)
        # The interrupts received and not yet written to the log (see
        # `_record_signals`).
        self._pending_signals: list[str] = []

        self._model = model

        self.status['training_started'] = False
        self.status['epoch_started'] = False
        self.status[EPOCH_INTERRUPT_RECEIVED] = False
        self.status[BATCH_INTERRUPT_RECEIVED] = False

    @property
    def model(self) -> Any:
        if not self._model:
            raise AttributeError("no model in this main loop" +
                                 no_model_message)
        return self._model

    @property
    def iteration_state(self) -> tuple[Any, Any]:
        """Quick access to the (data stream, epoch iterator) pair."""
        return (self.data_stream, self.epoch_iterator)

    @iteration_state.setter
    def iteration_state(self, value: tuple[Any, Any]) -> None:
        (self.data_stream, self.epoch_iterator) = value

    @property
    def status(self) -> Any:
        """A shortcut for `self.log.status`."""
        return self.log.status

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        # Signal handlers and dispatch tables belong to the running process.
        for key in ('original_sigint_handler', 'original_sigterm_handler',
                    'dispatcher', '_pending_signals'):
            state.pop(key, None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.dispatcher = Dispatcher(self)
        self._pending_signals = []

    def run(self) -> None:
        """Starts the main loop.

        The main loop ends when a training extension makes a
        ``training_finish_requested`` record in the log.
        """
        # This should do nothing if the user has already configured
        # logging, and will it least enable error messages otherwise.
        logging.basicConfig()

        # If this is resumption from a checkpoint, it is crucial to
        # reset `profile.current`. Otherwise, it simply does not hurt.
        self.profile.current = []

        if self._model and hasattr(self._model, 'check_sanity'):
            self._model.check_sanity(self.algorithm)
        self._check_data_sources()

        with change_recursion_limit(config.recursion_limit):
            self._install_signal_handlers()
            try:
                logger.info("Entered the main loop")
                if not self.status['training_started']:
                    for extension in self.extensions:
                        extension.main_loop = self
                    self._run_extensions('before_training')
                    with Timer('initialization', self.profile):
                        self.algorithm.initialize()
                    self.status['training_started'] = True
                # We can not write "else:" here because extensions
                # called "before_training" could have changed the status
                # of the main loop.
                if self.log.status['iterations_done'] > 0:
                    self.log.resume()
                    self._run_extensions('on_resumption')
                    self.status[EPOCH_INTERRUPT_RECEIVED] = False
                    self.status[BATCH_INTERRUPT_RECEIVED] = False
                with Timer('training', self.profile):
                    while self._run_epoch():
                        pass
            except TrainingFinish:
                self.log.current_row[TRAINING_FINISHED] = True
            except Exception as e:  # noqa: BLE001 - re-raised below
                self._restore_signal_handlers()
                self._record_signals()
                self.log.current_row[GOT_EXCEPTION] = traceback.format_exc()
                logger.error("Error occured during training." + error_message)
                try:
                    self._run_extensions('on_error', e)
                except Exception:
                    logger.exception("Error occured when running extensions." +
                                     error_in_error_handling_message)
                reraise_as(e)
            finally:
                self._restore_signal_handlers()
                self._record_signals()
                if self.log.current_row.get(TRAINING_FINISHED, False):
                    if (self.status.get(EPOCH_INTERRUPT_RECEIVED, False) or
                            self.status.get(BATCH_INTERRUPT_RECEIVED,
                                            False)):
                        self._run_extensions('on_interrupt')
                    self._run_extensions('after_training')
                self._flush_log()
                if config.profile:
                    self.profile.report()

    def find_extension(self, name: str) -> Any:
        """Find an extension with a given name.

        Parameters
        ----------
        name : str
            The name of the extension looked for.

        Notes
        -----
        Raises :class:`ValueError` if there are no or several extensions
        with that name.
        """
        found = [extension for extension in self.extensions
                 if extension.name == name]
        if len(found) != 1:
            names = [extension.name for extension in self.extensions]
            raise ValueError(
                f"expected exactly one extension named {name!r}, found "
                f"{len(found)}; the extensions are named {names}")
        return found[0]

    def _check_data_sources(self) -> None:
        """Fail before training when the stream and algorithm disagree."""
        check_sources = getattr(self.algorithm, 'check_sources', None)
        sources = getattr(self.data_stream, 'sources', None)
        if check_sources is not None and sources is not None:
            check_sources(tuple(sources))

    def _flush_log(self) -> None:
        flush = getattr(self.log, 'flush', None)
        if flush is not None:
            flush()

    def _run_epoch(self) -> bool:
        if not self.status.get('epoch_started', False):
            try:
                self.log.status['received_first_batch'] = False
                self.epoch_iterator = (self.data_stream.
                                       get_epoch_iterator(as_dict=True))
            except StopIteration:
                return False
            self.status['epoch_started'] = True
            self._run_extensions('before_epoch')
        with Timer('epoch', self.profile):
            sections = tuple(self.profile.current)
            self._read_data_section = sections + ('read_data',)
            self._train_section = sections + ('train',)
            self.profile.order.setdefault(self._read_data_section)
            self.profile.order.setdefault(self._train_section)
            while self._run_iteration():
                pass
        self.status['epoch_started'] = False
        self.status['epochs_done'] += 1
        # Log might not allow mutating objects, so use += instead of append
        self.status['_epoch_ends'] += [self.status['iterations_done']]
        self._run_extensions('after_epoch')
        self._flush_log()
        self._check_finish_training('epoch')
        return True

    def _run_iteration(self) -> bool:
        # The reference times `read_data` and `train` with `Timer`s; the
        # same sections are timed here without a context manager, whose
        # cost would be most of the loop's own time per batch.
        total = self.profile.total
        status = self.log.status
        start = perf_counter()
        try:
            batch = next(self.epoch_iterator)
        except StopIteration:
            if not status['received_first_batch']:
                reraise_as(ValueError(zero_batches_message))
            return False
        finally:
            total[self._read_data_section] += perf_counter() - start
        status['received_first_batch'] = True
        self.dispatcher.fire('before_batch', batch)
        start = perf_counter()
        self.algorithm.process_batch(batch)
        total[self._train_section] += perf_counter() - start
        status['iterations_done'] += 1
        self.dispatcher.fire('after_batch', batch)
        self._check_finish_training('batch')
        return True

    def _run_extensions(self, method_name: str, *args: Any) -> None:
        self.dispatcher.fire(method_name, *args)

    def _check_finish_training(self, level: str) -> None:
        """Checks whether the current training should be terminated.

        Parameters
        ----------
        level : {'epoch', 'batch'}
            The level at which this check was performed. In some cases, we
            only want to quit after completing the remained of the epoch.
        """
        if self._pending_signals:
            self._record_signals()
        if (self.log.current_row.get(TRAINING_FINISH_REQUESTED, False) or
                self.status.get(BATCH_INTERRUPT_RECEIVED, False)):
            raise TrainingFinish
        if (level == 'epoch' and
                self.status.get(EPOCH_INTERRUPT_RECEIVED, False)):
            raise TrainingFinish

    def _record_signals(self) -> None:
        """Write the interrupts received since the last check to the log.

        Signal handlers only note the signal: one that wrote to the log
        itself could run while the log is in the middle of a write and
        lose a record. The main loop calls this at safe points, after each
        batch and epoch and when training stops.
        """
        # A handler that runs during this swap appends to one list or the
        # other: either way its record is written, now or at the next check.
        records, self._pending_signals = self._pending_signals, []
        for record in records:
            self.log.current_row[record] = True
            # Add a record to the status. Unlike the log record it will be
            # easy to access at later iterations.
            self.status[record] = True

    def _handle_epoch_interrupt(self, signal_number: int,
                                frame: FrameType | None) -> None:
        # Try to complete the current epoch if user presses CTRL + C
        logger.warning('Received epoch interrupt signal.' +
                       epoch_interrupt_message)
        signal.signal(signal.SIGINT, self._handle_batch_interrupt)
        self._pending_signals.append(EPOCH_INTERRUPT_RECEIVED)

    def _handle_batch_interrupt(self, signal_number: int,
                                frame: FrameType | None) -> None:
        # After 2nd CTRL + C or SIGTERM signal (from cluster) finish batch
        self._restore_signal_handlers()
        logger.warning('Received batch interrupt signal.' +
                       batch_interrupt_message)
        self._pending_signals.append(BATCH_INTERRUPT_RECEIVED)

    def _install_signal_handlers(self) -> None:
        # Python only lets the main thread set signal handlers; a loop run
        # from another thread trains without Ctrl + C handling.
        if threading.current_thread() is not threading.main_thread():
            return
        self.original_sigint_handler = signal.signal(
            signal.SIGINT, self._handle_epoch_interrupt)
        self.original_sigterm_handler = signal.signal(
            signal.SIGTERM, self._handle_batch_interrupt)

    def _restore_signal_handlers(self) -> None:
        if 'original_sigint_handler' in self.__dict__:
            signal.signal(signal.SIGINT,
                          self.__dict__.pop('original_sigint_handler'))
        if 'original_sigterm_handler' in self.__dict__:
            signal.signal(signal.SIGTERM,
                          self.__dict__.pop('original_sigterm_handler'))
