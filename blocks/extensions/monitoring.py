"""Extensions that write monitored values to the log.

:class:`DataStreamMonitoring` evaluates variables over a whole data stream
(a validation set, say); :class:`TrainingDataMonitoring` aggregates them on
the training batches, computed by the training function itself.
"""
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from pytensor.graph.basic import Variable

from blocks.algorithms import UpdatesAlgorithm
from blocks.extensions.base import SimpleExtension, TrainingExtension
from blocks.monitoring.aggregation import MonitoredQuantity, take_last
from blocks.monitoring.evaluators import (
    AggregationBuffer,
    DatasetEvaluator,
    MonitoredQuantityBuffer,
    _validate_variable_names,
)

logger = logging.getLogger(__name__)

__all__ = [
    'SEPARATOR',
    'DataStreamMonitoring',
    'MonitoringExtension',
    'TrainingDataMonitoring',
]

SEPARATOR = '_'

MISSING_STREAM_SOURCES = (
    "{extension} monitors variables computed from the graph input(s) "
    "{missing}, but the data stream provides only the sources {sources}. "
    "Graph inputs are fed by name from the stream's sources: name the inputs "
    "after the sources (`x = tensor.matrix('features')`), or remove the "
    "variables that need the missing inputs from the monitored list.")

NOT_UPDATES_ALGORITHM = (
    "TrainingDataMonitoring computes the monitored values inside the "
    "training function, so the training algorithm must be an "
    "UpdatesAlgorithm (e.g. GradientDescent), got {algorithm!r}. Use "
    "DataStreamMonitoring on the training stream instead.")

CAN_NOT_MONITOR = (
    "can not monitor {item!r}: monitor PyTensor variables or "
    "MonitoredQuantity objects (a Python-side statistic)")


def _check_sources(extension_name: str, required_inputs: Iterable[Any],
                   data_stream: Any) -> None:
    """Fail clearly if the stream does not provide the required inputs."""
    sources = getattr(data_stream, 'sources', None)
    if sources is None:
        return
    missing = [str(variable.name) for variable in required_inputs
               if variable.name not in sources]
    if missing:
        raise ValueError(MISSING_STREAM_SOURCES.format(
            extension=extension_name, missing=', '.join(missing),
            sources=', '.join(sources) or '(none)'))


class MonitoringExtension(TrainingExtension):
    """A mixin with logic shared by monitoring extensions.

    Parameters
    ----------
    prefix : str, optional
        The prefix for the log records done by the extension. It is
        prepended to the variable names with an underscore as a separator.
        If not given, no prefix is added to the names of the observed
        variables.
    suffix : str, optional
        The suffix for the log records done by the extension. It is
        appended to the end of variable names with an underscore as a
        separator. If not given, no suffix is added the names of the
        observed variables.

    """

    SEPARATOR = SEPARATOR

    def __init__(self, prefix: str | None = None, suffix: str | None = None,
                 **kwargs: Any):
        for argument, value in (('prefix', prefix), ('suffix', suffix)):
            if value is not None and not isinstance(value, str):
                raise ValueError(f"{argument} must be a string or None, got "
                                 f"{value!r}")
        super().__init__(**kwargs)
        self.prefix = prefix
        self.suffix = suffix

    def _record_name(self, name: str) -> str:
        """The record name for a variable name."""
        if not isinstance(name, str):
            # ValueError, not TypeError: the reference's API.
            raise ValueError("record name must be a string")  # noqa: TRY004
        return self.SEPARATOR.join(
            [morpheme for morpheme in [self.prefix, name, self.suffix]
             if morpheme is not None])

    def record_name(self, variable: Any) -> str:
        """The record name for a variable."""
        return self._record_name(variable.name)

    def add_records(self, log: Any,
                    record_tuples: Iterable[tuple[Any, Any]]) -> None:
        """Helper function to add monitoring records to the log."""
        row = log.current_row
        for name, value in record_tuples:
            if not name:
                raise ValueError("monitor variable without name")
            row[self._record_name(name)] = value


