"""Graph-level batch normalization: training mode and population updates.

A :class:`~blocks.bricks.BatchNormalization` brick applies in inference
mode (population statistics) unless it is in training mode (minibatch
statistics). Build a training graph either by applying the bricks inside
:func:`batch_normalization`, or by rewriting an inference graph with
:func:`apply_batch_normalization`; then
:func:`get_batch_normalization_updates` gives the pairs that move the
population statistics.
"""
import contextlib
from collections import OrderedDict

from pytensor.scalar.basic import Identity
from pytensor.tensor.basic import TensorFromScalar
from pytensor.tensor.elemwise import Elemwise

from blocks.roles import INPUT, OUTPUT
from blocks.utils import find_bricks

__all__ = ['apply_batch_normalization', 'batch_normalization',
           'get_batch_normalization_updates']

_NO_TRAINING_CALLS = ("no training mode BatchNormalization applications "
                      "found in graph")


@contextlib.contextmanager
def batch_normalization(*bricks):
    r"""Make all BatchNormalization bricks in `bricks` use minibatch stats.

    Parameters
    ----------
    \*bricks
        One or more bricks which will be inspected for descendant
        instances of :class:`~blocks.bricks.BatchNormalization`.

    Notes
    -----
    Graph replacement using :func:`apply_batch_normalization`, while
    elegant, can lead to Theano graphs that are quite large and result
    in very slow compiles. This provides an alternative mechanism for
    building the batch normalized training graph. It can be somewhat
    less convenient as it requires building the graph twice if one
    wishes to monitor the output of the inference graph during training.

    Examples
    --------
    First, we'll create a :class:`~blocks.bricks.BatchNormalizedMLP`.

    >>> import pytensor
    >>> from blocks.bricks import BatchNormalizedMLP, Tanh
    >>> from blocks.initialization import Constant, IsotropicGaussian
    >>> mlp = BatchNormalizedMLP([Tanh(), Tanh()], [4, 5, 6],
    ...                          weights_init=IsotropicGaussian(0.1),
    ...                          biases_init=Constant(0))
    >>> mlp.initialize()

    Now, we'll construct an output variable as we would normally. This
    is getting normalized by the *population* statistics, which by
    default are initialized to 0 (mean) and 1 (standard deviation),
    respectively.

    >>> x = pytensor.tensor.matrix()
    >>> y = mlp.apply(x)

    And now, to construct an output with batch normalization enabled,
    i.e. normalizing pre-activations using per-minibatch statistics, we
    simply make a similar call inside of a `with` statement:

    >>> with batch_normalization(mlp):
    ...     y_bn = mlp.apply(x)

    Let's verify that these two graphs behave differently on the
    same data:

    >>> import numpy
    >>> data = numpy.arange(12, dtype=pytensor.config.floatX).reshape(3, 4)
    >>> inf_y = y.eval({x: data})
    >>> trn_y = y_bn.eval({x: data})
    >>> numpy.allclose(inf_y, trn_y)
    False

    """
    from blocks.bricks.bn import BatchNormalization

    bn = find_bricks(bricks, lambda b: isinstance(b, BatchNormalization))
    entered = []
    try:
        for brick in bn:
            brick.__enter__()
            entered.append(brick)
        yield
    finally:
        for brick in entered[::-1]:
            brick.__exit__()


def _is_copy(variable):
    """Whether `variable` is the identity copy an application makes."""
    owner = variable.owner
    return owner is not None and (
        isinstance(owner.op, Elemwise) and
        isinstance(owner.op.scalar_op, Identity) or
        isinstance(owner.op, TensorFromScalar))


def _bn_calls(computation_graph, role):
    """``{application call: variable}`` for BN ``apply`` calls' `role`."""
    from blocks.bricks.bn import BatchNormalization
    from blocks.filter import VariableFilter, get_application_call

    variables = VariableFilter(bricks=[BatchNormalization], roles=[role])(
        computation_graph)
    calls = OrderedDict()
    for variable in variables:
        call = get_application_call(variable)
        if call.application.application is BatchNormalization.apply:
            calls[call] = variable
    return calls


