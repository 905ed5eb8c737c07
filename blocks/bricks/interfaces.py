"""Bricks that are interfaces and/or mixins."""
import numpy

from blocks.bricks.base import _Brick, _describe, Brick, lazy
from blocks.config import config
from blocks.graph.transformations import SharedRandomStreams

__all__ = ['ActivationDocumentation', 'Activation', 'Feedforward',
           'RNGMixin', 'Initializable', 'LinearLike', 'Random']

_MISSING_SCHEME = (
    "{brick} has no {attr}: set it (e.g. brick.{attr} = {example}) or "
    "pass {attr}= to it or to a parent brick, which pushes it to its "
    "children, before calling initialize()")


class ActivationDocumentation(_Brick):
    """Dynamically adds documentation to activations.

    Notes
    -----
    See http://bugs.python.org/issue12773.

    """

    def __new__(cls, name, bases, classdict, **kwargs):
        classdict['__doc__'] = (
            f"Elementwise application of {name.lower()} function.")
        if 'apply' in classdict:
            classdict['apply'].__doc__ = f"""Apply the {name.lower()} function.

            Parameters
            ----------
            input_ : :class:`~pytensor.tensor.TensorVariable`
                Variable to apply {name.lower()} to, element-wise.

            Returns
            -------
            output : :class:`~pytensor.tensor.TensorVariable`
                The input with the activation function applied.

            """
        return super().__new__(cls, name, bases, classdict, **kwargs)


class Activation(Brick, metaclass=ActivationDocumentation):
    """Elementwise application of activation function."""


class Feedforward(Brick):
    """Declares an interface for bricks with one input and one output.

    Many bricks have just one input and just one output (activations,
    :class:`.Linear`, :class:`.MLP`). To make such bricks interchangeable
    in most contexts they should share an interface for configuring
    their input and output dimensions. This brick declares such an
    interface.

    Attributes
    ----------
    input_dim : int
        The input dimension of the brick.
    output_dim : int
        The output dimension of the brick.

    """

    def __getattr__(self, name):
        message = (f"'{self.__class__.__name__}' object does not have an "
                   f"attribute '{name}'")
        if name in ('input_dim', 'output_dim'):
            message += (" (which is a part of 'Feedforward' interface it"
                        " claims to support)")
        raise AttributeError(message)


class RNGMixin:
    """Mixin for initialization random number generators.

    Attributes
    ----------
    seed_rng : :class:`numpy.random.RandomState`
        Draws the seeds of bricks that were given none; seeded with
        ``config.default_seed`` and shared by all classes.

    """

    seed_rng = numpy.random.RandomState(config.default_seed)

    @property
    def seed(self) -> int:
        """The seed of :attr:`rng`, drawn from `seed_rng` on first read.

        It can be set once (``Initializable`` sets it in its constructor,
        so pass ``seed=`` there).

        """
        if getattr(self, '_seed', None) is not None:
            return self._seed
        self._seed = self.seed_rng.randint(numpy.iinfo(numpy.int32).max)
        return self._seed

    @seed.setter
    def seed(self, value):
        if hasattr(self, '_seed'):
            raise AttributeError("seed already set")
        self._seed = value

    @property
    def rng(self) -> numpy.random.RandomState:
        """The random number generator of the initialization schemes."""
        if getattr(self, '_rng', None) is not None:
            return self._rng
        self._rng = numpy.random.RandomState(self.seed)
        return self._rng

    @rng.setter
    def rng(self, rng):
        self._rng = rng


