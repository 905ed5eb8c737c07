"""Helpers for PyTensor shared variables and graph variables.

The module keeps its upstream name (``theano_utils``) for compatibility.
"""
import numpy
import pytensor
from pytensor import printing, tensor
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant, Variable
from pytensor.tensor.random.variable import RandomGeneratorSharedVariable

__all__ = ['shared_floatx_zeros_matching', 'shared_floatx_zeros',
           'shared_floatx_nans', 'shared_floatx', 'shared_like',
           'check_theano_variable', 'is_graph_input', 'is_shared_variable',
           'put_hook']


def shared_floatx_zeros_matching(shared_variable, name=None, **kwargs):
    r"""Create another shared variable with matching shape and broadcast.

    Parameters
    ----------
    shared_variable : :class:`~pytensor.compile.sharedvalue.SharedVariable`
        A PyTensor shared variable with the desired shape and
        broadcastable flags.
    name : :obj:`str`, optional
        The name for the shared variable. Defaults to `None`.
    \*\*kwargs
        Keyword arguments to pass to the :func:`shared_floatx_zeros`
        function.

    Returns
    -------
    :class:`~pytensor.compile.sharedvalue.SharedVariable`
        A new shared variable, initialized to all zeros, with the same
        shape and broadcastable flags as `shared_variable`.

    """
    if not is_shared_variable(shared_variable):
        raise ValueError('argument must be a shared variable')
    value_shape = shared_variable.get_value(borrow=True).shape
    # PyTensor expresses broadcastable flags as a static shape of 1.
    static_shape = tuple(1 if broadcastable else None for broadcastable
                         in shared_variable.broadcastable)
    kwargs.setdefault('shape', static_shape)
    # Not `shared_floatx_zeros`: its first argument is also called `shape`.
    return shared_floatx(numpy.zeros(value_shape), name=name, **kwargs)


def shared_floatx_zeros(shape, **kwargs):
    r"""Creates a shared variable array filled with zeros.

    Parameters
    ----------
    shape : tuple
        A tuple of integers representing the shape of the array.
    \*\*kwargs
        Keyword arguments to pass to the :func:`shared_floatx` function.

    Returns
    -------
    :class:`~pytensor.compile.sharedvalue.SharedVariable`
        A PyTensor shared variable filled with zeros.

    """
    return shared_floatx(numpy.zeros(shape), **kwargs)


def shared_floatx_nans(shape, **kwargs):
    r"""Creates a shared variable array filled with nans.

    Parameters
    ----------
    shape : tuple
         A tuple of integers representing the shape of the array.
    \*\*kwargs
        Keyword arguments to pass to the :func:`shared_floatx` function.

    Returns
    -------
    :class:`~pytensor.compile.sharedvalue.SharedVariable`
        A PyTensor shared variable filled with nans.

    """
    return shared_floatx(numpy.full(shape, numpy.nan), **kwargs)


def shared_floatx(value, name=None, borrow=False, dtype=None, **kwargs):
    r"""Transform a value into a shared variable of type floatX.

    Parameters
    ----------
    value : :class:`~numpy.ndarray`
        The value to associate with the PyTensor shared variable.
    name : :obj:`str`, optional
        The name for the shared variable. Defaults to `None`.
    borrow : :obj:`bool`, optional
        If set to True, the given `value` will not be copied if possible.
        This can save memory and speed. Defaults to False.
    dtype : :obj:`str`, optional
        The `dtype` of the shared variable. Default value is
        :attr:`pytensor.config.floatX`.
    \*\*kwargs
        Keyword arguments to pass to the :func:`~pytensor.shared` function.

    Returns
    -------
    :class:`~pytensor.compile.sharedvalue.SharedVariable`
        A PyTensor shared variable with the requested value and `dtype`.

    Examples
    --------
    >>> W = shared_floatx([[1, 2], [3, 4]], name='W', dtype='float32')
    >>> W.name, W.dtype
    ('W', 'float32')

    """
    if dtype is None:
        dtype = pytensor.config.floatX
    return pytensor.shared(numpy.asarray(value, dtype=dtype),
                           name=name, borrow=borrow, **kwargs)


