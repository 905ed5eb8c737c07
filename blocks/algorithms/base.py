"""Training algorithms: the abstract interface and the updates algorithm."""
import logging
from abc import ABCMeta, abstractmethod
from collections import OrderedDict
from collections.abc import Iterable

from blocks.compilation import function
from blocks.graph import ComputationGraph
from blocks.roles import has_roles, ALGORITHM_STATE
from blocks.utils.input_errors import input_mismatch_error
from blocks.utils.theano_utils import is_shared_variable

logger = logging.getLogger(__name__)

__all__ = ['TrainingAlgorithm', 'UpdatesAlgorithm', 'variable_mismatch_error',
           'source_missing_error', 'determinism_error']

variable_mismatch_error = """

Blocks tried to match the sources ({sources}) of the training dataset to \
the names of the PyTensor variables ({variables}), but failed to do so. \
If you want to train on a subset of the sources that your dataset provides, \
pass the `sources` keyword argument to its constructor, use the \
FilterSources transformer, or pass on_unused_sources='warn' \
or on_unused_sources='ignore' to the GradientDescent algorithm."""

source_missing_error = """

Blocks didn't find all the sources ({sources}) of the training dataset \
that match the names of the PyTensor variables ({variables}). The inputs \
of the training graph are matched to the data sources by variable name: \
name the input variables after the sources (e.g. `tensor.matrix('features')` \
for a source 'features'), or make the data stream provide sources with \
the names of the inputs."""

determinism_error = """Cannot infer parameter list in a fixed order.

Because dictionaries are unordered, the parameters \
returned by this dictionary's keys() method may be in an arbitrary order, \
which can lead to non-deterministic behaviour. Pass the parameters \
explicitly, or pass gradients as an OrderedDict or a list of \
(parameter, gradient) pairs."""

_ON_UNUSED_SOURCES = ('raise', 'warn', 'ignore')


class TrainingAlgorithm(metaclass=ABCMeta):
    """Base class for training algorithms.

    A training algorithm object has a simple life-cycle.
    First it is initialized by calling its :meth:`initialize` method.
    At this stage, for instance, PyTensor functions can be compiled.
    After that the :meth:`process_batch` method is repeatedly
    called with a batch of training data as a parameter.

    """

    @abstractmethod
    def initialize(self, **kwargs):
        """Initialize the training algorithm."""

    @abstractmethod
    def process_batch(self, batch):
        """Process a batch of training data.

        Attributes
        ----------
        batch : dict
            A dictionary of (source name, data) pairs.

        """