class DataStreamMonitoring(SimpleExtension, MonitoringExtension):
    """Monitors PyTensor variables and monitored quantities on a data stream.

    By default monitoring is done before the first and after every epoch.
    The evaluation function is compiled before training, so a variable that
    can not be computed from the stream fails before the first batch.

    Parameters
    ----------
    variables : list
        The graph variables (:class:`~pytensor.graph.basic.Variable`) and
        :class:`.MonitoredQuantity` objects to monitor. The variable names
        are used as record names in the logs.
    data_stream : :class:`~blocks.data.streams.AbstractDataStream`
        The data stream to monitor on. A data epoch is requested each time
        monitoring is done.
    updates : list of (shared, expression) pairs or OrderedDict, optional
        Shared variable updates to be performed during evaluation. This
        parameter is only for PyTensor variables. Be careful not to update
        any model parameters as this is not intended to alter your model in
        any meaningful way. A typical use case of this option arises when
        the function used for evaluation contains a call to ``scan``, which
        might have returned shared variable updates.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> from blocks.data.datasets import IterableDataset
    >>> x = pt.vector('x')
    >>> cost = (x ** 2).mean()
    >>> cost.name = 'cost'
    >>> stream = IterableDataset({'x': [[1., 2.]]}).get_example_stream()
    >>> monitor = DataStreamMonitoring([cost], stream, prefix='valid')
    >>> monitor.record_name(cost)
    'valid_cost'

    """

    def __init__(self, variables: Sequence[Any], data_stream: Any,
                 updates: Any = None, **kwargs: Any):
        kwargs.setdefault("after_epoch", True)
        kwargs.setdefault("before_first_epoch", True)
        super().__init__(**kwargs)
        self._evaluator = DatasetEvaluator(variables, updates)
        self.data_stream = data_stream

    def dispatch(self, callback_invoked: str, *from_main_loop: Any) -> None:
        if callback_invoked == 'before_training':
            self._prepare()
        super().dispatch(callback_invoked, *from_main_loop)

    def responds_to(self, callback_name: str) -> bool:
        return (callback_name == 'before_training'
                or self._has_condition_for(callback_name))

    def _prepare(self) -> None:
        """Check the stream's sources and compile, before training."""
        _check_sources(f"DataStreamMonitoring({self.name!r})",
                       self._evaluator.required_inputs, self.data_stream)
        self._evaluator.compile()

    def do(self, callback_name: str, *args: Any) -> None:
        """Write the values of monitored variables to the log."""
        logger.info("Monitoring on auxiliary data started")
        value_dict = self._evaluator.evaluate(self.data_stream)
        self.add_records(self.main_loop.log, value_dict.items())
        logger.info("Monitoring on auxiliary data finished")


