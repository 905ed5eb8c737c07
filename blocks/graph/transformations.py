"""Graph transformations: noise, dropout and parameter collection."""
import numbers
import warnings

import numpy
import pytensor
from pytensor.tensor.random.variable import shared_rng

from blocks.roles import add_role, COLLECTED, COLLECTOR, DROPOUT
from blocks.utils.theano_utils import shared_floatx

__all__ = ['apply_noise', 'apply_dropout', 'collect_parameters',
           'SharedRandomStreams']


def _default_seed():
    # Imported here: `blocks.config` reads configuration files, which
    # building graphs should not require up front.
    from blocks.config import config
    return config.default_seed


class SharedRandomStreams:
    """Random variables drawn from shared generators seeded by one seed.

    The port's stand-in for Theano's ``MRG_RandomStreams`` (PyTensor's
    ``RandomStream`` is deprecated). Each draw gets its own shared
    generator, seeded from a child of ``numpy.random.SeedSequence(seed)``,
    whose ``default_update`` advances it on every call of a compiled
    function, so a function that uses only some draws does not need the
    inputs of the others. The methods take the same arguments as those of
    :class:`pytensor.tensor.random.utils.RandomStream`, so either kind of
    object can be passed to :func:`apply_dropout`.

    Parameters
    ----------
    seed : int
        Seed of the whole stream: the same seed gives the same draws, in
        the same order.

    Examples
    --------
    >>> import pytensor
    >>> streams = SharedRandomStreams(1)
    >>> x = streams.normal(0, 1, size=(2,))
    >>> f = pytensor.function([], x)
    >>> bool((f() != f()).all())
    True

    """

    def __init__(self, seed: int):
        self.seed = seed
        self._seed_sequence = numpy.random.SeedSequence(seed)

    def _draw(self, method, *args, **kwargs):
        child, = self._seed_sequence.spawn(1)
        rng = shared_rng(numpy.random.default_rng(child))
        next_rng, value = getattr(rng, method)(*args, **kwargs)
        # A default update is what makes every compiled function that uses
        # the draw advance the generator, like Theano's MRG streams did;
        # PyTensor deprecates setting it but still honours it.
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', 'Setting default_update',
                                    DeprecationWarning)
            rng.default_update = next_rng
        return value

    def normal(self, loc=0.0, scale=1.0, size=None, **kwargs):
        """A normal random variable (see :func:`pytensor.tensor.random.normal`)."""
        return self._draw('normal', loc, scale, size=size, **kwargs)

    def uniform(self, low=0.0, high=1.0, size=None, **kwargs):
        """A uniform random variable (see :func:`pytensor.tensor.random.uniform`)."""
        return self._draw('uniform', low, high, size=size, **kwargs)

    def binomial(self, n, p, size=None, **kwargs):
        """A binomial random variable (see :func:`pytensor.tensor.random.binomial`)."""
        return self._draw('binomial', n, p, size=size, **kwargs)


def _float_dtype(variable):
    """The dtype noise for `variable` is drawn in: its own, if floating."""
    if variable.dtype.startswith('float'):
        return variable.dtype
    return pytensor.config.floatX


def apply_noise(computation_graph, variables, level: float,
                seed: int | None = None):
    """Add Gaussian noise to certain variable of a computation graph.

    Parameters
    ----------
    computation_graph : instance of :class:`.ComputationGraph`
        The computation graph.
    variables : :class:`~pytensor.graph.basic.Variable`
        Variables to add noise to.
    level : float
        Noise level.
    seed : int, optional
        The seed with which random streams are initialized. Defaults to
        ``config.default_seed``.

    """
    if not seed:
        seed = _default_seed()
    rng = SharedRandomStreams(seed)
    replace = {}
    for variable in variables:
        noise = rng.normal(0.0, level, size=variable.shape)
        replace[variable] = variable + noise.astype(_float_dtype(variable))
    return computation_graph.replace(replace)