def apply_batch_normalization(computation_graph):
    """Transform a graph into a batch-normalized training graph.

    Parameters
    ----------
    computation_graph : :class:`~blocks.graph.ComputationGraph`
        The computation graph containing
        :class:`~blocks.bricks.BatchNormalization` brick applications.

    Returns
    -------
    batch_normed_graph : :class:`~blocks.graph.ComputationGraph`
        The computation graph, with
        :class:`~blocks.bricks.BatchNormalization` applications
        transformed to use minibatch statistics instead of accumulated
        population statistics.

    See Also
    --------
    :func:`batch_normalization`, for an alternative method to produce
    batch normalized graphs.

    Notes
    -----
    Unlike the original, calls of ``mean_only`` bricks are transformed
    too (Blocks failed an assertion on them), and any number of calls
    already in training mode are skipped (Blocks raised ``RuntimeError``
    unless there was one and it came last).

    Examples
    --------
    First, we'll create a :class:`~blocks.bricks.BatchNormalizedMLP`.

    >>> import pytensor
    >>> from blocks.bricks import BatchNormalizedMLP, Tanh
    >>> from blocks.initialization import Constant, IsotropicGaussian
    >>> mlp = BatchNormalizedMLP([Tanh(), Tanh()], [4, 5, 6],
    ...                          weights_init=IsotropicGaussian(0.1),
    ...                          biases_init=Constant(0))
    >>> mlp.initialize()

    Now, we'll construct an output variable as we would normally. This
    is getting normalized by the *population* statistics, which by
    default are initialized to 0 (mean) and 1 (standard deviation),
    respectively.

    >>> x = pytensor.tensor.matrix()
    >>> y = mlp.apply(x)

    Finally, we'll create a :class:`~blocks.graph.ComputationGraph`
    and transform it to switch to minibatch standardization:

    >>> from blocks.graph import ComputationGraph
    >>> cg = apply_batch_normalization(ComputationGraph([y]))
    >>> y_bn = cg.outputs[0]

    Let's verify that these two graphs behave differently on the
    same data:

    >>> import numpy
    >>> data = numpy.arange(12, dtype=pytensor.config.floatX).reshape(3, 4)
    >>> inf_y = y.eval({x: data})
    >>> trn_y = y_bn.eval({x: data})
    >>> numpy.allclose(inf_y, trn_y)
    False

    """
    from blocks.filter import get_application_call

    inputs = _bn_calls(computation_graph, INPUT)
    outputs = _bn_calls(computation_graph, OUTPUT)
    replacements = []
    for call, old_output in outputs.items():
        if call.metadata['training_mode']:
            continue
        input_ = inputs[call]
        # Get rid of the copy made on the way into the original apply.
        unpacked = input_.owner.inputs[0] if _is_copy(input_) else input_
        brick = call.application.brick
        with brick:
            new_output = brick.apply(unpacked)
        assert get_application_call(new_output).metadata['training_mode']
        replacements.append((old_output, new_output))
    return computation_graph.replace(replacements)


def get_batch_normalization_updates(training_graph, allow_duplicates=False):
    """Extract correspondences for learning BN population statistics.

    Parameters
    ----------
    training_graph : :class:`~blocks.graph.ComputationGraph`
        A graph of expressions wherein "training mode" batch normalization
        is taking place.
    allow_duplicates : bool, optional
        If `True`, allow multiple training-mode application calls from the
        same :class:`~blocks.bricks.BatchNormalization` instance, and
        return pairs corresponding to all of them. It's then the user's
        responsibility to do something sensible to resolve the duplicates.

    Returns
    -------
    update_pairs : list of tuples
        A list of 2-tuples where the first element of each tuple is the
        shared variable containing a "population" mean or standard
        deviation, and the second is a PyTensor variable for the
        corresponding statistics on a minibatch. Note that multiple
        applications of a single :class:`blocks.bricks.BatchNormalization`
        may appear in the graph, and therefore (if `allow_duplicates` is
        True) a single population variable may map to several different
        minibatch variables, and appear multiple times in this mapping.
        This can happen in recurrent models, siamese networks or other
        models that reuse pathways.

    Notes
    -----
    Used in their raw form, these updates will simply overwrite the
    population statistics with the minibatch statistics at every gradient
    step. You will probably want to transform these pairs into something
    more sensible, such as keeping a moving average of minibatch values,
    or accumulating an average over the entire training set once every few
    epochs.

    """
    calls = [call for call in _bn_calls(training_graph, OUTPUT)
             if call.metadata.get('training_mode', False)]
    if not calls:
        raise ValueError(_NO_TRAINING_CALLS)
    bricks = [call.application.brick for call in calls]
    if not allow_duplicates and len({id(b) for b in bricks}) < len(bricks):
        twice = sorted({b.name for b in bricks if bricks.count(b) > 1})
        raise ValueError(
            f"multiple applications of the same BatchNormalization brick "
            f"({', '.join(twice)}); pass allow_duplicates=True to "
            f"override this check")
    mean_updates = [(call.application.brick.population_mean,
                     call.metadata['offset']) for call in calls]
    stdev_updates = [(call.application.brick.population_stdev,
                      call.metadata['divisor']) for call in calls
                     if not call.application.brick.mean_only]
    return mean_updates + stdev_updates

