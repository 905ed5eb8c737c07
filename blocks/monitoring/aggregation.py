"""Turn batch-level quantities into dataset-level ones.

A monitored variable is computed on one batch at a time. Its *aggregation
scheme*, stored in ``variable.tag.aggregation_scheme``, says how the values
of many batches combine into one: the mean over batches, the last value,
the minimum, and so on. A scheme builds an :class:`Aggregator`: shared
accumulators with the updates that reset them and the updates that fold one
more batch into them, plus a readout expression over shared variables and
constants only, so that the aggregate can be read without any data.

Quantities that PyTensor can not compute (an edit distance in Python, say)
are :class:`MonitoredQuantity` objects, which aggregate numpy values.

Examples
--------
The mean over batches of ``cost``, weighted by the batch sizes when
``cost`` is the sum of per-example costs:

>>> import pytensor.tensor as pt
>>> x = pt.vector('x')
>>> total = x.sum()
>>> total.name = 'cost'
>>> cost = mean(total, x.shape[0])
>>> cost.name, type(cost.tag.aggregation_scheme).__name__
('cost', 'Mean')

"""
from abc import ABCMeta, abstractmethod
from functools import partial

from pytensor import tensor
from pytensor.ifelse import ifelse
from pytensor.raise_op import Assert

from blocks.utils.theano_utils import shared_like

__all__ = ['AggregationScheme', 'Aggregator', 'Mean', 'Perplexity',
           'TakeLast', 'Minimum', 'Maximum', 'Concatenate',
           'MonitoredQuantity', 'mean', 'perplexity', 'take_last', 'minimum',
           'maximum', 'concatenate']

SHAPE_CHANGED_MESSAGE = (
    "{scheme} aggregation of {name!r} combines the values of all batches "
    "element by element, so the value must have the same shape on every "
    "batch, but this batch gave a value of a different shape than the "
    "previous ones (typically a per-example quantity whose length follows "
    "the batch size, with a smaller last batch). Monitor a scalar instead "
    "(e.g. `cost.mean()`, or `mean(cost.sum(), batch_size)` for a mean "
    "weighted by batch size), or aggregate by `concatenate(variable)`.")


class AggregationScheme(metaclass=ABCMeta):
    """How to incrementally evaluate a PyTensor variable over many batches.

    An aggregation scheme is associated with a variable via
    ``variable.tag.aggregation_scheme``. It builds an :class:`Aggregator`
    for that variable.

    Parameters
    ----------
    variable : :class:`~pytensor.graph.basic.Variable`
        The variable that holds the desired value on a single batch.

    """

    def __init__(self, variable):
        self.variable = variable

    @abstractmethod
    def get_aggregator(self):
        """Return a new :class:`Aggregator` for this variable."""


class Aggregator:
    """The shared state and updates that aggregate one variable.

    A plain record created by :meth:`AggregationScheme.get_aggregator`.

    Parameters
    ----------
    aggregation_scheme : :class:`AggregationScheme`
        The scheme that built this aggregator.
    initialization_updates : list of (shared, expression) pairs
        Updates that reset the accumulators. Defaults to ``[]``.
    accumulation_updates : list of (shared, expression) pairs
        Updates that fold one more batch into the accumulators; they are
        computed by the function that processes the batch. Defaults to
        ``[]``.
    readout_variable : :class:`~pytensor.graph.basic.Variable`
        The aggregated value, an expression of shared variables and
        constants only.

    """

    def __init__(self, aggregation_scheme, initialization_updates=None,
                 accumulation_updates=None, readout_variable=None):
        self.aggregation_scheme = aggregation_scheme
        self.readout_variable = readout_variable
        if initialization_updates is None:
            initialization_updates = []
        if accumulation_updates is None:
            accumulation_updates = []
        self.initialization_updates = initialization_updates
        self.accumulation_updates = accumulation_updates


def _check_same_shape(value, accumulated, initialized, scheme, name):
    """`value`, failing clearly if its shape differs from the accumulator's.

    A shape mismatch can only come from a non-scalar; the accumulator of a
    non-scalar starts empty-shaped, so it is compared only once
    `initialized`. The check is on `value`, outside any ``ifelse`` branch:
    it reads no more than the accumulator's shape.
    """
    if value.ndim == 0:
        return value
    same_shape = tensor.or_(
        tensor.eq(initialized, 0),
        tensor.all(tensor.eq(accumulated.shape, value.shape)))
    message = SHAPE_CHANGED_MESSAGE.format(
        scheme=scheme, name=name or 'a monitored variable')
    return Assert(message)(value, same_shape)


def _if_initialized(initialized, accumulated, fresh):
    """`accumulated` once `initialized`, else `fresh`.

    A lazy ``ifelse`` in general: the accumulator of a non-scalar starts
    empty-shaped, so the branch that reads it must not be evaluated on the
    first batch (an elementwise ``switch`` would evaluate both). Scalar
    accumulators always hold a valid value, and a ``switch`` keeps the
    function that processes batches (often the training function) free of
    lazy operations, so that PyTensor runs it with its non-lazy loop.
    """
    if accumulated.ndim == 0 and fresh.ndim == 0:
        return tensor.switch(initialized, accumulated, fresh)
    return ifelse(initialized, accumulated, fresh)


