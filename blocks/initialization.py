"""Objects for encapsulating parameter initialization strategies.

An initialization scheme generates a floatX :class:`numpy.ndarray` of a
requested shape from a :class:`numpy.random.RandomState`; bricks use one for
their weights (``weights_init``) and one for their biases
(``biases_init``).

>>> import numpy
>>> rng = numpy.random.RandomState(1)
>>> Constant(2.).generate(rng, (2, 3))
array([[2., 2., 2.],
       [2., 2., 2.]])
>>> IsotropicGaussian(0.01)
<blocks.initialization.IsotropicGaussian object at ...: mean=0, std=0.01>

"""
import numbers
from abc import ABC, abstractmethod

import numpy
import pytensor

from blocks.utils import repr_attrs

__all__ = ['NdarrayInitialization', 'Constant', 'IsotropicGaussian',
           'Uniform', 'Identity', 'Orthogonal', 'Sparse', 'SparseND']


def _check_matrix_shape(scheme, shape):
    """Raise unless `shape` is the shape of a matrix."""
    if len(shape) != 2:
        raise ValueError(
            f"{scheme.__class__.__name__} initialization only works for "
            f"matrices (2-D shapes), got shape {tuple(shape)}; use it for "
            f"the weight matrix of a Linear-like brick, or pick a scheme "
            f"such as IsotropicGaussian for other shapes")


class NdarrayInitialization(ABC):
    """Base class specifying the interface for ndarray initialization."""

    @abstractmethod
    def generate(self, rng: numpy.random.RandomState, shape) -> numpy.ndarray:
        """Generate an initial set of parameters from a given distribution.

        Parameters
        ----------
        rng : :class:`numpy.random.RandomState`
            The random number generator to draw from.
        shape : tuple
            A shape tuple for the requested parameter array shape.

        Returns
        -------
        output : :class:`~numpy.ndarray`
            An ndarray with values drawn from the distribution specified
            by this object, of shape `shape`, with dtype
            :attr:`pytensor.config.floatX`.

        """

    def initialize(self, var, rng: numpy.random.RandomState,
                   shape=None) -> None:
        """Initialize a shared variable with generated parameters.

        Parameters
        ----------
        var : :class:`~pytensor.compile.sharedvalue.SharedVariable`
            A shared variable whose value will be set with values drawn
            from this :class:`NdarrayInitialization` instance.
        rng : :class:`numpy.random.RandomState`
        shape : tuple
            A shape tuple for the requested parameter array shape. By
            default the current shape of `var` is used.

        """
        if not shape:
            shape = var.get_value(borrow=True,
                                  return_internal_type=True).shape
        var.set_value(self.generate(rng, shape))


class Constant(NdarrayInitialization):
    """Initialize parameters to a constant.

    The constant may be a scalar or an :class:`~numpy.ndarray` of any shape
    that is broadcastable with the requested parameter arrays.

    Parameters
    ----------
    constant : :class:`~numpy.ndarray`
        The initialization value to use. Must be a scalar or an ndarray
        (or compatible object, such as a nested list) that has a shape that
        is broadcastable with any shape requested by `initialize`.

    """

    def __init__(self, constant):
        self.constant = numpy.asarray(constant)

    def generate(self, rng, shape):
        dest = numpy.empty(shape, dtype=pytensor.config.floatX)
        try:
            dest[...] = self.constant
        except ValueError as exc:
            raise ValueError(
                f"Constant of shape {self.constant.shape} can not be "
                f"broadcast to the requested shape {tuple(shape)}") from exc
        return dest

    def __repr__(self):
        return repr_attrs(self, 'constant')


class IsotropicGaussian(NdarrayInitialization):
    """Initialize parameters from an isotropic Gaussian distribution.

    Parameters
    ----------
    std : float, optional
        The standard deviation of the Gaussian distribution. Defaults to 1.
    mean : float, optional
        The mean of the Gaussian distribution. Defaults to 0.

    Notes
    -----
    Be careful: the standard deviation goes first and the mean goes
    second!

    """

    def __init__(self, std=1, mean=0):
        self.mean = mean
        self.std = std

    def generate(self, rng, shape):
        m = rng.normal(self.mean, self.std, size=shape)
        return m.astype(pytensor.config.floatX)

    def __repr__(self):
        return repr_attrs(self, 'mean', 'std')


class Uniform(NdarrayInitialization):
    """Initialize parameters from a uniform distribution.

    Parameters
    ----------
    mean : float, optional
        The mean of the uniform distribution (i.e. the center of mass for
        the density function); Defaults to 0.
    width : float, optional
        One way of specifying the range of the uniform distribution. The
        support will be [mean - width/2, mean + width/2]. **Exactly one** of
        `width` or `std` must be specified.
    std : float, optional
        An alternative method of specifying the range of the uniform
        distribution. Chooses the width of the uniform such that random
        variates will have a desired standard deviation. **Exactly one** of
        `width` or `std` must be specified.

    """

    def __init__(self, mean=0., width=None, std=None):
        if (width is not None) == (std is not None):
            raise ValueError("must specify width or std, but not both")
        if std is not None:
            # Variance of a uniform is 1/12 * width^2
            self.width = numpy.sqrt(12) * std
        else:
            self.width = width
        self.mean = mean

    def generate(self, rng, shape):
        w = self.width / 2
        m = rng.uniform(self.mean - w, self.mean + w, size=shape)
        return m.astype(pytensor.config.floatX)

    def __repr__(self):
        return repr_attrs(self, 'mean', 'width')


