"""2-D convolution as PyTensor Ops, with Theano's ``conv2d`` semantics.

PyTensor 3.0 has no ``tensor.nnet``: these Ops stand in for Theano's
``AbstractConv2d``, ``AbstractConv2d_gradInputs`` and
``AbstractConv2d_gradWeights``. Each one computes in NumPy (one strided copy
and one BLAS product, see :mod:`blocks.ops._numpy_conv`), infers its shape
symbolically, and differentiates into the other two, so that
``ConvolutionalTranspose`` (built on the input-gradient Op) trains.
"""
from collections.abc import Sequence

import numpy
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType
from pytensor.graph.basic import Apply, Constant
from pytensor.graph.op import Op
from pytensor.scalar import upcast

from blocks.ops import _numpy_conv

__all__ = [
    'AbstractConv2d',
    'AbstractConv2d_gradInputs',
    'AbstractConv2d_gradWeights',
    'Conv2d',
    'Conv2dGradInputs',
    'Conv2dGradWeights',
    'conv2d',
    'get_conv_output_shape',
    'get_conv_shape_1axis',
]

BorderMode = str | int | tuple[int, int]


def get_conv_shape_1axis(image_shape, kernel_shape, border_mode, subsample,
                         dilation=1):
    """Output length of a convolution along one axis (Theano's rule).

    Any argument that is ``None`` makes the result ``None``. The sizes may
    be ints or symbolic scalars.

    """
    if None in (image_shape, kernel_shape, border_mode, subsample, dilation):
        return None
    dil_kernel = (kernel_shape - 1) * dilation + 1
    if border_mode == 'half':
        pad = dil_kernel // 2
    elif border_mode == 'full':
        pad = dil_kernel - 1
    elif border_mode == 'valid':
        pad = 0
    else:
        pad = border_mode
        if pad < 0:
            raise ValueError(f"border_mode must be >= 0, got {pad}")
    out = image_shape + 2 * pad - dil_kernel
    if subsample != 1:
        out = out // subsample
    return out + 1


def get_conv_output_shape(image_shape, kernel_shape, border_mode, subsample,
                          filter_dilation=None):
    """Shape of the output of :func:`conv2d` (Theano's rule).

    Parameters
    ----------
    image_shape : tuple
        ``(batch, channels, rows, columns)``; entries may be ``None``.
    kernel_shape : tuple
        ``(filters, channels, rows, columns)``; entries may be ``None``.
    border_mode : str, int or tuple
        ``'valid'``, ``'full'``, ``'half'``, an int or one int per axis.
    subsample : tuple
        The stride per spatial axis.
    filter_dilation : tuple, optional
        The dilation per spatial axis; ones by default.

    Returns
    -------
    tuple
        ``(batch, filters, rows, columns)``; ``None`` where unknown.

    Examples
    --------
    >>> get_conv_output_shape((1, 3, 17, 13), (8, 3, 3, 3), 'valid', (1, 1))
    (1, 8, 15, 11)

    """
    if filter_dilation is None:
        filter_dilation = (1,) * len(subsample)
    imshp, kshp = image_shape[2:], kernel_shape[-len(subsample):]
    modes = (border_mode if isinstance(border_mode, tuple)
             else (border_mode,) * len(subsample))
    out = tuple(get_conv_shape_1axis(imshp[i], kshp[i], modes[i],
                                     subsample[i], filter_dilation[i])
                for i in range(len(subsample)))
    return (image_shape[0], kernel_shape[0]) + out


def _pair(value, what: str) -> tuple[int, int]:
    if isinstance(value, int | numpy.integer):
        value = (value, value)
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int | numpy.integer)
                                  for v in value):
        raise ValueError(f"conv2d: {what} must be a pair of ints, got "
                         f"{value!r}")
    return tuple(int(v) for v in value)


def _border_mode(border_mode) -> str | tuple[int, int]:
    if isinstance(border_mode, str):
        if border_mode not in ('valid', 'full', 'half'):
            raise ValueError(
                f"conv2d: border_mode must be 'valid', 'full', 'half', an "
                f"int or a pair of ints, got {border_mode!r}")
        return border_mode
    pad = _pair(border_mode, 'border_mode')
    if min(pad) < 0:
        raise ValueError(f"conv2d: border_mode paddings must be >= 0, got "
                         f"{pad}")
    return pad