class Mean(AggregationScheme):
    """Aggregate the ratio of two sums over batches.

    The aggregate is the sum of `numerator` over all batches divided by the
    sum of `denominator` over all batches: with the number of examples as
    the denominator this is the mean over examples, correctly weighted when
    batches differ in size.

    Parameters
    ----------
    numerator : :class:`~pytensor.graph.basic.Variable`
        The variable summed over batches for the numerator.
    denominator : :class:`~pytensor.graph.basic.Variable` or number
        The variable summed over batches for the denominator.

    """

    def __init__(self, numerator, denominator):
        # No `AggregationScheme.__init__`: a mean has no single `variable`.
        self.numerator = numerator
        self.denominator = denominator

    def get_aggregator(self):
        initialized = shared_like(0.)
        numerator_acc = shared_like(self.numerator)
        denominator_acc = shared_like(self.denominator)

        numerator = tensor.as_tensor_variable(self.numerator)
        denominator = tensor.as_tensor_variable(self.denominator)
        name = getattr(self.numerator, 'name', None)
        scheme = type(self).__name__
        numerator = _check_same_shape(numerator, numerator_acc, initialized,
                                      scheme, name)
        denominator = _check_same_shape(denominator, denominator_acc,
                                        initialized, scheme, name)
        conditional_update_num = numerator + _if_initialized(
            initialized, numerator_acc, tensor.zeros_like(numerator))
        conditional_update_den = denominator + _if_initialized(
            initialized, denominator_acc, tensor.zeros_like(denominator))

        initialization_updates = [
            (numerator_acc, tensor.zeros_like(numerator_acc)),
            (denominator_acc, tensor.zeros_like(denominator_acc)),
            (initialized, tensor.zeros_like(initialized))]
        accumulation_updates = [
            (numerator_acc, conditional_update_num),
            (denominator_acc, conditional_update_den),
            (initialized, tensor.ones_like(initialized))]
        return Aggregator(aggregation_scheme=self,
                          initialization_updates=initialization_updates,
                          accumulation_updates=accumulation_updates,
                          readout_variable=self._readout(numerator_acc,
                                                         denominator_acc))

    def _readout(self, numerator_acc, denominator_acc):
        return numerator_acc / denominator_acc


class Perplexity(Mean):
    """Aggregate ``exp(-sum(log_likelihood) / sum(n_examples))``.

    Parameters
    ----------
    log_likelihood : :class:`~pytensor.graph.basic.Variable`
        The log-likelihood summed over the examples of a batch.
    n_examples : :class:`~pytensor.graph.basic.Variable` or number
        The number of examples in a batch.

    """

    def __init__(self, log_likelihood, n_examples):
        super().__init__(log_likelihood, n_examples)

    def _readout(self, numerator_acc, denominator_acc):
        return tensor.exp(-numerator_acc / denominator_acc)


def mean(numerator, denominator=1.):
    """The ratio of `numerator` and `denominator`, aggregated as a mean.

    Parameters
    ----------
    numerator : :class:`~pytensor.graph.basic.Variable`
        Summed over batches.
    denominator : :class:`~pytensor.graph.basic.Variable` or number
        Summed over batches. Defaults to ``1.``, the plain mean over
        batches.

    Returns
    -------
    :class:`~pytensor.graph.basic.Variable`
        ``numerator / denominator``, named like `numerator`, with a
        :class:`Mean` aggregation scheme.

    """
    variable = numerator / denominator
    variable.tag.aggregation_scheme = Mean(numerator, denominator)
    variable.name = numerator.name
    return variable


def perplexity(log_likelihood, n_examples):
    """The perplexity ``exp(-log_likelihood / n_examples)``, aggregated.

    Returns
    -------
    :class:`~pytensor.graph.basic.Variable`
        Named ``'perplexity'``, with a :class:`Perplexity` aggregation
        scheme.

    """
    variable = tensor.exp(-log_likelihood / n_examples)
    variable.tag.aggregation_scheme = Perplexity(log_likelihood, n_examples)
    variable.name = 'perplexity'
    return variable


class _DataIndependent(AggregationScheme):
    """Dummy aggregation scheme for variables that do not depend on data."""

    def get_aggregator(self):
        return Aggregator(aggregation_scheme=self,
                          initialization_updates=[],
                          accumulation_updates=[],
                          readout_variable=self.variable)


class TakeLast(AggregationScheme):
    """Aggregate to the value of the variable on the last batch.

    Attributes
    ----------
    storage : :class:`~pytensor.compile.sharedvalue.SharedVariable`
        Holds the last value; created by :meth:`get_aggregator`.

    """

    def get_aggregator(self):
        self.storage = shared_like(self.variable)
        return Aggregator(aggregation_scheme=self,
                          initialization_updates=[
                              (self.storage,
                               tensor.zeros_like(self.storage))],
                          accumulation_updates=[(self.storage,
                                                 self.variable)],
                          readout_variable=self.storage)