class Identity(NdarrayInitialization):
    """Initialize to the identity matrix.

    Only works for 2D arrays. If the number of columns is not equal to the
    number of rows, the array will be truncated or padded with zeros.

    Parameters
    ----------
    mult : float, optional
        Multiply the identity matrix with a scalar. Defaults to 1.

    """

    def __init__(self, mult=1):
        self.mult = mult

    def generate(self, rng, shape):
        _check_matrix_shape(self, shape)
        rows, cols = shape
        return self.mult * numpy.eye(rows, cols,
                                     dtype=pytensor.config.floatX)

    def __repr__(self):
        return repr_attrs(self, 'mult')


class Orthogonal(NdarrayInitialization):
    """Initialize a random orthogonal matrix.

    Only works for 2D arrays. For a non-square shape ``(r, c)`` the result
    is the product of the first ``min(r, c)`` columns of a random ``r x r``
    orthogonal matrix and the first ``min(r, c)`` rows of a random
    ``c x c`` one, so its rows (or columns) are orthonormal.

    Parameters
    ----------
    scale : float, optional
        Multiply the resulting matrix with a scalar. Defaults to 1.
        For a discussion of the importance of scale for training time
        and generalization refer to [Saxe2013]_.

    References
    ----------
    .. [Saxe2013] Saxe, A.M., McClelland, J.L., Ganguli, S., 2013,
       *Exact solutions to the nonlinear dynamics of learning in deep
       linear neural networks*, arXiv:1312.6120.

    """

    def __init__(self, scale=1):
        self.scale = scale

    @staticmethod
    def _random_orthogonal(rng, size):
        matrix = rng.randn(size, size).astype(pytensor.config.floatX)
        # QR decomposition of a matrix with entries in N(0, 1) is random.
        q, r = numpy.linalg.qr(matrix)
        # NumPy does not force the diagonal of R to be non-negative; fixing
        # the signs makes Q uniformly distributed (Haar measure).
        return q * numpy.sign(numpy.diag(r))

    def generate(self, rng, shape):
        _check_matrix_shape(self, shape)
        rows, cols = shape
        if rows == cols:
            return self._random_orthogonal(rng, rows) * self.scale
        q1 = self._random_orthogonal(rng, rows)
        q2 = self._random_orthogonal(rng, cols)
        n_min = min(rows, cols)
        return numpy.dot(q1[:, :n_min], q2[:n_min, :]) * self.scale

    def __repr__(self):
        return repr_attrs(self, 'scale')


class Sparse(NdarrayInitialization):
    """Initialize only a fraction of the weights, row-wise.

    Parameters
    ----------
    num_init : int or float
        If int, this is the number of weights to initialize per row. If
        float, it's the fraction of the weights per row to initialize.
    weights_init : :class:`NdarrayInitialization` instance
        The initialization scheme to initialize the weights with.
    sparse_init : :class:`NdarrayInitialization` instance, optional
        What to set the non-initialized weights to (0. by default)

    Notes
    -----
    The columns of each row are chosen with `rng`, so that the same seed
    gives the same matrix (upstream used NumPy's global generator).

    """

    def __init__(self, num_init, weights_init, sparse_init=None):
        self.num_init = num_init
        self.weights_init = weights_init
        if sparse_init is None:
            sparse_init = Constant(0.)
        self.sparse_init = sparse_init

    def _num_init(self, cols):
        if isinstance(self.num_init, numbers.Integral):
            if not self.num_init > 0:
                raise ValueError(
                    f"Sparse num_init must be a positive number of weights "
                    f"per row, got {self.num_init}")
            num_init = self.num_init
        else:
            if not 1 >= self.num_init > 0:
                raise ValueError(
                    f"Sparse num_init given as a fraction must be in (0, 1], "
                    f"got {self.num_init}")
            num_init = int(self.num_init * cols)
        if num_init > cols:
            raise ValueError(
                f"Sparse can not initialize {num_init} weights per row of a "
                f"matrix with only {cols} columns")
        return num_init

    def generate(self, rng, shape):
        _check_matrix_shape(self, shape)
        rows, cols = shape
        weights = self.sparse_init.generate(rng, shape)
        num_init = self._num_init(cols)
        values = self.weights_init.generate(rng, (rows, num_init))
        for i in range(rows):
            random_indices = rng.choice(cols, num_init, replace=False)
            weights[i, random_indices] = values[i]
        return weights

    def __repr__(self):
        return repr_attrs(self, 'num_init', 'weights_init', 'sparse_init')


class SparseND(Sparse):
    """Initialize only a fraction of the weights with configurable axes.

    Parameters
    ----------
    axis : int or sequence of ints
        Which axis or axes are to be treated as a "unit" for the purpose of
        the number of elements initialized. For example, an axis of (0, 1)
        when initializing a 4D tensor `W` will result in `num_init` values
        being initialized for each index `W[i, j, :, :]`.
    **kwargs
        The arguments of :class:`Sparse`, as keywords.

    """

    def __init__(self, axis, **kwargs):
        if isinstance(axis, numbers.Integral):
            axis = (axis,)
        self.axis = tuple(axis)
        super().__init__(**kwargs)

    def generate(self, rng, shape):
        shape = tuple(shape)
        if any(not -len(shape) <= a < len(shape) for a in self.axis):
            raise ValueError(
                f"SparseND axis {self.axis} out of range for shape {shape}")
        axis = [a % len(shape) for a in self.axis]
        other = [i for i in range(len(shape)) if i not in axis]
        axis_shape = tuple(shape[i] for i in axis)
        other_shape = tuple(shape[i] for i in other)
        matrix = super().generate(
            rng, (int(numpy.prod(axis_shape)), int(numpy.prod(other_shape))))
        unflattened = matrix.reshape(axis_shape + other_shape)
        # Axis k of `unflattened` is axis (axis + other)[k] of the result.
        return unflattened.transpose(numpy.argsort(axis + other)).copy()

    def __repr__(self):
        return repr_attrs(self, 'axis', 'num_init', 'weights_init')
