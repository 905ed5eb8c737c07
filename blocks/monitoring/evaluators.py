"""Evaluate monitored quantities over batches and whole data streams.

:class:`AggregationBuffer` holds the aggregators of graph variables,
:class:`MonitoredQuantityBuffer` those of Python-side
:class:`~blocks.monitoring.aggregation.MonitoredQuantity` objects, and
:class:`DatasetEvaluator` combines both to evaluate everything over one
epoch of a data stream.

Examples
--------
>>> import numpy
>>> import pytensor.tensor as pt
>>> from blocks.data.datasets import IterableDataset
>>> x = pt.vector('x')
>>> total = x.sum()
>>> total.name = 'total'
>>> evaluator = DatasetEvaluator([total])
>>> stream = IterableDataset(
...     {'x': [numpy.array([1., 2.]), numpy.array([3., 4.])]}
... ).get_example_stream()
>>> evaluator.evaluate(stream)['total'].item()  # the mean over batches
5.0

"""
import logging
from collections import Counter, OrderedDict
from collections.abc import Mapping

from blocks.compilation import function
from blocks.graph import ComputationGraph
from blocks.monitoring.aggregation import (Mean, MonitoredQuantity,
                                           TakeLast, _DataIndependent)
from blocks.utils.input_errors import input_mismatch_error
from blocks.utils.utils import reraise_as

logger = logging.getLogger(__name__)

__all__ = ['AggregationBuffer', 'MonitoredQuantityBuffer',
           'DatasetEvaluator']

MISSING_SOURCES_MESSAGE = (
    "Not all data sources required for monitoring were provided. "
    "The list of required data sources: {required}. Missing: {missing}. "
    "Monitored variables are fed by matching the names of their graph "
    "inputs to the data stream's sources: build them from inputs named "
    "after the sources, or monitor them on a stream that provides these.")


def _unique(items):
    """`items` without repeats, in order of first appearance."""
    seen = set()
    unique = []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            unique.append(item)
    return unique


def _validate_variable_names(variables):
    """Check that the monitored variables have unique, non-empty names."""
    variable_names = [v.name for v in variables]
    if None in variable_names:
        raise ValueError(
            f'Variables must have names: {variables}. Give every monitored '
            f'variable a name (`variable.name = "cost"`): it becomes the '
            f'log record name.')
    counts = Counter(variable_names)
    duplicates = [name for name, count in counts.items() if count > 1]
    if duplicates:
        raise ValueError(
            f"Variables should have unique names. Duplicates: "
            f"{', '.join(duplicates)}. Each name becomes a log record, so "
            f"two variables with the same name would overwrite each other: "
            f"rename one (`variable.name = ...`) or monitor it only once.")


class MonitoredQuantityBuffer:
    """Intermediate results of aggregating Python-side quantities.

    Parameters
    ----------
    quantities : list of :class:`.MonitoredQuantity`
        The quantities to aggregate.

    Attributes
    ----------
    requires : list of :class:`~pytensor.graph.basic.Variable`
        All graph variables needed by the quantities, without repeats.
    quantity_names : list of str
        The names of the quantities.
    inputs : list of :class:`~pytensor.graph.basic.Variable`
        The graph inputs needed to compute :attr:`requires`.

    """

    def __init__(self, quantities):
        self.quantities = quantities
        requires = [requirement for quantity in quantities
                    for requirement in quantity.requires]
        # Upstream takes `list(set(...))`; first-appearance order is the
        # same union, but the same from one run to the next.
        self.requires = _unique(requires)
        positions = {id(requirement): index
                     for index, requirement in enumerate(self.requires)}
        # Positions of each quantity's requirements in `requires`, computed
        # once (plain integers, so they survive pickling).
        self._positions = [[positions[id(requirement)]
                            for requirement in quantity.requires]
                           for quantity in quantities]
        self._initialized = False

        self.quantity_names = [q.name for q in self.quantities]
        self._computation_graph = ComputationGraph(self.requires)
        self.inputs = self._computation_graph.inputs

    def initialize_quantities(self):
        """Initialize the quantities."""
        self._initialized = True
        for quantity in self.quantities:
            quantity.initialize()

    def aggregate_quantities(self, numerical_values):
        """Feed one batch's values of :attr:`requires` to the quantities.

        Parameters
        ----------
        numerical_values : list of :class:`~numpy.ndarray`
            The values of :attr:`requires`, in that order.

        """
        if not self._initialized:
            raise Exception("To perform aggregation you need to initialize "
                            "the buffer first (call initialize_quantities)")
        for quantity, positions in zip(self.quantities, self._positions,
                                       strict=True):
            quantity.aggregate(*[numerical_values[position]
                                 for position in positions])

    def get_aggregated_values(self):
        """Return a dictionary of quantity names and aggregated values."""
        if not self._initialized:
            raise Exception("To read out you need to initialize the buffer "
                            "first (call initialize_quantities)")
        return {quantity.name: quantity.get_aggregated_value()
                for quantity in self.quantities}