class Initializable(RNGMixin, Brick):
    """Base class for bricks which push parameter initialization.

    Many bricks will initialize children which perform a linear
    transformation, often with biases. This brick allows the weights
    and biases initialization to be configured in the parent brick and
    pushed down the hierarchy.

    Parameters
    ----------
    weights_init : object
        A :class:`.NdarrayInitialization` instance which will be used by to
        initialize the weight matrix. Required by
        :meth:`~.Brick.initialize`.
    biases_init : :obj:`object`, optional
        A :class:`.NdarrayInitialization` instance that will be used to
        initialize the biases. Required by
        :meth:`~.Brick.initialize` when `use_bias` is `True`.
        Only supported by bricks for which :attr:`has_biases` is
        ``True``.
    use_bias : :obj:`bool`, optional
        Whether to use a bias. Defaults to `True`. Required by
        :meth:`~.Brick.initialize`.
    seed : int, optional
        The seed of :attr:`rng`. Drawn from :attr:`seed_rng` by default.

    Attributes
    ----------
    has_biases : bool
        ``False`` if the brick does not support biases, and only has
        :attr:`weights_init`. For an example of this, see
        :class:`.Bidirectional`. If this is ``False``, the brick does not
        support the arguments ``biases_init`` or ``use_bias``.

    Notes
    -----
    The initialization configuration is pushed once, the first time the
    brick is initialized (see :meth:`~.Brick.push_initialization_config`):
    every Initializable child gets this brick's :attr:`rng` (the same
    object) and, when they are set here, its `weights_init` and
    `biases_init`. `use_bias` is not pushed.

    """

    has_biases = True

    @lazy()
    def __init__(self, weights_init=None, biases_init=None, use_bias=None,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self.weights_init = weights_init
        if self.has_biases:
            self.biases_init = biases_init
        elif biases_init is not None or use_bias:
            # Upstream tests ``not use_bias`` here, which rejects the
            # defaults of every brick without biases.
            raise ValueError(
                f"{self.__class__.__name__} has no biases: it does not "
                f"accept biases_init or use_bias=True, got "
                f"biases_init={biases_init!r}, use_bias={use_bias!r}")
        if use_bias is not None:
            self.use_bias = use_bias
        self.seed = seed

    def _push_initialization_config(self):
        biases_init = getattr(self, 'biases_init', None)
        for child in self.children:
            if isinstance(child, Initializable):
                child.rng = self.rng
                if self.weights_init:
                    child.weights_init = self.weights_init
                if biases_init and hasattr(child, 'biases_init'):
                    child.biases_init = biases_init

    def _scheme(self, attr: str):
        """The initialization scheme `attr`, or a clear error if unset."""
        scheme = getattr(self, attr, None)
        if scheme is None:
            example = ('IsotropicGaussian(0.01)' if attr == 'weights_init'
                       else 'Constant(0)')
            raise ValueError(_MISSING_SCHEME.format(
                brick=_describe(self), attr=attr, example=example))
        return scheme


class LinearLike(Initializable):
    """Initializable subclass with logic for :class:`.Linear`-like classes.

    Notes
    -----
    Provides `W` and `b` properties that can be overridden in subclasses
    to implement pre-application transformations on the weights and
    biases. Application methods should refer to ``self.W`` and ``self.b``
    rather than accessing the parameters list directly.

    This assumes a layout of the parameters list with the weights coming
    first and biases (if ``use_bias`` is True) coming second.

    """

    @property
    def W(self):
        return self.parameters[0]

    @property
    def b(self):
        if getattr(self, 'use_bias', True):
            return self.parameters[1]
        raise AttributeError('use_bias is False')

    def _initialize(self):
        # Use self.parameters[] references in case W and b are overridden
        # to return non-shared-variables.
        if getattr(self, 'use_bias', True):
            self._scheme('biases_init').initialize(self.parameters[1],
                                                   self.rng)
        self._scheme('weights_init').initialize(self.parameters[0], self.rng)


class Random(Brick):
    """A mixin class for Bricks which need random number generators.

    Parameters
    ----------
    theano_seed : int or list, optional
        Seed to use for a :class:`.SharedRandomStreams` object (the port's
        counterpart of Theano's ``MRG_RandomStreams``). Drawn from
        :attr:`seed_rng` by default.

    """

    seed_rng = numpy.random.RandomState(config.default_seed)

    def __init__(self, theano_seed=None, **kwargs):
        super().__init__(**kwargs)
        self.theano_seed = theano_seed

    @property
    def theano_seed(self):
        if getattr(self, '_theano_seed', None) is not None:
            return self._theano_seed
        self._theano_seed = self.seed_rng.randint(
            numpy.iinfo(numpy.int32).max)
        return self._theano_seed

    @theano_seed.setter
    def theano_seed(self, value):
        if hasattr(self, '_theano_seed'):
            raise AttributeError("seed already set")
        self._theano_seed = value

    @property
    def theano_rng(self):
        """Returns Brick's random number generator, created on first use.

        A :class:`.SharedRandomStreams` seeded with :attr:`theano_seed`;
        it can be replaced by assigning to this attribute.

        """
        if getattr(self, '_theano_rng', None) is None:
            self._theano_rng = SharedRandomStreams(self.theano_seed)
        return self._theano_rng

    @theano_rng.setter
    def theano_rng(self, theano_rng):
        self._theano_rng = theano_rng