def _shape4(shape, what: str):
    if shape is None:
        return (None,) * 4
    shape = tuple(None if s is None else int(s) for s in shape)
    if len(shape) != 4:
        raise ValueError(f"conv2d: {what} must have 4 entries (None for "
                         f"unknown ones), got {shape}")
    return shape


def _as_4d(var, what: str):
    var = pt.as_tensor_variable(var)
    if var.ndim != 4:
        raise ValueError(
            f"conv2d: {what} must be a 4-d tensor (batch, channels, rows, "
            f"columns) for images or (filters, channels, rows, columns) for "
            f"filters, got a {var.ndim}-d {var.type}")
    return var


def _static(var):
    """The int value of a constant shape vector, else None."""
    if isinstance(var, Constant):
        return tuple(int(v) for v in var.data)
    return None


class BaseConv2d(Op):
    """Parameters shared by the three convolution Ops.

    Parameters
    ----------
    imshp, kshp : tuple, optional
        Known shapes of the image and the filters (``None`` entries for
        unknown ones); checked against the inputs' static shapes.
    border_mode : str, int or tuple
        ``'valid'``, ``'full'``, ``'half'``, an int or a pair of ints.
    subsample : tuple
        The stride.
    filter_flip : bool
        ``True`` for a true convolution (kernel flipped on both axes),
        ``False`` for a cross-correlation.
    filter_dilation : tuple
        The spacing between kernel taps.

    """

    __props__ = ('imshp', 'kshp', 'border_mode', 'subsample', 'filter_flip',
                 'filter_dilation')

    def __init__(self, imshp=None, kshp=None, border_mode: BorderMode =
                 'valid', subsample=(1, 1), filter_flip: bool = True,
                 filter_dilation=(1, 1)):
        self.imshp = _shape4(imshp, 'imshp')
        self.kshp = _shape4(kshp, 'kshp')
        self.border_mode = _border_mode(border_mode)
        self.subsample = _pair(subsample, 'subsample')
        self.filter_dilation = _pair(filter_dilation, 'filter_dilation')
        if min(self.subsample) < 1 or min(self.filter_dilation) < 1:
            raise ValueError(
                f"conv2d: subsample and filter_dilation must be >= 1, got "
                f"{self.subsample} and {self.filter_dilation}")
        self.filter_flip = bool(filter_flip)

    def _params(self) -> dict:
        return {prop: getattr(self, prop) for prop in self.__props__}

    def padding(self, kernel_hw) -> tuple[int, int]:
        """The explicit zero padding for a kernel of shape `kernel_hw`."""
        if isinstance(self.border_mode, tuple):
            return self.border_mode
        pads = []
        for k, d in zip(kernel_hw, self.filter_dilation, strict=True):
            dil_k = (k - 1) * d + 1
            pads.append({'valid': 0, 'full': dil_k - 1,
                         'half': dil_k // 2}[self.border_mode])
        return tuple(pads)

    def output_shape(self, image_shape, kernel_shape):
        return get_conv_output_shape(image_shape, kernel_shape,
                                     self.border_mode, self.subsample,
                                     self.filter_dilation)

    def _check_hint(self, var, hint, what):
        for axis, (static, known) in enumerate(
                zip(var.type.shape, hint, strict=True)):
            if None not in (static, known) and static != known:
                raise ValueError(
                    f"conv2d: {what} has {static} entries along axis "
                    f"{axis}, but the Op was told {known} ({what} shape "
                    f"hint {hint})")

    def _flip(self, kern):
        return kern[:, :, ::-1, ::-1] if self.filter_flip else kern

    def image_gradient(self, kern, topgrad, shape, gy_matrices=None):
        """The gradient with respect to the image, of shape `shape` (rows
        and columns), that :class:`Conv2dGradInputs` computes;
        `gy_matrices` as in :func:`blocks.ops._numpy_conv.corr_grad_input`.
        """
        return _numpy_conv.corr_grad_input(
            self._flip(kern), topgrad, tuple(int(s) for s in shape),
            self.padding(kern.shape[2:]), self.subsample,
            self.filter_dilation, gy_matrices)

    def _check_values(self, value, hint, what):
        """A run-time check of a shape hint, which :meth:`infer_shape`
        trusts (as Theano's did)."""
        if any(known is not None and known != actual
               for actual, known in zip(value.shape, hint, strict=True)):
            raise ValueError(
                f"conv2d: {what} has shape {value.shape}, but the Op was "
                f"told {hint} (the {what} shape hint: `input_shape`/"
                f"`filter_shape`, or a brick's `image_size`/`num_channels`)"
                f"; give the right shape or None")


def _hinted(shape, hint):
    """`shape` with the entries that `hint` knows, as ints: with constant
    sizes, the shapes that depend on them are constants too, which the
    JAX backend needs (a size it computes is a tracer, not a shape)."""
    return tuple(s if known is None else known
                 for s, known in zip(shape, hint, strict=True))



def _disconnected():
    return DisconnectedType()()


def _output_type(dtype, shape):
    return pt.tensor(dtype=dtype, shape=tuple(
        s if isinstance(s, int) else None for s in shape))


class Conv2d(BaseConv2d):
    """``conv2d(image, filters)``; see :func:`conv2d`."""

    def make_node(self, img, kern):
        img, kern = _as_4d(img, 'the input'), _as_4d(kern, 'filters')
        self._check_hint(img, self.imshp, 'the input')
        self._check_hint(kern, self.kshp, 'filters')
        channels, kchannels = img.type.shape[1], kern.type.shape[1]
        if None not in (channels, kchannels) and channels != kchannels:
            raise ValueError(
                f"conv2d: the input has {channels} channels but the filters "
                f"expect {kchannels} (filters shape {kern.type.shape})")
        dtype = upcast(img.dtype, kern.dtype)
        img, kern = pt.cast(img, dtype), pt.cast(kern, dtype)
        out = self.output_shape(_hinted(img.type.shape, self.imshp),
                                _hinted(kern.type.shape, self.kshp))
        if any(isinstance(s, int) and s <= 0 for s in out):
            raise ValueError(
                f"conv2d: filters of shape {kern.type.shape} do not fit an "
                f"input of shape {img.type.shape} with border_mode "
                f"{self.border_mode!r} and dilation {self.filter_dilation}: "
                f"use smaller filters, more padding or a larger input")
        return Apply(self, [img, kern], [_output_type(dtype, out)])

    def perform(self, node, inputs, output_storage):
        img, kern = inputs
        self._check_values(img, self.imshp, 'the input')
        self._check_values(kern, self.kshp, 'filters')
        if img.shape[1] != kern.shape[1]:
            raise ValueError(
                f"conv2d: the input has {img.shape[1]} channels but the "
                f"filters expect {kern.shape[1]} (input shape {img.shape}, "
                f"filters shape {kern.shape})")
        output_storage[0][0] = _numpy_conv.corr_forward(
            img, self._flip(kern), self.padding(kern.shape[2:]),
            self.subsample, self.filter_dilation)

    def infer_shape(self, fgraph, node, input_shapes):
        return [self.output_shape(_hinted(input_shapes[0], self.imshp),
                                  _hinted(input_shapes[1], self.kshp))]

    def pullback(self, inputs, outputs, cotangents):
        img, kern = inputs
        top, = cotangents
        params = self._params()
        return [Conv2dGradInputs(**params)(kern, top, img.shape[-2:]),
                Conv2dGradWeights(**params)(img, top, kern.shape[-2:])]


class Conv2dGradInputs(BaseConv2d):
    """Gradient of :class:`Conv2d` with respect to the image.

    Applied to ``(filters, output_gradient, image_rows_and_columns)``. It is
    also the transposed convolution, and is differentiable.

    """

    def make_node(self, kern, topgrad, shape):
        kern = _as_4d(kern, 'filters')
        topgrad = _as_4d(topgrad, 'the output gradient')
        shape = pt.as_tensor_variable(shape, dtype='int64')
        dtype = upcast(kern.dtype, topgrad.dtype)
        kern, topgrad = pt.cast(kern, dtype), pt.cast(topgrad, dtype)
        hw = _static(shape) or (self.imshp[2], self.imshp[3])
        out = (topgrad.type.shape[0], kern.type.shape[1]) + tuple(hw)
        return Apply(self, [kern, topgrad, shape],
                     [_output_type(dtype, out)])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = self.image_gradient(*inputs)

    def infer_shape(self, fgraph, node, input_shapes):
        _kern, _topgrad, shape = node.inputs
        return [(input_shapes[1][0], input_shapes[0][1], shape[0], shape[1])]

    def connection_pattern(self, node):
        return [[True], [True], [False]]

    def pullback(self, inputs, outputs, cotangents):
        kern, topgrad, _ = inputs
        bottom, = cotangents
        params = self._params()
        return [Conv2dGradWeights(**params)(bottom, topgrad, kern.shape[-2:]),
                Conv2d(**params)(bottom, kern), _disconnected()]


class Conv2dGradWeights(BaseConv2d):
    """Gradient of :class:`Conv2d` with respect to the filters.

    Applied to ``(image, output_gradient, filter_rows_and_columns)``.

    """

    def make_node(self, img, topgrad, shape):
        img = _as_4d(img, 'the input')
        topgrad = _as_4d(topgrad, 'the output gradient')
        shape = pt.as_tensor_variable(shape, dtype='int64')
        dtype = upcast(img.dtype, topgrad.dtype)
        img, topgrad = pt.cast(img, dtype), pt.cast(topgrad, dtype)
        hw = _static(shape) or (self.kshp[2], self.kshp[3])
        out = (topgrad.type.shape[1], img.type.shape[1]) + tuple(hw)
        return Apply(self, [img, topgrad, shape], [_output_type(dtype, out)])

    def perform(self, node, inputs, output_storage):
        img, topgrad, shape = inputs
        kshape = tuple(int(s) for s in shape)
        grad = _numpy_conv.corr_grad_weights(
            img, topgrad, kshape, self.padding(kshape), self.subsample,
            self.filter_dilation)
        output_storage[0][0] = numpy.ascontiguousarray(self._flip(grad))

    def infer_shape(self, fgraph, node, input_shapes):
        _img, _topgrad, shape = node.inputs
        return [(input_shapes[1][1], input_shapes[0][1], shape[0], shape[1])]

    def connection_pattern(self, node):
        return [[True], [True], [False]]

    def pullback(self, inputs, outputs, cotangents):
        img, topgrad, _ = inputs
        weights, = cotangents
        params = self._params()
        return [Conv2dGradInputs(**params)(weights, topgrad, img.shape[-2:]),
                Conv2d(**params)(img, weights), _disconnected()]


# Theano's names, for ported scripts.
AbstractConv2d = Conv2d
AbstractConv2d_gradInputs = Conv2dGradInputs
AbstractConv2d_gradWeights = Conv2dGradWeights


def conv2d(input, filters, input_shape: Sequence | None = None,
           filter_shape: Sequence | None = None,
           border_mode: BorderMode = 'valid', subsample=(1, 1),
           filter_flip: bool = True, filter_dilation=(1, 1)):
    """2-D convolution of a batch of images with a bank of filters.

    Parameters
    ----------
    input : tensor
        Images, ``(batch, channels, rows, columns)``.
    filters : tensor
        Filters, ``(filters, channels, rows, columns)``.
    input_shape, filter_shape : tuple, optional
        Known shapes (``None`` for unknown entries), checked against the
        inputs' static shapes.
    border_mode : str, int or tuple
        ``'valid'`` (no padding), ``'full'`` (padding ``k - 1``),
        ``'half'`` (padding ``k // 2``), an int or a pair of ints (that
        padding).
    subsample : tuple
        The stride.
    filter_flip : bool
        ``True`` (default) flips the filters on both spatial axes: a true
        convolution. ``False`` computes a cross-correlation.
    filter_dilation : tuple
        The spacing between kernel taps.

    Returns
    -------
    tensor
        ``(batch, filters, out_rows, out_columns)``, see
        :func:`get_conv_output_shape`.

    Examples
    --------
    >>> import numpy, pytensor.tensor as pt
    >>> x = pt.tensor4('x')
    >>> y = conv2d(x, numpy.ones((1, 1, 2, 2)), border_mode='full')
    >>> y.eval({x: numpy.ones((1, 1, 2, 2))})[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])

    """
    op = Conv2d(imshp=input_shape, kshp=filter_shape,
                border_mode=border_mode, subsample=subsample,
                filter_flip=filter_flip, filter_dilation=filter_dilation)
    return op(input, filters)