class AggregationBuffer:
    """Intermediate results of aggregating graph variables over batches.

    A variable without an aggregation scheme gets one, written to
    ``variable.tag.aggregation_scheme``: the mean over batches if it depends
    on the data, else its last value (``use_take_last=True``) or its
    current value.

    Parameters
    ----------
    variables : list of :class:`~pytensor.graph.basic.Variable`
        The variables to aggregate; they must have unique names.
    use_take_last : bool
        Aggregate data-independent variables by :class:`.TakeLast` (their
        value when the last batch was processed) instead of reading them
        when the aggregate is read out. Defaults to ``False``.

    Attributes
    ----------
    initialization_updates : list of (shared, expression) pairs
        Updates that reset the aggregators.
    accumulation_updates : list of (shared, expression) pairs
        Updates that fold one batch into the aggregators; the function that
        processes batches must apply them.
    readout_variables : :class:`~collections.OrderedDict`
        Variable name -> expression of the aggregated value.
    inputs : list of :class:`~pytensor.graph.basic.Variable`
        The graph inputs of the variables.

    Notes
    -----
    The reset and readout functions are compiled on first use and are not
    pickled (they are compiled again when needed).

    """

    def __init__(self, variables, use_take_last=False):
        _validate_variable_names(variables)
        self.variables = variables
        self.variable_names = [v.name for v in self.variables]
        self.use_take_last = use_take_last
        self._computation_graph = ComputationGraph(self.variables)
        self.inputs = self._computation_graph.inputs

        self._initialized = False
        self._create_aggregators()

    def _create_aggregators(self):
        """Create aggregators and collect updates."""
        self.initialization_updates = []
        self.accumulation_updates = []
        self.readout_variables = OrderedDict()

        for v in self.variables:
            logger.debug('variable to evaluate: %s', v.name)
            if not hasattr(v.tag, 'aggregation_scheme'):
                if not self._computation_graph.has_inputs(v):
                    scheme = (TakeLast if self.use_take_last
                              else _DataIndependent)
                    logger.debug('Using %s aggregation scheme for %s since '
                                 'it does not depend on the data',
                                 scheme.__name__, v.name)
                    v.tag.aggregation_scheme = scheme(v)
                else:
                    logger.debug('Using the default (average over '
                                 'minibatches) aggregation scheme for %s',
                                 v.name)
                    v.tag.aggregation_scheme = Mean(v, 1.0)

            aggregator = v.tag.aggregation_scheme.get_aggregator()
            self.initialization_updates.extend(
                aggregator.initialization_updates)
            self.accumulation_updates.extend(aggregator.accumulation_updates)
            self.readout_variables[v.name] = aggregator.readout_variable

    def _function(self, kind):
        """The compiled function of a kind, compiled on first use.

        ``'initialize'`` resets the aggregators, ``'readout'`` returns the
        aggregated values, ``'readout_and_reset'`` does both in one call
        (the readout sees the values before the reset). ``None`` when there
        is nothing to do.
        """
        functions = self.__dict__.setdefault('_functions', {})
        if kind not in functions:
            updates = (self.initialization_updates
                       if kind != 'readout' else [])
            outputs = (list(self.readout_variables.values())
                       if kind != 'initialize' else [])
            if updates or outputs:
                functions[kind] = function([], outputs, updates=updates,
                                           on_unused_input='ignore')
            else:
                functions[kind] = None
        return functions[kind]

    def initialize_aggregators(self):
        """Reset the aggregators (compiling them first if needed)."""
        initialize = self._function('initialize')
        if initialize is not None:
            initialize()
        self._initialized = True

    def get_aggregated_values(self):
        """Read out the aggregated values.

        Returns
        -------
        :class:`~collections.OrderedDict`
            Variable name -> aggregated value.

        """
        if not self._initialized:
            raise Exception("To readout you must first initialize, then "
                            "process batches!")
        return self._values(self._function('readout'))

    def _readout_and_reset(self):
        """:meth:`get_aggregated_values` then :meth:`initialize_aggregators`.

        One function call instead of two, for extensions that write every
        batch. Usable for the first initialization too.
        """
        values = self._values(self._function('readout_and_reset'))
        self._initialized = True
        return values

    def _values(self, readout):
        if readout is None:
            return OrderedDict()
        return OrderedDict(zip(self.variable_names, readout(), strict=True))

    def __getstate__(self):
        state = self.__dict__.copy()
        # Compiled functions are compiled again after unpickling.
        state.pop('_functions', None)
        return state