def _simple_aggregation(scheme, variable):
    variable = variable.copy(variable.name)
    variable.tag.aggregation_scheme = scheme(variable)
    return variable


take_last = partial(_simple_aggregation, TakeLast)
take_last.__doc__ = """A copy of `variable` aggregated by :class:`TakeLast`."""


class Minimum(AggregationScheme):
    """Aggregate to the (elementwise) minimum over batches."""

    def _build_aggregator(self, accumulate_update, initialized=None):
        if initialized is None:
            initialized = shared_like(0.)
        accumulate = _if_initialized(initialized, accumulate_update,
                                     self.variable)
        return Aggregator(aggregation_scheme=self,
                          initialization_updates=[
                              (self.storage,
                               tensor.zeros_like(self.storage)),
                              (initialized, tensor.zeros_like(initialized))],
                          accumulation_updates=[
                              (self.storage, accumulate),
                              (initialized, tensor.ones_like(initialized))],
                          readout_variable=self.storage)

    def _elementwise_aggregator(self, combine):
        self.storage = shared_like(self.variable)
        initialized = shared_like(0.)
        value = _check_same_shape(self.variable, self.storage, initialized,
                                  type(self).__name__, self.variable.name)
        return self._build_aggregator(combine(self.storage, value),
                                      initialized)

    def get_aggregator(self):
        return self._elementwise_aggregator(tensor.minimum)


minimum = partial(_simple_aggregation, Minimum)
minimum.__doc__ = """A copy of `variable` aggregated by :class:`Minimum`."""


class Maximum(Minimum):
    """Aggregate to the (elementwise) maximum over batches."""

    def get_aggregator(self):
        return self._elementwise_aggregator(tensor.maximum)


maximum = partial(_simple_aggregation, Maximum)
maximum.__doc__ = """A copy of `variable` aggregated by :class:`Maximum`."""


class Concatenate(Minimum):
    """Aggregate by concatenating the values of all batches.

    The variable gets a new leading axis of length 1 (of unknown static
    length, so that it can be concatenated); the aggregate stacks the
    batches' values along that axis.

    """

    def __init__(self, variable):
        padded = tensor.shape_padleft(variable, 1)
        # PyTensor has no `unbroadcast`: reshaping with a symbolic shape
        # gives the new axis an unknown static length, which the
        # accumulator (of shape ``(?, ...)``) needs to match.
        padded = tensor.reshape(
            padded, tensor.concatenate([[-1], tensor.shape(variable)]),
            ndim=variable.ndim + 1)
        super().__init__(padded.copy(variable.name))

    def get_aggregator(self):
        self.storage = shared_like(self.variable)
        return self._build_aggregator(tensor.concatenate([self.storage,
                                                          self.variable]))


concatenate = partial(_simple_aggregation, Concatenate)
concatenate.__doc__ = (
    """A copy of `variable` aggregated by :class:`Concatenate`.""")


class MonitoredQuantity(metaclass=ABCMeta):
    """A quantity monitored in Python, from numpy values.

    Use it for statistics that PyTensor can not compute, e.g. an edit
    distance. The monitoring extensions compute the variables in
    :attr:`requires` on every batch and pass their values to
    :meth:`aggregate`.

    Parameters
    ----------
    requires : list of :class:`~pytensor.graph.basic.Variable`
        The graph variables whose values :meth:`aggregate` receives, in
        this order. Defaults to ``[]``.
    name : str
        The name of the quantity, used as its log record name.

    Notes
    -----
    Use one instance per monitoring extension: the instance holds the
    aggregation state.

    Examples
    --------
    The fraction of exactly reproduced sequences, computed in Python:

    >>> import numpy
    >>> class ExactMatch(MonitoredQuantity):
    ...     def initialize(self):
    ...         self.matches, self.total = 0, 0
    ...     def aggregate(self, predicted, target):
    ...         same = numpy.all(predicted == target, axis=1)
    ...         self.matches += int(same.sum())
    ...         self.total += len(target)
    ...     def get_aggregated_value(self):
    ...         return self.matches / self.total
    >>> quantity = ExactMatch(requires=[], name='exact_match')
    >>> quantity.initialize()
    >>> quantity.aggregate(numpy.array([[1, 2], [3, 4]]),
    ...                    numpy.array([[1, 2], [3, 5]]))
    >>> quantity.get_aggregated_value()
    0.5

    """

    def __init__(self, requires=None, name=None):
        if requires is None:
            requires = []
        self.requires = requires
        self.name = name

    @abstractmethod
    def initialize(self):
        """Initialize accumulators for this monitored quantity."""

    @abstractmethod
    def aggregate(self, *args):
        r"""Aggregate the values of :attr:`requires` on one batch.

        Parameters
        ----------
        \*args : :class:`~numpy.ndarray`
            The values of the variables in :attr:`requires`, in order.

        """

    @abstractmethod
    def get_aggregated_value(self):
        """Return the value aggregated since :meth:`initialize`."""