class UpdatesAlgorithm(TrainingAlgorithm):
    """Base class for algorithms that use PyTensor functions with updates.

    Parameters
    ----------
    updates : list of tuples or :class:`~collections.OrderedDict`
        The updates that should be performed.
    theano_func_kwargs : dict, optional
        A passthrough to :func:`blocks.compilation.function` for
        additional arguments.  Useful for passing `profile` or `mode`
        arguments to the PyTensor function that will be compiled for the
        algorithm.
    on_unused_sources : str, one of 'raise' (default), 'ignore', 'warn'
        Controls behavior when not all sources in a batch are used
        (i.e. there is no variable with a matching name).

    Attributes
    ----------
    updates : list of :class:`~tensor.TensorSharedVariable` updates
        Updates to be done for every batch. It is required that the
        updates are done using the old values of optimized parameters.
    inputs : list of :class:`~pytensor.graph.basic.Variable`
        The inputs of the compiled function, in the order in which the
        batch's sources are passed to it (set by :meth:`initialize`).

    Notes
    -----
    Changing `updates` attribute or calling `add_updates` after
    the `initialize` method is called will have no effect.

    """

    def __init__(self, updates: list | OrderedDict | None = None,
                 theano_func_kwargs: dict | None = None,
                 on_unused_sources: str = 'raise', **kwargs):
        self.updates = [] if updates is None else updates
        self.theano_func_kwargs = (theano_func_kwargs if theano_func_kwargs
                                   is not None else dict())
        self.on_unused_sources = on_unused_sources
        super().__init__(**kwargs)

    def initialize(self) -> None:
        """Compile the function that performs the updates."""
        logger.info("Initializing the training algorithm")
        logger.debug("Inferring graph inputs...")
        self.inputs = self._infer_inputs()
        # Precomputed once: process_batch runs for every batch.
        self._input_names = [variable.name for variable in self.inputs]
        self._accepted_sources = frozenset(self._input_names)
        logger.debug("Compiling training function...")
        self._function = function(
            self.inputs, [], updates=self.updates, **self.theano_func_kwargs)
        logger.info("The training algorithm is initialized")

    def _infer_inputs(self):
        update_values = [new_value for _, new_value in self.updates]
        return ComputationGraph(update_values).inputs

    @property
    def updates(self):
        return self._updates

    @updates.setter
    def updates(self, value):
        self._updates = value

    def add_updates(self, updates: list | OrderedDict) -> None:
        """Add updates to the training process.

        The updates will be done _before_ the parameters are changed.

        Parameters
        ----------
        updates : list of tuples or :class:`~collections.OrderedDict`
            The updates to add.

        """
        if isinstance(updates, OrderedDict):
            updates = list(updates.items())
        if not isinstance(updates, list):
            raise ValueError(f"updates should be a list of (shared variable, "
                             f"expression) pairs or an OrderedDict, got "
                             f"{type(updates).__name__}")
        self.updates.extend(updates)

    @property
    def state_variables(self) -> list:
        """The shared variables holding the algorithm's own state.

        Every shared variable that the updates read or write and that has
        the :const:`~blocks.roles.ALGORITHM_STATE` role or a subrole:
        step-rule buffers (:const:`~blocks.roles.ALGORITHM_BUFFER`, e.g.
        momentum velocities, Adam's moments and time step) and
        hyperparameters (:const:`~blocks.roles.ALGORITHM_HYPERPARAMETER`,
        e.g. learning rates). Updated variables come first, in update
        order, then the others in graph order. Model parameters are not
        included. Save and restore their values to checkpoint an algorithm
        without pickling it.

        """
        graph = ComputationGraph(
            [new_value for _, new_value in self.updates])
        candidates = ([variable for variable, _ in self.updates] +
                      graph.shared_variables)
        seen = set()
        return [variable for variable in candidates
                if is_shared_variable(variable) and
                has_roles(variable, [ALGORITHM_STATE]) and
                not (variable in seen or seen.add(variable))]

    def check_sources(self, sources: Iterable[str]) -> None:
        """Check that batches with these sources can feed the algorithm.

        Call it before the first batch (the main loop does, with the data
        stream's ``sources``) so that a mismatch between data sources and
        graph inputs is reported before training starts. Works before and
        after :meth:`initialize`.

        Parameters
        ----------
        sources : iterable of str
            The names of the sources of the batches to come.

        Raises
        ------
        ValueError
            If an input of the graph has no source of the same name, or
            if there are sources no input uses and `on_unused_sources` is
            ``'raise'`` (or an unknown value).

        """
        if hasattr(self, '_input_names'):
            input_names = self._input_names
        else:
            input_names = [variable.name for variable in self._infer_inputs()]
        self._check_source_names(list(sources), input_names)

    def _check_source_names(self, sources, input_names):
        if not set(input_names).issubset(sources):
            raise ValueError("Didn't find all sources: " +
                             source_missing_error.format(
                                 sources=sources, variables=input_names))
        if not set(sources).issubset(input_names):
            if self.on_unused_sources == 'ignore':
                pass
            elif self.on_unused_sources == 'warn':
                if not hasattr(self, '_unused_source_warned'):
                    logger.warning(variable_mismatch_error.format(
                        sources=sources, variables=input_names))
                self._unused_source_warned = True
            elif self.on_unused_sources == 'raise':
                raise ValueError(
                    "mismatch of variable names and data sources" +
                    variable_mismatch_error.format(
                        sources=sources, variables=input_names))
            else:
                raise ValueError(
                    f"Wrong value of on_unused_sources: "
                    f"{self.on_unused_sources}. Use one of "
                    f"{', '.join(map(repr, _ON_UNUSED_SOURCES))}.")

    def process_batch(self, batch: dict) -> None:
        """Call the compiled function on the batch's values.

        Parameters
        ----------
        batch : dict
            A dictionary of (source name, data) pairs; the sources are
            matched to the inputs by name.

        """
        self._call_checked(self._function, self._batch_values(batch))

    def _batch_values(self, batch: dict) -> list:
        """The batch's values in the order of :attr:`inputs`."""
        # The full check runs only when the set of sources differs from
        # the last one accepted: in a training loop it is always the same.
        if batch.keys() != self._accepted_sources:
            self._check_source_names(list(batch), self._input_names)
            self._accepted_sources = frozenset(batch)
        return [batch[name] for name in self._input_names]

    def _call_checked(self, compiled, values: list):
        """``compiled(*values)``, with a clear error for mismatched data."""
        try:
            return compiled(*values)
        except TypeError as exc:
            # Diagnosed only on failure: batches that fit pay nothing.
            error = input_mismatch_error(self.inputs, values,
                                         'the training algorithm')
            if error is None:
                raise
            raise error from exc
