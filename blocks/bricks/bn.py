"""Batch normalization bricks.

A :class:`BatchNormalization` brick normalizes by its population statistics
(inference mode, the default) or, inside ``with brick:`` or
:func:`blocks.graph.batch_normalization`, by the statistics of the
minibatch (training mode). The population statistics are shared variables
that training does not learn by gradient: see
:func:`blocks.graph.get_batch_normalization_updates`.
"""
from collections.abc import Sequence as SequenceABC

import numpy
from pytensor import config, tensor

from blocks.bricks.base import _describe, application, lazy
from blocks.bricks.interfaces import Feedforward, RNGMixin
from blocks.bricks.sequences import MLP, Sequence
from blocks.graph.annotations import add_annotation
from blocks.initialization import Constant
from blocks.ops import batch_normalization
from blocks.roles import (
    BATCH_NORM_DIVISOR,
    BATCH_NORM_MINIBATCH_ESTIMATE,
    BATCH_NORM_OFFSET,
    BATCH_NORM_POPULATION_MEAN,
    BATCH_NORM_POPULATION_STDEV,
    BATCH_NORM_SCALE_PARAMETER,
    BATCH_NORM_SHIFT_PARAMETER,
    add_role,
)
from blocks.utils import is_shared_variable, shared_floatx

__all__ = ['BatchNormalization', 'BatchNormalizedMLP',
           'SpatialBatchNormalization']


def _add_batch_axis(var):
    """Prepend a broadcastable batch axis to a variable."""
    new_var = tensor.shape_padleft(var)
    new_var.name = f'shape_padleft({var.name})'
    return new_var


def _add_role_and_annotate(var, role, annotations=()):
    """Add a role and zero or more annotations to a variable."""
    add_role(var, role)
    for annotation in annotations:
        add_annotation(var, annotation)