class TrainingDataMonitoring(SimpleExtension, MonitoringExtension):
    """Monitors values of PyTensor variables on training batches.

    Use this extension to monitor a quantity on every training batch
    cheaply. It integrates with the training algorithm in order to avoid
    recomputing the same things several times. For instance, if you are
    training a network and you want to log the norm of the gradient on
    every batch, the backpropagation will only be done once. By controlling
    the frequency with which the :meth:`do` method is called, you can
    aggregate the monitored variables, e.g. only log the gradient norm
    average over an epoch.

    Parameters
    ----------
    variables : list
        The graph variables (:class:`~pytensor.graph.basic.Variable`) and
        non-PyTensor quantities (:class:`.MonitoredQuantity`) to monitor.
        The variable names are used as record names in the logs.

    Notes
    -----
    All the monitored variables are evaluated *before* the parameter
    update.

    Requires the training algorithm to be an instance of
    :class:`~blocks.algorithms.UpdatesAlgorithm`.

    A record is the aggregate since the previous record: the mean over the
    batches for variables that depend on the data (unless they have
    another aggregation scheme), the last value for those that do not.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> x = pt.vector('x')
    >>> cost = (x ** 2).mean()
    >>> cost.name = 'cost'
    >>> monitor = TrainingDataMonitoring([cost], prefix='train',
    ...                                  after_epoch=True)
    >>> monitor.record_name(cost)
    'train_cost'

    """

    def __init__(self, variables: Sequence[Any], **kwargs: Any):
        if kwargs.get('before_training', True) is False:
            raise ValueError(
                "TrainingDataMonitoring must run before training (it wires "
                "itself into the training function then): do not pass "
                "before_training=False")
        kwargs.setdefault("before_training", True)
        super().__init__(**kwargs)
        self.add_condition(['after_batch'], arguments=('just_aggregate',))

        variables_ = []
        quantities = []
        for variable_or_not in variables:
            if isinstance(variable_or_not, Variable):
                variables_.append(variable_or_not)
            elif isinstance(variable_or_not, MonitoredQuantity):
                quantities.append(variable_or_not)
            else:
                # ValueError, not TypeError: the reference's API.
                raise ValueError(  # noqa: TRY004
                    CAN_NOT_MONITOR.format(item=variable_or_not))
        # Variables and quantities share the log: their names must differ.
        _validate_variable_names(variables_ + quantities)

        self._non_variables = MonitoredQuantityBuffer(quantities)
        required = []
        for index, requirement in enumerate(self._non_variables.requires):
            copy = take_last(requirement)
            # Internal names: requirements need not be named, nor uniquely.
            copy.name = f'_requirement_{index}'
            required.append(copy)
        self._required_for_non_variables = AggregationBuffer(required)
        self._variables = AggregationBuffer(variables_, use_take_last=True)
        self._last_time_called = -1

    def _wire_into_algorithm(self) -> None:
        algorithm = self.main_loop.algorithm
        if not isinstance(algorithm, UpdatesAlgorithm):
            # ValueError, not TypeError: the reference's API.
            raise ValueError(  # noqa: TRY004
                NOT_UPDATES_ALGORITHM.format(algorithm=algorithm))
        _check_sources(
            f"TrainingDataMonitoring({self.name!r})",
            self._variables.inputs + self._non_variables.inputs,
            self.main_loop.data_stream)
        algorithm.add_updates(self._variables.accumulation_updates)
        algorithm.add_updates(
            self._required_for_non_variables.accumulation_updates)
        # `_readout_and_reset` also initializes: it is the only function
        # these buffers need to compile.
        self._variables._readout_and_reset()
        self._required_for_non_variables._readout_and_reset()
        self._non_variables.initialize_quantities()

    def do(self, callback_name: str, *args: Any) -> None:
        """Initializes the buffer or commits the values to the log.

        What this method does depends on from what callback it is called
        and with which arguments. When called within ``before_training``,
        it initializes the aggregation buffer and instructs the training
        algorithm what additional computations should be carried at each
        step by adding corresponding updates to it. In most other cases it
        writes aggregated values of the monitored variables to the log. An
        exception is when an argument ``just_aggregate`` is given: in this
        case it updates the values of monitored non-PyTensor quantities, but
        does not write anything to the log.

        """
        if callback_name == 'before_training':
            self._wire_into_algorithm()
            return
        _, args = self.parse_args(callback_name, args)
        just_aggregate = args == ('just_aggregate',)
        quantities = self._non_variables.quantities
        if just_aggregate and not quantities:
            return  # the common case, every batch: nothing to do
        log = self.main_loop.log
        if quantities:
            # When called first time at any iterations, update monitored
            # non-PyTensor quantities.
            iterations_done = log.status['iterations_done']
            if iterations_done > self._last_time_called:
                self._non_variables.aggregate_quantities(list(
                    self._required_for_non_variables._readout_and_reset()
                    .values()))
                self._last_time_called = iterations_done
        # If only called to update non-PyTensor quantities, do just that.
        if just_aggregate:
            return
        # Otherwise, also save current values of the accumulators to the
        # log, and reset them.
        self.add_records(log, self._variables._readout_and_reset().items())
        if quantities:
            self.add_records(
                log, self._non_variables.get_aggregated_values().items())
            self._non_variables.initialize_quantities()
