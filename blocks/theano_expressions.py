"""Frequently used PyTensor expressions.

The module keeps its upstream name (``theano_expressions``).
"""
from pytensor import tensor
from pytensor.gradient import grad, pushforward

__all__ = ['l2_norm', 'hessian_times_vector']


def l2_norm(tensors, squared: bool = False):
    """Computes the total L2 norm of a set of tensors.

    Converts all operands to :class:`~pytensor.tensor.TensorVariable`
    (see :func:`~pytensor.tensor.as_tensor_variable`).

    Parameters
    ----------
    tensors : iterable of tensors
        The tensors: :class:`~pytensor.tensor.TensorVariable` or anything
        :func:`~pytensor.tensor.as_tensor_variable` accepts.
    squared : bool, optional
        If `True`, return the squared L2 norm. Default: `False`.

    Examples
    --------
    >>> round(float(l2_norm([3, [1, 2]]).eval()) ** 2, 6)
    14.0

    """
    summed = [tensor.sqr(tensor.as_tensor_variable(t)).sum()
              for t in tensors]
    joined = tensor.stack(summed, axis=0)
    return joined.sum() if squared else tensor.sqrt(joined.sum())


def hessian_times_vector(gradient, parameter, vector, r_op: bool = False):
    """Return an expression for the Hessian times a vector.

    Parameters
    ----------
    gradient : :class:`~pytensor.tensor.TensorVariable`
        The gradient with respect to the parameter.
    parameter : :class:`~pytensor.tensor.TensorVariable`
        The parameter with respect to which to take the gradient.
    vector : :class:`~pytensor.tensor.TensorVariable`
        The vector with which to multiply the Hessian.
    r_op : bool, optional
        Whether to use the R-operator (:func:`~pytensor.gradient.pushforward`
        with the ops' own R-ops; Theano's ``Rop``) or not. Defaults to
        ``False``, which uses the (often faster) L-op trick: the gradient
        of ``sum(gradient * vector)``.

    Returns
    -------
    :class:`~pytensor.tensor.TensorVariable`
        The expression for the Hessian times the given vector.

    """
    if r_op:
        # `pytensor.gradient.Rop` is deprecated in favour of this.
        return pushforward(gradient, parameter, vector,
                           use_op_pushforward=True)
    return grad(tensor.sum(gradient * vector), parameter)