class BatchNormalization(RNGMixin, Feedforward):
    r"""Normalizes activations, parameterizes a scale and shift.

    Parameters
    ----------
    input_dim : int or tuple
        Shape of a single input example. It is assumed that a batch axis
        will be prepended to this.
    broadcastable : tuple, optional
        Tuple of the same length as `input_dim` which specifies which of
        the per-example axes should be averaged over to compute means and
        standard deviations. For example, in order to normalize over all
        spatial locations in a `(batch_index, channels, height, width)`
        image, pass `(False, True, True)`. The batch axis is always
        averaged out.
    conserve_memory : bool, optional
        Use an implementation that stores less intermediate state and
        therefore uses less memory, at the expense of 5-10% speed. Default
        is `True`.
    epsilon : float, optional
        The stabilizing constant for the minibatch standard deviation
        computation (when the brick is run in training mode).
        Added to the variance inside the square root, as in the
        batch normalization paper.
    scale_init : object, optional
        Initialization object to use for the learned scaling parameter
        (gamma in [BN]_). By default, uses constant initialization
        of 1.
    shift_init : object, optional
        Initialization object to use for the learned shift parameter
        (beta in [BN]_). By default, uses constant initialization of 0.
    mean_only : bool, optional
        Perform "mean-only" batch normalization as described in [SK2016]_.
    learn_scale : bool, optional
        Whether to include a learned scale parameter (gamma in [BN]_)
        in this brick. Default is `True`. Has no effect if `mean_only` is
        `True` (i.e. a scale parameter is never learned in mean-only mode).
    learn_shift : bool, optional
        Whether to include a learned shift parameter (beta in [BN]_)
        in this brick. Default is `True`.

    Notes
    -----
    In order for trained models to behave sensibly immediately upon
    deserialization, by default, this brick runs in *inference* mode,
    using a population mean and population standard deviation (initialized
    to zeros and ones respectively) to normalize activations. It is
    expected that the user will adapt these during training in some
    fashion, independently of the training objective, e.g. by taking a
    moving average of minibatch-wise statistics.

    In order to *train* with batch normalization, one must obtain a
    training graph by transforming the original inference graph. See
    :func:`~blocks.graph.apply_batch_normalization` for a routine to
    transform graphs, and :func:`~blocks.graph.batch_normalization`
    for a context manager that may enable shorter compile times
    (every instance of :class:`BatchNormalization` is itself a context
    manager, entry into which causes applications to be in minibatch
    "training" mode, however it is usually more convenient to use
    :func:`~blocks.graph.batch_normalization` to enable this behaviour
    for all of your graph's :class:`BatchNormalization` bricks at once).

    Note that training in inference mode should be avoided, as this
    brick introduces scales and shift parameters (tagged with the
    `PARAMETER` role) that, in the absence of batch normalization,
    usually makes things unstable. If you must do this, filter for and
    remove `BATCH_NORM_SHIFT_PARAMETER` and `BATCH_NORM_SCALE_PARAMETER`
    from the list of parameters you are training, and this brick should
    behave as a (somewhat expensive) no-op.

    This Brick accepts `scale_init` and `shift_init` arguments but is
    *not* an instance of :class:`~blocks.bricks.Initializable`, and will
    therefore not receive pushed initialization config from any parent
    brick. In almost all cases, you will probably want to stick with the
    defaults (unit scale and zero offset), but you can explicitly pass one
    or both initializers to override this.

    This has the necessary properties to be inserted into a
    :class:`blocks.bricks.conv.ConvolutionalSequence` as-is, in which case
    the `input_dim` should be omitted at construction, to be inferred from
    the layer below.

    .. [BN] Sergey Ioffe and Christian Szegedy. *Batch normalization:
       accelerating deep network training by reducing internal covariate
       shift*. ICML (2015), pp. 448-456.

    .. [SK2016] Tim Salimans and Diederik P. Kingma. *Weight
       normalization: a simple reparameterization to accelerate training
       of deep neural networks*. arXiv 1602.07868.

    Examples
    --------
    >>> import numpy, pytensor.tensor as pt
    >>> brick = BatchNormalization(input_dim=3)
    >>> brick.initialize()
    >>> x = pt.matrix('x')
    >>> with brick:  # training mode: the minibatch statistics
    ...     y = brick.apply(x)
    >>> value = numpy.array([[1., 2., 3.], [3., 6., 9.]])
    >>> y.eval({x: value}).round(2)
    array([[-1., -1., -1.],
           [ 1.,  1.,  1.]])

    """

    @lazy(allocation=['input_dim'])
    def __init__(self, input_dim, broadcastable=None,
                 conserve_memory=True, epsilon=1e-4, scale_init=None,
                 shift_init=None, mean_only=False, learn_scale=True,
                 learn_shift=True, **kwargs):
        self.input_dim = input_dim
        self.broadcastable = broadcastable
        self.conserve_memory = conserve_memory
        self.epsilon = epsilon
        self.scale_init = (Constant(1) if scale_init is None
                           else scale_init)
        self.shift_init = (Constant(0) if shift_init is None
                           else shift_init)
        self.mean_only = mean_only
        self.learn_scale = learn_scale
        self.learn_shift = learn_shift
        self._training_mode = []
        super().__init__(**kwargs)

    @application(inputs=['input_'], outputs=['output'])
    def apply(self, input_, application_call):
        if input_.ndim != len(self.population_mean.type.shape) + 1:
            raise ValueError(
                f"{_describe(self)} has input_dim={self.input_dim}, so it "
                f"expects {len(self.population_mean.type.shape) + 1}-d "
                f"inputs (a batch axis first), got a {input_.ndim}-d "
                f"{input_.type}")
        if self._training_mode:
            mean, stdev = self._compute_training_statistics(input_)
        else:
            mean, stdev = self._prepare_population_statistics()
        # Useful for filtration of calls that were already made in
        # training mode when doing graph transformations. Cast to bool:
        # _training_mode is a list (for nested context managers) that
        # would otherwise be shared and mutated later.
        application_call.metadata['training_mode'] = bool(
            self._training_mode)
        # For the population-statistic updates: without the batch axis,
        # the same shape as the population shared variables.
        application_call.metadata['offset'] = mean[0]
        application_call.metadata['divisor'] = stdev[0]
        _add_role_and_annotate(mean, BATCH_NORM_OFFSET,
                               [self, application_call])
        if self.mean_only:
            scale = tensor.ones_like(self.shift)
            stdev = tensor.ones_like(mean)
        else:
            scale = self.scale
            # The role is useless on a constant.
            _add_role_and_annotate(stdev, BATCH_NORM_DIVISOR,
                                   [self, application_call])
        shift = _add_batch_axis(self.shift)
        scale = _add_batch_axis(scale)
        return batch_normalization(
            input_, scale, shift, mean, stdev,
            mode=('low_mem' if self.conserve_memory else 'high_mem'))

    def __enter__(self):
        self._training_mode.append(True)

    def __exit__(self, *exc_info):
        self._training_mode.pop()

    def _compute_training_statistics(self, input_):
        axes = (0,) + tuple((i + 1) for i, b in
                            enumerate(self.population_mean.broadcastable)
                            if b)
        mean = input_.mean(axis=axes, keepdims=True)
        assert mean.broadcastable[1:] == self.population_mean.broadcastable
        add_role(mean, BATCH_NORM_MINIBATCH_ESTIMATE)
        if self.mean_only:
            stdev = tensor.ones_like(mean)
        else:
            stdev = tensor.sqrt(
                tensor.var(input_, axis=axes, keepdims=True) +
                numpy.asarray(self.epsilon, dtype=config.floatX))
            assert (stdev.broadcastable[1:] ==
                    self.population_stdev.broadcastable)
            add_role(stdev, BATCH_NORM_MINIBATCH_ESTIMATE)
        return mean, stdev

    def _prepare_population_statistics(self):
        mean = _add_batch_axis(self.population_mean)
        if self.mean_only:
            stdev = tensor.ones_like(self.population_mean)
        else:
            stdev = self.population_stdev
        stdev = _add_batch_axis(stdev)
        return mean, stdev

    def _allocate(self):
        self._missing_config('allocation', ['input_dim'], None,
                             none_too=True)
        input_dim = ((self.input_dim,)
                     if not isinstance(self.input_dim, SequenceABC)
                     else tuple(self.input_dim))
        broadcastable = (tuple(False for _ in input_dim)
                         if self.broadcastable is None
                         else tuple(self.broadcastable))
        if len(input_dim) != len(broadcastable):
            raise ValueError(
                f"input_dim and broadcastable must be same length: "
                f"{_describe(self)} has input_dim={input_dim} and "
                f"broadcastable={broadcastable}")
        var_dim = tuple(1 if broadcast else dim for dim, broadcast in
                        zip(input_dim, broadcastable, strict=True))
        if None in var_dim:
            raise ValueError(
                f"{_describe(self)} needs every size of input_dim that is "
                f"not averaged over, got input_dim={input_dim} with "
                f"broadcastable={broadcastable}")
        # Static size 1 on averaged axes: PyTensor's broadcastable.
        shape = tuple(1 if b else None for b in broadcastable)

        # "beta", from the Ioffe & Szegedy manuscript.
        if self.learn_shift:
            self.shift = shared_floatx(numpy.full(var_dim, numpy.nan),
                                       name='batch_norm_shift', shape=shape)
            add_role(self.shift, BATCH_NORM_SHIFT_PARAMETER)
            self.parameters.append(self.shift)
        else:
            self.shift = tensor.constant(0, dtype=config.floatX)

        if self.learn_scale and not self.mean_only:
            # "gamma", from the Ioffe & Szegedy manuscript.
            self.scale = shared_floatx(numpy.full(var_dim, numpy.nan),
                                       name='batch_norm_scale', shape=shape)
            add_role(self.scale, BATCH_NORM_SCALE_PARAMETER)
            self.parameters.append(self.scale)
        else:
            self.scale = tensor.constant(1., dtype=config.floatX)

        self._allocate_population_statistics(var_dim, shape)

    def _allocate_population_statistics(self, var_dim, shape):
        def _allocate_buffer(name, role, value):
            # These aren't technically parameters, in that they should not
            # be learned using the same cost function as other model
            # parameters.
            population_buffer = shared_floatx(value, name=name, shape=shape)
            add_role(population_buffer, role)
            # Normally these would get annotated by an AnnotatingList, but
            # they aren't in self.parameters.
            add_annotation(population_buffer, self)
            return population_buffer

        self.population_mean = _allocate_buffer(
            'population_mean', BATCH_NORM_POPULATION_MEAN,
            numpy.zeros(var_dim))
        self.population_stdev = _allocate_buffer(
            'population_stdev', BATCH_NORM_POPULATION_STDEV,
            numpy.ones(var_dim))

    def _initialize(self):
        # Gate on is_shared_variable rather than learn_scale and
        # learn_shift: mean_only and learn_scale may both be True on an
        # already allocated brick.
        if is_shared_variable(self.shift):
            self.shift_init.initialize(self.shift, self.rng)
        if is_shared_variable(self.scale):
            self.scale_init.initialize(self.scale, self.rng)

    # Needed for the Feedforward interface.
    @property
    def output_dim(self):
        return self.input_dim

    # The following properties allow for BatchNormalization bricks
    # to be used directly inside of a ConvolutionalSequence.
    @property
    def image_size(self):
        return self.input_dim[-2:]

    @image_size.setter
    def image_size(self, value):
        if not isinstance(self.input_dim, SequenceABC):
            self.input_dim = (None,) + tuple(value)
        else:
            self.input_dim = (self.input_dim[0],) + tuple(value)

    @property
    def num_channels(self):
        return self.input_dim[0]

    @num_channels.setter
    def num_channels(self, value):
        if not isinstance(self.input_dim, SequenceABC):
            self.input_dim = (value,) + (None, None)
        else:
            self.input_dim = (value,) + tuple(self.input_dim[-2:])

    def get_dim(self, name):
        if name in ('input', 'output'):
            return self.input_dim
        raise KeyError(name)

    @property
    def num_output_channels(self):
        return self.num_channels