def shared_like(variable, name=None, **kwargs):
    r"""Construct a shared variable to hold the value of a tensor variable.

    Parameters
    ----------
    variable : :class:`~pytensor.graph.basic.Variable`
        The variable whose dtype and ndim will be used to construct
        the new shared variable.
    name : :obj:`str` or :obj:`None`
        The name of the shared variable. If None, the name is determined
        based on `variable`'s name.
    \*\*kwargs
        Keyword arguments to pass to the :func:`~pytensor.shared` function.

    """
    variable = tensor.as_tensor_variable(variable)
    if name is None:
        name = f"shared_{variable.name}"
    return pytensor.shared(numpy.zeros((0,) * variable.ndim,
                                       dtype=variable.dtype),
                           name=name, **kwargs)


def check_theano_variable(variable, n_dim, dtype_prefix):
    """Check number of dimensions and dtype of a PyTensor variable.

    If the input is not a PyTensor variable, it is converted to one.
    `None` input is handled as a special case: no checks are done. Each
    check runs only when its argument is truthy.

    Parameters
    ----------
    variable : :class:`~pytensor.graph.basic.Variable` or convertible
        A variable to check.
    n_dim : int
        Expected number of dimensions or None. If None, no check is
        performed.
    dtype_prefix : str
        Expected dtype prefix or None. If None, no check is performed.

    """
    if variable is None:
        return
    if not isinstance(variable, Variable):
        variable = tensor.as_tensor_variable(variable)
    if n_dim and variable.ndim != n_dim:
        raise ValueError(f"Wrong number of dimensions:"
                         f"\n\texpected {n_dim}, got {variable.ndim}")
    if dtype_prefix and not variable.dtype.startswith(dtype_prefix):
        raise ValueError(f"Wrong dtype prefix:"
                         f"\n\texpected starting with {dtype_prefix}, "
                         f"got {variable.dtype}")


def is_graph_input(variable):
    """Check if variable is a user-provided graph input.

    To be considered an input the variable must have no owner, and not
    be a constant or shared variable.

    Parameters
    ----------
    variable : :class:`~pytensor.graph.basic.Variable`

    Returns
    -------
    bool
        ``True`` If the variable is a user-provided input to the graph.

    """
    return (not variable.owner and
            not isinstance(variable, SharedVariable) and
            not isinstance(variable, Constant))


def is_shared_variable(variable):
    """Check if a variable is a PyTensor shared variable.

    Random generator states are not considered shared variables here:
    they are neither parameters nor algorithm state.

    """
    return (isinstance(variable, SharedVariable) and
            not isinstance(variable, RandomGeneratorSharedVariable) and
            not hasattr(variable.tag, 'is_rng'))


class _Hook:
    """Adapts ``hook_fn(value, *args)`` to ``Print``'s ``global_fn``.

    A class rather than a lambda so that graphs with hooks can be pickled
    whenever `hook_fn` can.

    """

    def __init__(self, hook_fn, args):
        self.hook_fn = hook_fn
        self.args = args

    def __call__(self, op, value):
        self.hook_fn(value, *self.args)


def put_hook(variable, hook_fn, *args):
    r"""Put a hook on a PyTensor variable.

    Ensures that the hook function is executed every time when the value
    of the PyTensor variable is available.

    Parameters
    ----------
    variable : :class:`~pytensor.graph.basic.Variable`
        The variable to put a hook on.
    hook_fn : function
        The hook function. Should take a single argument: the variable's
        value.
    \*args : list
        Positional arguments to pass to the hook function.

    """
    return printing.Print(global_fn=_Hook(hook_fn, args))(variable)
