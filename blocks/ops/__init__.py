"""Convolution, pooling and batch normalization as PyTensor Ops.

PyTensor 3.0 has neither ``tensor.nnet`` nor ``tensor.signal.pool``; this
package provides what Blocks' vision bricks took from them, with Theano's
names and semantics: :func:`conv2d` and its two gradient Ops,
:func:`get_conv_output_shape`, :func:`pool_2d` with :meth:`Pool.out_shape`,
and :func:`batch_normalization`. The Ops compute in NumPy under PyTensor's
C and Numba backends and through JAX's convolution and windowed reductions
under the JAX backend (registered when JAX is importable).
"""
from blocks.ops.bn import batch_normalization
from blocks.ops.conv import (
                             AbstractConv2d,
                             AbstractConv2d_gradInputs,
                             AbstractConv2d_gradWeights,
                             Conv2d,
                             Conv2dGradInputs,
                             Conv2dGradWeights,
                             conv2d,
                             get_conv_output_shape,
                             get_conv_shape_1axis,
)
from blocks.ops.pool import (
                             AveragePoolGrad,
                             DownsampleFactorMaxGradGrad,
                             MaxPoolGrad,
                             Pool,
                             pool_2d,
)

__all__ = [
                             'AbstractConv2d',
                             'AbstractConv2d_gradInputs',
                             'AbstractConv2d_gradWeights',
                             'AveragePoolGrad',
                             'Conv2d',
                             'Conv2dGradInputs',
                             'Conv2dGradWeights',
                             'DownsampleFactorMaxGradGrad',
                             'MaxPoolGrad',
                             'Pool',
                             'batch_normalization',
                             'conv2d',
                             'get_conv_output_shape',
                             'get_conv_shape_1axis',
                             'pool_2d',
]

from blocks.ops import backends as _backends

_backends.install()
