"""The main loop: feed batches from a data stream to a training algorithm."""
import logging
import signal
import threading
import time
import traceback

from blocks.config import config
from blocks.extensions.base import (CALLBACK_NAMES, CallbackName,
                                    TrainingExtension)
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

#: Prebuilt callback names, so the per-batch path allocates nothing.
CALLBACKS = {name: CallbackName(name) for name in CALLBACK_NAMES}


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

    def __init__(self, algorithm, data_stream, model=None, log=None,
                 log_backend=None, extensions=None):
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
        self.epoch_iterator = None

        self.profile = Profile()

        self._model = model

        self.status['training_started'] = False
        self.status['epoch_started'] = False
        self.status['epoch_interrupt_received'] = False
        self.status['batch_interrupt_received'] = False

    @property
    def model(self):
        if not self._model:
            raise AttributeError("no model in this main loop" +
                                 no_model_message)
        return self._model

    @property
    def iteration_state(self):
        """Quick access to the (data stream, epoch iterator) pair."""
        return (self.data_stream, self.epoch_iterator)

    @iteration_state.setter
    def iteration_state(self, value):
        (self.data_stream, self.epoch_iterator) = value

    @property
    def status(self):
        """A shortcut for `self.log.status`."""
        return self.log.status

    def __getstate__(self):
        state = dict(self.__dict__)
        # Signal handlers and dispatch tables belong to the running process.
        for key in ('original_sigint_handler', 'original_sigterm_handler',
                    '_dispatch_tables', '_dispatch_key'):
            state.pop(key, None)
        return state

    def run(self):
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
                    self.status['epoch_interrupt_received'] = False
                    self.status['batch_interrupt_received'] = False
                with Timer('training', self.profile):
                    while self._run_epoch():
                        pass
            except TrainingFinish:
                self.log.current_row['training_finished'] = True
            except Exception as e:
                self._restore_signal_handlers()
                self.log.current_row['got_exception'] = (
                    traceback.format_exc())
                logger.error("Error occured during training." + error_message)
                try:
                    self._run_extensions('on_error', e)
                except Exception:
                    logger.error(traceback.format_exc())
                    logger.error("Error occured when running extensions." +
                                 error_in_error_handling_message)
                reraise_as(e)
            finally:
                self._restore_signal_handlers()
                if self.log.current_row.get('training_finished', False):
                    self._run_extensions('after_training')
                self._flush_log()
                if config.profile:
                    self.profile.report()

    def find_extension(self, name):
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

    def _check_data_sources(self):
        """Fail before training when the stream and algorithm disagree."""
        check_sources = getattr(self.algorithm, 'check_sources', None)
        sources = getattr(self.data_stream, 'sources', None)
        if check_sources is not None and sources is not None:
            check_sources(tuple(sources))

    def _flush_log(self):
        flush = getattr(self.log, 'flush', None)
        if flush is not None:
            flush()

    def _run_epoch(self):
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
            self._run_iterations()
        self.status['epoch_started'] = False
        self.status['epochs_done'] += 1
        # Log might not allow mutating objects, so use += instead of append
        self.status['_epoch_ends'] += [self.status['iterations_done']]
        self._run_extensions('after_epoch')
        self._flush_log()
        self._check_finish_training('epoch')
        return True

    def _run_iterations(self):
        """Run the iterations of one epoch; the hot path of training.

        This does what ``_run_iteration`` does in the original library,
        with the loop invariants hoisted out of the loop: profile keys,
        the extensions that respond to the batch callbacks (looked up again
        only when an extension changes its conditions) and bound methods.
        """
        profile_total = self.profile.total
        prefix = tuple(self.profile.current)
        read_key = prefix + ('read_data',)
        train_key = prefix + ('train',)
        before_key = prefix + ('before_batch',)
        after_key = prefix + ('after_batch',)
        self.profile.order.setdefault(read_key)
        self.profile.order.setdefault(train_key)
        epoch_iterator = self.epoch_iterator
        process_batch = self.algorithm.process_batch
        extensions = self.extensions
        log = self.log
        status = log.status
        clock = time.perf_counter
        before_batch = CALLBACKS['before_batch']
        after_batch = CALLBACKS['after_batch']
        generation = None
        number_of_extensions = None
        received_first_batch = status['received_first_batch']
        while True:
            if (TrainingExtension.dispatch_generation != generation
                    or len(extensions) != number_of_extensions):
                generation = TrainingExtension.dispatch_generation
                number_of_extensions = len(extensions)
                before_table = self._dispatch_table('before_batch',
                                                    before_key)
                after_table = self._dispatch_table('after_batch', after_key)
            start = clock()
            try:
                batch = next(epoch_iterator)
            except StopIteration:
                if not received_first_batch:
                    reraise_as(ValueError(zero_batches_message))
                return
            finally:
                profile_total[read_key] += clock() - start
            if not received_first_batch:
                status['received_first_batch'] = received_first_batch = True
            if before_table:
                start = clock()
                for position, extension, section in before_table:
                    extension_start = clock()
                    extension.dispatch(before_batch, batch)
                    profile_total[section] += clock() - extension_start
                    if TrainingExtension.dispatch_generation != generation:
                        self._dispatch_after(position, before_key,
                                             'before_batch', (batch,))
                        break
                profile_total[before_key] += clock() - start
            start = clock()
            process_batch(batch)
            profile_total[train_key] += clock() - start
            status['iterations_done'] += 1
            if after_table:
                start = clock()
                for position, extension, section in after_table:
                    extension_start = clock()
                    extension.dispatch(after_batch, batch)
                    profile_total[section] += clock() - extension_start
                    if TrainingExtension.dispatch_generation != generation:
                        self._dispatch_after(position, after_key,
                                             'after_batch', (batch,))
                        break
                profile_total[after_key] += clock() - start
            if (log.current_row.get('training_finish_requested', False)
                    or status.get('batch_interrupt_received', False)):
                raise TrainingFinish

    def _run_extensions(self, method_name, *args):
        key = tuple(self.profile.current) + (method_name,)
        start = time.perf_counter()
        self._dispatch_after(-1, key, method_name, args)
        self.profile.total[key] += time.perf_counter() - start

    def _dispatch_after(self, after_position, key, method_name, args):
        """Dispatch a callback to the extensions after a position.

        Each extension is timed in the profile. An extension may change
        which callbacks extensions respond to while it runs (for example by
        adding a condition to another extension): the extensions after it
        are then looked up again.
        """
        callback_name = CALLBACKS[method_name]
        profile_total = self.profile.total
        clock = time.perf_counter
        generation = TrainingExtension.dispatch_generation
        for position, extension, section in self._dispatch_table(method_name,
                                                                 key):
            if position <= after_position:
                continue
            start = clock()
            extension.dispatch(callback_name, *args)
            profile_total[section] += clock() - start
            if TrainingExtension.dispatch_generation != generation:
                self._dispatch_after(position, key, method_name, args)
                return

    def _dispatch_table(self, method_name, key):
        """The extensions that respond to a callback, with profile keys.

        Each entry is the extension's position in ``self.extensions``, the
        extension and its profile section. Tables are rebuilt whenever an
        extension changes its conditions or the list of extensions changes
        length.
        """
        state = (TrainingExtension.dispatch_generation, len(self.extensions))
        if self.__dict__.get('_dispatch_key') != state:
            self._dispatch_tables = {}
            self._dispatch_key = state
        table = self._dispatch_tables.get((method_name, key))
        if table is None:
            order = self.profile.order
            order.setdefault(key)
            table = []
            for position, extension in enumerate(self.extensions):
                if (hasattr(extension, 'responds_to')
                        and not extension.responds_to(method_name)):
                    continue
                section = key + (type(extension).__name__,)
                order.setdefault(section)
                table.append((position, extension, section))
            self._dispatch_tables[(method_name, key)] = table
        return table

    def _check_finish_training(self, level):
        """Checks whether the current training should be terminated.

        Parameters
        ----------
        level : {'epoch', 'batch'}
            The level at which this check was performed. In some cases, we
            only want to quit after completing the remained of the epoch.
        """
        if (self.log.current_row.get('training_finish_requested', False) or
                self.status.get('batch_interrupt_received', False)):
            raise TrainingFinish
        if (level == 'epoch' and
                self.status.get('epoch_interrupt_received', False)):
            raise TrainingFinish

    def _handle_epoch_interrupt(self, signal_number, frame):
        # Try to complete the current epoch if user presses CTRL + C
        logger.warning('Received epoch interrupt signal.' +
                       epoch_interrupt_message)
        signal.signal(signal.SIGINT, self._handle_batch_interrupt)
        self.log.current_row['epoch_interrupt_received'] = True
        # Add a record to the status. Unlike the log record it will be
        # easy to access at later iterations.
        self.status['epoch_interrupt_received'] = True

    def _handle_batch_interrupt(self, signal_number, frame):
        # After 2nd CTRL + C or SIGTERM signal (from cluster) finish batch
        self._restore_signal_handlers()
        logger.warning('Received batch interrupt signal.' +
                       batch_interrupt_message)
        self.log.current_row['batch_interrupt_received'] = True
        # Add a record to the status. Unlike the log record it will be
        # easy to access at later iterations.
        self.status['batch_interrupt_received'] = True

    def _install_signal_handlers(self):
        # Python only lets the main thread set signal handlers; a loop run
        # from another thread trains without Ctrl + C handling.
        if threading.current_thread() is not threading.main_thread():
            return
        self.original_sigint_handler = signal.signal(
            signal.SIGINT, self._handle_epoch_interrupt)
        self.original_sigterm_handler = signal.signal(
            signal.SIGTERM, self._handle_batch_interrupt)

    def _restore_signal_handlers(self):
        if 'original_sigint_handler' in self.__dict__:
            signal.signal(signal.SIGINT,
                          self.__dict__.pop('original_sigint_handler'))
        if 'original_sigterm_handler' in self.__dict__:
            signal.signal(signal.SIGTERM,
                          self.__dict__.pop('original_sigterm_handler'))