class SpatialBatchNormalization(BatchNormalization):
    """Convenient subclass for batch normalization across spatial inputs.

    Parameters
    ----------
    input_dim : int or tuple
        The input size of a single example. Must be length at least 2.
        It's assumed that the first axis of this tuple is a "channels"
        axis, which should not be summed over, and all remaining
        dimensions are spatial dimensions.

    Notes
    -----
    See :class:`BatchNormalization` for more details (and additional
    keyword arguments).

    """

    def _allocate(self):
        if not isinstance(self.input_dim,
                          SequenceABC) or len(self.input_dim) < 2:
            raise ValueError(
                f"expected input_dim to be length >= 2 e.g. (channels, "
                f"height, width); {_describe(self)} has "
                f"input_dim={self.input_dim!r}")
        self.broadcastable = (False,) + ((True,) * (len(self.input_dim) - 1))
        super()._allocate()


class BatchNormalizedMLP(MLP):
    """Convenient subclass for building an MLP with batch normalization.

    Parameters
    ----------
    conserve_memory : bool, optional, by keyword only
        See :class:`BatchNormalization`.
    mean_only : bool, optional, by keyword only
        See :class:`BatchNormalization`.
    learn_scale : bool, optional, by keyword only
        See :class:`BatchNormalization`.
    learn_shift : bool, optional, by keyword only
        See :class:`BatchNormalization`.

    Notes
    -----
    All other parameters are the same as :class:`~blocks.bricks.MLP`. Each
    activation brick is wrapped in a :class:`~blocks.bricks.Sequence`
    containing an appropriate :class:`BatchNormalization` brick and
    the activation that follows it.

    By default, the contained :class:`~blocks.bricks.Linear` bricks will
    not contain any biases, as they could be canceled out by the biases
    in the :class:`BatchNormalization` bricks being added. Pass
    `use_bias` with a value of `True` if you really want this for some
    reason.

    `mean_only`, `learn_scale` and `learn_shift` are pushed down to
    all created :class:`BatchNormalization` bricks as allocation
    config.

    """

    @lazy(allocation=['dims'])
    def __init__(self, activations, dims, *args, **kwargs):
        self._conserve_memory = kwargs.pop('conserve_memory', True)
        self.mean_only = kwargs.pop('mean_only', False)
        self.learn_scale = kwargs.pop('learn_scale', True)
        self.learn_shift = kwargs.pop('learn_shift', True)
        if any(act is None for act in activations):
            raise ValueError(
                f"BatchNormalizedMLP needs an activation brick for every "
                f"layer (use Identity() for none), got {activations}")
        activations = [
            Sequence([
                BatchNormalization(
                    conserve_memory=self._conserve_memory).apply,
                act.apply
            ], name=f'batch_norm_activation_{i}')
            for i, act in enumerate(activations)
        ]
        # Batch normalization bricks incorporate a bias, so there's no
        # need for our Linear bricks to have them.
        kwargs.setdefault('use_bias', False)
        super().__init__(activations, dims, *args, **kwargs)

    @property
    def conserve_memory(self):
        return self._conserve_memory

    @conserve_memory.setter
    def conserve_memory(self, value):
        self._conserve_memory = value
        for act in self.activations:
            act.children[0].conserve_memory = value

    def _push_allocation_config(self):
        super()._push_allocation_config()
        # The BatchNormalization bricks need as their input dimension the
        # output dimension of each linear transformation.
        for act, dim in zip(self.activations, self.dims[1:], strict=True):
            act.children[0].input_dim = dim
            for prop in ['mean_only', 'learn_scale', 'learn_shift']:
                setattr(act.children[0], prop, getattr(self, prop))