def collect_parameters(computation_graph, parameters):
    """Replace parameters with a single shared variable.

    This can be useful if you need to calculate the full Hessian of a
    computational graph. It replaces parameters with slices of a single
    large vectors like

    >>> from blocks.utils import shared_floatx
    >>> W1 = shared_floatx(numpy.random.rand(10, 10))
    >>> W2 = shared_floatx(numpy.random.rand(10, 10))
    >>> all_parameters = shared_floatx(numpy.concatenate(
    ...     [W1.get_value().flatten(), W2.get_value().flatten()]))
    >>> W1 = all_parameters[:W1.size]
    >>> W2 = all_parameters[W1.size:]

    Parameters
    ----------
    computation_graph : :class:`.ComputationGraph` instance
        The managed PyTensor graph in which to collect parameters.
    parameters : list of PyTensor shared variables
        The parameters whose values should be collected.

    Returns
    -------
    ComputationGraph instance
        A new Theano graph which has all the given parameters collected
        into a single large shared variable.

    Notes
    -----
    Note that this replacement makes the training of the model
    significantly slower because of the large amount of PyTensor's
    ``set_subtensor`` calls needed to train the model.

    Examples
    --------
    >>> from blocks.bricks import MLP, Logistic
    >>> from blocks.bricks.cost import SquaredError
    >>> from blocks.graph import ComputationGraph
    >>> from pytensor import tensor
    >>> x = tensor.matrix()
    >>> mlp = MLP(activations=[Logistic(), Logistic()],
    ...           dims=[784, 100, 784])
    >>> cost = SquaredError().apply(x, mlp.apply(x))
    >>> cg = ComputationGraph(cost)
    >>> new_cg = collect_parameters(cg, cg.shared_variables)

    The new graph only has a single shared variable. This variable receives
    the :const:`COLLECTOR` role.

    >>> new_cg.shared_variables
    [collected_parameters]

    The bricks' variables have been replaced with reshaped segments of this
    single shared variable. These replacements are given the
    :const:`.COLLECTED` role.

    >>> from blocks.filter import VariableFilter
    >>> from blocks.roles import COLLECTED
    >>> var_filter = VariableFilter(roles=[COLLECTED])
    >>> var_filter(new_cg.variables)  # doctest: +SKIP
    [Reshape{1}.0, Reshape{1}.0, Reshape{2}.0, Reshape{2}.0]

    """
    parameters = list(parameters)
    parameter_values, parameter_sizes, parameter_shapes = [], [], []
    for parameter in parameters:
        parameter_values.append(parameter.get_value(borrow=True))
        parameter_sizes.append(parameter_values[-1].size)
        parameter_shapes.append(parameter_values[-1].shape)

    new_parameters = shared_floatx(
        numpy.concatenate([value.flatten() for value in parameter_values]),
        name='collected_parameters')
    add_role(new_parameters, COLLECTOR)

    replacements = {}
    starts = numpy.cumsum([0] + parameter_sizes[:-1])
    ends = numpy.cumsum(parameter_sizes)
    for parameter, shape, i, j in zip(parameters, parameter_shapes,
                                      starts, ends, strict=True):
        new_parameter = new_parameters[int(i):int(j)].reshape(shape)
        new_parameter.replacement_of = parameter
        # The plain attribute (upstream's) is lost when a later replacement
        # clones the variable; the tag survives cloning.
        new_parameter.tag.replacement_of = parameter
        add_role(new_parameter, COLLECTED)
        replacements[parameter] = new_parameter
    return computation_graph.replace(replacements)


def apply_dropout(computation_graph, variables, drop_prob: float, rng=None,
                  seed: int | None = None,
                  custom_divisor: float | None = None):
    """Apply dropout to specified variables in a graph.

    Parameters
    ----------
    computation_graph : instance of :class:`.ComputationGraph`
        The computation graph.
    variables : list of :class:`~pytensor.graph.basic.Variable`
        Variables to be dropped out.
    drop_prob : float
        Probability of dropping out. If you want to apply the dropout
        with different probabilities for different layers, call it
        several times.
    rng : :class:`SharedRandomStreams` or :class:`~pytensor.tensor.random.utils.RandomStream`
        Random number generator.
    seed : int
        Random seed to be used if `rng` was not specified.
    custom_divisor : float or None, optional
        Divide dropped variables by a given scalar value. If `None`,
        (default) dropped variables will be divided by `(1 - drop_prob)`
        which is equivalent to scaling by `(1 - drop_prob)` at test
        time as recommended in [DROPOUT]_.

    Returns
    -------
    dropped_computation_graph : instance of :class:`.ComputationGraph`
        A new computation graph with dropout applied to the specified
        variables. In order to train with, or monitor, the outputs
        of the original computation graph with dropout applies, use
        the variables contained in `dropped_computation_graph.outputs`.

    Notes
    -----
    For more information, see [DROPOUT]_.

    .. [DROPOUT] Hinton et al. *Improving neural networks by preventing
       co-adaptation of feature detectors*, arXiv:1207.0580.

    Examples
    --------
    >>> import numpy
    >>> from pytensor import tensor, function
    >>> from blocks.bricks import MLP, Identity
    >>> from blocks.filter import VariableFilter
    >>> from blocks.graph import ComputationGraph
    >>> from blocks.initialization import Constant
    >>> from blocks.roles import INPUT
    >>> linear = MLP([Identity(), Identity()], [2, 10, 2],
    ...              weights_init=Constant(1), biases_init=Constant(2))
    >>> x = tensor.matrix('x')
    >>> y = linear.apply(x)
    >>> cg = ComputationGraph(y)

    We are going to drop out all the input variables

    >>> inputs = VariableFilter(roles=[INPUT])(cg.variables)

    Here we apply dropout with default setting to our computation graph

    >>> cg_dropout = apply_dropout(cg, inputs, 0.5)

    Dropped out variables have role `DROPOUT` and are tagged with
    `replacement_of` tag. Let's filter these variables and check if they
    have the links to original ones.

    >>> from blocks.roles import DROPOUT
    >>> dropped_out = VariableFilter(roles=[DROPOUT])(cg_dropout.variables)
    >>> inputs_referenced = [var.tag.replacement_of for var in dropped_out]
    >>> set(inputs) == set(inputs_referenced)
    True

    """
    if not rng and not seed:
        seed = _default_seed()
    if not rng:
        rng = SharedRandomStreams(seed)
    if custom_divisor is None:
        divisor = (1 - drop_prob)
    else:
        divisor = custom_divisor
    replacements = []
    for var in variables:
        dtype = _float_dtype(var)
        # A uniform draw rather than a binomial one: every backend has it
        # (JAX has no binomial sampler without NumPyro).
        keep = rng.uniform(0.0, 1.0, size=var.shape) < 1 - drop_prob
        mask = keep.astype(dtype)
        # A Python float divisor such as 0.7 would upcast float32 to float64.
        if isinstance(divisor, numbers.Real):
            var_divisor = numpy.asarray(divisor, dtype=dtype)
        else:
            var_divisor = divisor
        replacements.append((var, var * mask / var_divisor))
    for variable, replacement in replacements:
        add_role(replacement, DROPOUT)
        replacement.tag.replacement_of = variable

    return computation_graph.replace(replacements)
