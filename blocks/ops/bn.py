"""Batch normalization's affine transform (Theano's ``nnet.bn``)."""

__all__ = ['batch_normalization']


def batch_normalization(inputs, gamma, beta, mean, std,
                        mode: str = 'low_mem'):
    """``(inputs - mean) / std * gamma + beta``, broadcasting.

    Parameters
    ----------
    inputs, gamma, beta, mean, std : tensor
        The data, the scale, the shift and the statistics to normalize by;
        all broadcast against `inputs`.
    mode : str
        ``'low_mem'`` or ``'high_mem'``. Theano had a fused elementwise
        kernel for the first and a plain expression for the second;
        PyTensor's elementwise fusion builds one loop from either, so both
        give the same numbers and differ only in the order of operations.

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> x = pt.as_tensor_variable([1., 3.])
    >>> batch_normalization(x, 2., 1., 2., 1.).eval()
    array([-1.,  3.])

    """
    if mode == 'low_mem':
        return (inputs - mean) * gamma / std + beta
    if mode == 'high_mem':
        return (inputs - mean) * (gamma / std) + beta
    raise ValueError(f"batch_normalization: mode must be 'low_mem' or "
                     f"'high_mem', got {mode!r}")