class DatasetEvaluator:
    """Evaluate graph variables and monitored quantities over a dataset.

    Parameters
    ----------
    variables : list
        The graph variables (:class:`~pytensor.graph.basic.Variable`) and
        :class:`.MonitoredQuantity` objects to evaluate, with unique
        names. A graph variable is
        aggregated by its ``tag.aggregation_scheme``, by default the mean
        over batches.
    updates : list of (shared, expression) pairs or OrderedDict, optional
        Shared variable updates to perform during evaluation, e.g. those
        returned by ``scan``. Do not update model parameters with them.

    Notes
    -----
    The evaluation function is compiled by :meth:`compile` (the monitoring
    extensions call it before training) or else on the first evaluation.

    """

    def __init__(self, variables, updates=None):
        _validate_variable_names(variables)
        theano_variables = []
        monitored_quantities = []
        for variable in variables:
            if isinstance(variable, MonitoredQuantity):
                monitored_quantities.append(variable)
            else:
                theano_variables.append(variable)
        self.theano_variables = theano_variables
        self.monitored_quantities = monitored_quantities
        self.theano_buffer = AggregationBuffer(theano_variables)
        self.monitored_quantities_buffer = MonitoredQuantityBuffer(
            monitored_quantities)
        self.updates = updates
        self._compiled = False

    @property
    def required_inputs(self):
        """The graph inputs the evaluation function is fed from batches."""
        inputs = []
        if self.theano_buffer.accumulation_updates:
            inputs += self.theano_buffer.inputs
        inputs += self.monitored_quantities_buffer.inputs
        return _unique(inputs)

    def missing_sources(self, sources):
        """The names of required inputs that are not among `sources`."""
        available = set(sources)
        return [str(variable.name) for variable in self.required_inputs
                if variable.name not in available]

    def compile(self):
        """Compile the function that processes one batch (once)."""
        if not self._compiled:
            self._compile()

    def _compile(self):
        updates = list(self.theano_buffer.accumulation_updates)
        if self.updates:
            updates += (list(self.updates.items())
                        if isinstance(self.updates, Mapping)
                        else list(self.updates))
        outputs = self.monitored_quantities_buffer.requires
        self.unique_inputs = self.required_inputs
        self._input_names = [v.name for v in self.unique_inputs]

        if self.unique_inputs:
            self._accumulate_fun = function(self.unique_inputs, outputs,
                                            updates=updates,
                                            on_unused_input='ignore')
        else:
            self._accumulate_fun = None
        self._compiled = True

    def initialize_aggregators(self):
        """Reset the aggregators of variables and quantities."""
        self.theano_buffer.initialize_aggregators()
        self.monitored_quantities_buffer.initialize_quantities()

    def process_batch(self, batch):
        """Aggregate one batch.

        Parameters
        ----------
        batch : dict
            Source name -> data. Sources not needed are ignored.

        """
        self.compile()
        try:
            # Positional rather than keyword call: same values, less
            # overhead per batch.
            values = [batch[name] for name in self._input_names]
        except KeyError:
            missing = [name for name in self._input_names
                       if name not in batch]
            reraise_as(MISSING_SOURCES_MESSAGE.format(
                required=self._input_names, missing=missing))
        if self._accumulate_fun is not None:
            try:
                numerical_values = self._accumulate_fun(*values)
            except TypeError as exc:
                # Diagnosed only on failure: batches that fit pay nothing.
                error = input_mismatch_error(
                    self.unique_inputs, values, 'the monitoring evaluator')
                if error is None:
                    raise
                raise error from exc
            if self.monitored_quantities:
                self.monitored_quantities_buffer.aggregate_quantities(
                    numerical_values)

    def get_aggregated_values(self):
        """Return the aggregated values: name -> value."""
        values = self.theano_buffer.get_aggregated_values()
        values.update(
            self.monitored_quantities_buffer.get_aggregated_values())
        return values

    def evaluate(self, data_stream):
        """Compute the variables over one epoch of a data stream.

        Parameters
        ----------
        data_stream : :class:`~blocks.data.streams.AbstractDataStream`
            The data stream; one epoch is requested.

        Returns
        -------
        dict
            Variable name -> aggregated value.

        """
        self.compile()
        self.initialize_aggregators()
        if self._accumulate_fun is not None:
            for batch in data_stream.get_epoch_iterator(as_dict=True):
                self.process_batch(batch)
        else:
            logger.debug('Only data independent variables were given, '
                         'will not iterate over the data!')
        return self.get_aggregated_values()

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop('_accumulate_fun', None)
        state['_compiled'] = False
        return state
