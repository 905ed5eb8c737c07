"""Gradient descent with a pluggable step rule."""
import logging
from collections import OrderedDict
from collections.abc import Mapping
from itertools import chain

import pytensor
from pytensor.gradient import DisconnectedInputError

from blocks.algorithms.base import UpdatesAlgorithm, determinism_error
from blocks.algorithms.step_rules import Scale
from blocks.theano_expressions import l2_norm

logger = logging.getLogger(__name__)

__all__ = ['GradientDescent']

disconnected_parameter_error = """

The cost does not depend on the parameter {parameter!r} (index {index} in \
the list of parameters), or depends on it only through a non-differentiable \
operation, so it has no gradient. Remove it from `parameters`, or build the \
cost from it (e.g. use the output of the brick that owns it)."""

non_scalar_cost_error = """\
The cost must be a scalar, got a {ndim}-dimensional variable {cost!r} of \
type {type}. Reduce it to a scalar before training, \
e.g. with `cost.mean()` or `cost.sum()`."""


class GradientDescent(UpdatesAlgorithm):
    """A base class for all gradient descent algorithms.

    By "gradient descent" we mean a training algorithm of the following
    form:

    .. code-block::  python

        for batch in data:
            steps = step_rule.compute_steps(parameters,
                                            gradients_wr_parameters)
            for parameter in parameters:
                parameter -= steps[parameter]

    Note, that the step is *subtracted, not added*! This is done in order
    to make step rule chaining possible.

    Parameters
    ----------
    cost : :class:`~tensor.TensorVariable`, optional
        The objective to be minimized. Unused if `gradients` is specified.
    parameters : list of :class:`~tensor.TensorSharedVariable`, optional
        The parameters to be tuned. If not provided, inferred from the
        keys of `gradients` (in which case `gradients` *must* be an
        `OrderedDict`).
    step_rule : instance of :class:`StepRule`, optional
        An object encapsulating most of the algorithm's logic. Its
        `compute_steps` method is called to get PyTensor expression for
        steps.  Note, that the step rule might have a state, e.g. to
        remember a weighted sum of gradients from previous steps like it is
        done in gradient descent with momentum. If ``None``, an instance of
        :class:`Scale` is created.
    gradients : OrderedDict or list of 2-tuples, optional
        A dictionary mapping a parameter to an expression for the cost's
        gradient with respect to the parameter, or equivalently, a list of
        (parameter, gradient) tuples. If ``None``, the gradient are taken
        automatically using :func:`pytensor.gradient.grad`.
    known_grads : dict, optional
        A passthrough to `pytensor.grad`'s `known_grads` argument. Useful
        when you know the [approximate] gradients of some
        sub-expressions and would like PyTensor to use that information
        to compute parameter gradients. Only makes sense when `gradients`
        is `None`.
    consider_constant : list, optional
        A passthrough to `pytensor.grad`'s `consider_constant` argument.  A
        list of expressions through which gradients will not be
        backpropagated. Only makes sense when `gradients` is `None`.

    Attributes
    ----------
    gradients : OrderedDict
        The gradient dictionary.
    step_rule : instance of :class:`StepRule`
        The step rule.
    steps : OrderedDict
        The steps the step rule computes, by parameter.
    step_rule_updates : list
        The updates of the step rule's state (its buffers).
    total_gradient_norm : :class:`~tensor.TensorVariable`
        The L2 norm of all the gradients, handy to monitor.
    total_step_norm : :class:`~tensor.TensorVariable`
        The L2 norm of all the steps, handy to monitor.

    Notes
    -----
    Changing hyperparameters of the step rule (the shared variables of
    the step rule) takes effect immediately; changing `updates` after
    :meth:`initialize` has no effect.

    The state of the step rule (buffers and hyperparameters) is listed by
    :attr:`~UpdatesAlgorithm.state_variables`.

    Examples
    --------
    >>> import numpy
    >>> from pytensor import tensor
    >>> from blocks.utils import shared_floatx
    >>> w = shared_floatx(numpy.zeros(2), name='w')
    >>> x = tensor.vector('x')
    >>> algorithm = GradientDescent(cost=((w - x) ** 2).sum(),
    ...                             parameters=[w], step_rule=Scale(0.25))
    >>> algorithm.initialize()
    >>> algorithm.process_batch({'x': numpy.ones(2)})
    >>> w.get_value()
    array([0.5, 0.5])

    """

    def __init__(self, cost=None, parameters=None, step_rule=None,
                 gradients=None, known_grads=None, consider_constant=None,
                 **kwargs):
        # Set initial values for cost, parameters, gradients.
        self.cost = cost
        self.parameters = parameters
        # Coerce lists of tuples to OrderedDict. Do not coerce Mappings,
        # as we don't want to convert dict -> OrderedDict and give it
        # an arbitrary, non-deterministic order.
        if gradients is not None and not isinstance(gradients, Mapping):
            gradients = OrderedDict(gradients)
        self.gradients = gradients

        # If we don't have gradients, we'll need to infer them from the
        # cost and the parameters, both of which must not be None.
        if not self.gradients:
            self.gradients = self._compute_gradients(known_grads,
                                                     consider_constant)
        else:
            if cost is not None:
                logger.warning(f"{self.__class__.__name__}: gradients "
                               f"already specified directly; cost is unused.")
            if self.parameters is None and isinstance(gradients, OrderedDict):
                # If the dictionary is ordered, it's safe to use the keys
                # as they have a deterministic order.
                self.parameters = list(self.gradients.keys())
            elif self.parameters is not None:
                # If parameters and gradients.keys() don't match we can
                # try to recover if gradients is ordered.
                if set(self.parameters) != set(self.gradients.keys()):
                    logger.warning(
                        "Specified parameters list does not match keys in "
                        "provided gradient dictionary; using parameters "
                        "inferred from gradients")
                    if not isinstance(self.gradients, OrderedDict):
                        raise ValueError(determinism_error)
                    self.parameters = list(self.gradients.keys())
            else:
                # self.parameters is None, and gradients isn't an
                # OrderedDict. We can't do anything safe.
                raise ValueError(determinism_error)
            if known_grads:
                raise ValueError("known_grads has no effect when gradients "
                                 "are passed in")
            if consider_constant is not None:
                raise ValueError("consider_constant has no effect when "
                                 "gradients are passed in")

        # The order in which the different gradient terms appears
        # here matters, as floating point addition is non-commutative (and
        # PyTensor's graph optimizations are not order-independent).
        # This is why we do not use .values().
        gradient_values = [self.gradients[p] for p in self.parameters]
        self.total_gradient_norm = (l2_norm(gradient_values)
                                    .copy(name="total_gradient_norm"))

        self.step_rule = step_rule if step_rule else Scale()
        logger.debug("Computing parameter steps...")
        self.steps, self.step_rule_updates = (
            self.step_rule.compute_steps(self.gradients))

        # Same as gradient_values above: the order may influence a
        # bunch of things, so enforce a consistent one (don't use
        # .values()).
        step_values = [self.steps[p] for p in self.parameters]
        self.total_step_norm = (l2_norm(step_values)
                                .copy(name="total_step_norm"))

        # Once again, iterating on gradients may not be deterministically
        # ordered if it is not an OrderedDict. We add the updates here in
        # the order specified in self.parameters. Keep it this way to
        # maintain reproducibility.
        kwargs.setdefault('updates', []).extend(
            chain(((parameter, parameter - self.steps[parameter])
                   for parameter in self.parameters),
                  self.step_rule_updates)
        )
        super().__init__(**kwargs)

    def _compute_gradients(self, known_grads, consider_constant):
        if self.cost is None:
            raise ValueError("can't infer gradients; no cost specified")
        elif self.parameters is None or len(self.parameters) == 0:
            raise ValueError("can't infer gradients; no parameters "
                             "specified")
        cost_ndim = getattr(self.cost, 'ndim', None)
        if cost_ndim != 0:
            raise TypeError(non_scalar_cost_error.format(
                ndim=cost_ndim, cost=self.cost, type=type(self.cost).__name__))
        # While this strictly speaking could be a dict and not an
        # OrderedDict (because we iterate over it in the order of
        # self.parameters), this guards a little bit against
        # nondeterminism introduced by future refactoring.
        logger.info("Taking the cost gradient")
        try:
            gradients = pytensor.grad(
                self.cost, self.parameters,
                known_grads=known_grads, consider_constant=consider_constant)
        except DisconnectedInputError as exc:
            parameter, index = self._find_disconnected(known_grads,
                                                       consider_constant)
            if parameter is None:
                raise
            raise DisconnectedInputError(disconnected_parameter_error.format(
                parameter=str(parameter), index=index)) from exc
        logger.info("The cost gradient computation graph is built")
        return OrderedDict(zip(self.parameters, gradients, strict=True))

    def _find_disconnected(self, known_grads, consider_constant):
        """The first parameter the cost has no gradient for, and its index."""
        gradients = pytensor.grad(
            self.cost, self.parameters, known_grads=known_grads,
            consider_constant=consider_constant,
            disconnected_inputs='ignore', return_disconnected='none')
        for index, (parameter, gradient) in enumerate(
                zip(self.parameters, gradients, strict=True)):
            if gradient is None:
                return parameter, index
        return None, None
