"""2-D pooling as PyTensor Ops, with Theano's ``pool_2d`` semantics.

Pooling runs over the last two axes. Every mode loops over the positions of
the pooling window (a handful) and does whole-array NumPy operations on
strided slices, so there is no Python loop over images or output cells.
"""
from collections.abc import Sequence

import numpy
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.utils import MethodNotDefined
from pytensor.link.c.op import COp

from blocks.ops import _pool_c

__all__ = [
    'AveragePoolGrad',
    'DownsampleFactorMaxGradGrad',
    'MaxPoolGrad',
    'Pool',
    'pool_2d',
]

MODES = ('max', 'sum', 'average_inc_pad', 'average_exc_pad')


def _pair(value, what: str, minimum: int) -> tuple[int, int]:
    value = tuple(value)
    if len(value) != 2 or not all(isinstance(v, int | numpy.integer)
                                  for v in value):
        raise ValueError(f"pool_2d: {what} must be a pair of ints, got "
                         f"{value!r}")
    if min(value) < minimum:
        raise ValueError(f"pool_2d: {what} must be >= {minimum} on both "
                         f"axes, got {value}")
    return tuple(int(v) for v in value)


class _PoolGeometry:
    """Where the windows of one pooling configuration fall."""

    def __init__(self, ws, stride, pad, ignore_border, rows, cols):
        self.ws, self.stride, self.pad = ws, stride, pad
        self.out = tuple(Pool.out_shape((rows, cols), ws, ignore_border,
                                        stride, pad))
        self.valid = (rows, cols)
        # The padded image, extended where ``ignore_border=False`` lets
        # the last windows run past it; windows are clipped to the padded
        # image, so the extension never counts.
        self.padded = (rows + 2 * pad[0], cols + 2 * pad[1])
        self.extent = tuple(max(p, (o - 1) * s + w) if o > 0 else p
                            for p, o, s, w in zip(self.padded, self.out,
                                                  stride, ws, strict=True))

    def window_slices(self):
        """For each window position, the slices of the extended image."""
        (oh, ow), (sh, sw) = self.out, self.stride
        for u in range(self.ws[0]):
            for v in range(self.ws[1]):
                yield (slice(u, u + sh * (oh - 1) + 1, sh),
                       slice(v, v + sw * (ow - 1) + 1, sw))

    def extend(self, x, fill):
        """`x` padded and extended to :attr:`extent` with `fill` (a value,
        or a function of `x` giving it); `x` itself if that is a no-op."""
        if self.extent == self.valid:  # no padding, no extension
            return x
        if callable(fill):
            fill = fill(x)
        ph, pw = self.pad
        out = numpy.full(x.shape[:-2] + self.extent, fill, dtype=x.dtype)
        out[..., ph:ph + self.valid[0], pw:pw + self.valid[1]] = x
        return out

    def tiles(self) -> bool:
        """Whether the windows tile the input without overlap or padding
        (each cell is in one window at most)."""
        return self.pad == (0, 0) and self.stride == self.ws and all(
            o * w <= v for o, w, v in zip(self.out, self.ws, self.valid,
                                          strict=True))

    def crop(self, xe):
        ph, pw = self.pad
        return xe[..., ph:ph + self.valid[0], pw:pw + self.valid[1]]

    def counts(self, include_padding: bool, dtype):
        """The number of cells each window averages over."""
        mask = numpy.zeros(self.extent, dtype=dtype)
        if include_padding:
            mask[:self.padded[0], :self.padded[1]] = 1
        else:
            ph, pw = self.pad
            mask[ph:ph + self.valid[0], pw:pw + self.valid[1]] = 1
        total = numpy.zeros(self.out, dtype=dtype)
        for rows, cols in self.window_slices():
            total += mask[rows, cols]
        return total


class PoolBase(COp):
    __props__ = ('ws', 'ignore_border', 'stride', 'pad', 'mode')
    # C code (Pool and MaxPoolGrad, for max pooling two columns wide; see
    # blocks.ops._pool_c) gets the window and stride at run time: one
    # compiled module serves them all.
    params_type = _pool_c.PARAMS

    def __init__(self, ws, ignore_border: bool = True, stride=None,
                 pad=(0, 0), mode: str = 'max'):
        self.ws = _pair(ws, 'ws (the pooling window)', 1)
        self.stride = (self.ws if stride is None
                       else _pair(stride, 'stride', 1))
        self.pad = _pair(pad, 'pad', 0)
        if mode not in MODES:
            raise ValueError(f"pool_2d: mode must be one of {MODES}, got "
                             f"{mode!r}")
        if any(p >= w for p, w in zip(self.pad, self.ws, strict=True)):
            raise ValueError(
                f"pool_2d: padding {self.pad} must be smaller than the "
                f"pooling window {self.ws} on both axes, or some windows "
                f"would hold only padding")
        self.ignore_border = bool(ignore_border)
        if not self.ignore_border and any(self.pad):
            raise ValueError(
                f"pool_2d: padding {self.pad} works only with "
                f"ignore_border=True (as in Theano): windows clipped at "
                f"the border could then hold only padding")
        self.mode = mode

    def _geometry(self, shape):
        return _PoolGeometry(self.ws, self.stride, self.pad,
                             self.ignore_border, *shape[-2:])

    def _params(self):
        return {prop: getattr(self, prop) for prop in self.__props__}

    def get_params(self, node):
        return self.params_type.get_params(
            ws0=self.ws[0], ws1=self.ws[1], st0=self.stride[0],
            st1=self.stride[1])

    def c_headers(self, **kwargs):
        return ['<string.h>']

    def c_compile_args(self, **kwargs):
        return _pool_c.COMPILE_ARGS

    def c_code_cache_version(self):
        return _pool_c.VERSION

    def _c_applies(self, node) -> bool:
        return _pool_c.applies(self) and node.inputs[0].dtype in (
            'float32', 'float64')

    def _c_code(self, source, node, name, inputs, outputs, sub):
        if not self._c_applies(node):
            raise MethodNotDefined('c_code', type(self), self.mode)
        return source(node, name, inputs, outputs, sub)

    def c_support_code_apply(self, node, name):
        return _pool_c.support_code(node, name) if self._c_applies(
            node) else ''

    def _out_shape(self, shape):
        return Pool.out_shape(shape, self.ws, self.ignore_border,
                              self.stride, self.pad)


def _as_pool_input(x):
    x = pt.as_tensor_variable(x)
    if x.ndim < 2:
        raise ValueError(f"pool_2d: the input needs at least 2 dimensions "
                         f"(pooling runs over the last two), got a "
                         f"{x.ndim}-d {x.type}")
    return x


class Pool(PoolBase):
    """Pooling over the last two axes; see :func:`pool_2d`."""

    @staticmethod
    def out_shape(imgshape, ws, ignore_border: bool = False, stride=None,
                  pad=(0, 0), ndim: int = 2):
        """The shape of the output of pooling an input of `imgshape`.

        Parameters
        ----------
        imgshape : tuple
            The input's shape; its last `ndim` entries are pooled and
            the others pass through.
        ws, stride, pad : tuple
            The window, the stride (default: `ws`) and the padding.
        ignore_border : bool
            ``True`` drops a partial last window; ``False`` keeps it.

        Examples
        --------
        >>> Pool.out_shape((3, 10, 13), (3, 4), ignore_border=True)
        [3, 3, 3]

        """
        if stride is None:
            stride = ws
        patch = list(imgshape[:-ndim])
        for i in range(ndim):
            size = imgshape[-ndim + i] + 2 * pad[i]
            w, s = ws[i], stride[i]
            if ignore_border:
                if w == s:
                    out = size // s
                else:
                    out = (size - w) // s + 1
                    out = pt.maximum(out, 0) if not isinstance(
                        out, int | numpy.integer) else max(0, out)
            elif s >= w:
                out = (size - 1) // s + 1
            else:
                out = (size - 1 - w + s) // s
                out = (pt.maximum(out, 0) if not isinstance(
                    out, int | numpy.integer) else max(0, out)) + 1
            patch.append(out)
        return patch

    def make_node(self, x):
        x = _as_pool_input(x)
        static = x.type.shape[-2:]
        if None not in static:
            out = self._out_shape(static)
            if min(out) <= 0:
                raise ValueError(
                    f"pool_2d: a {self.ws} window with padding {self.pad} "
                    f"does not fit the input's {static} rows and columns "
                    f"with ignore_border=True: use a smaller window or "
                    f"ignore_border=False")
            shape = x.type.shape[:-2] + tuple(out)
        else:
            shape = x.type.shape[:-2] + (None, None)
        return Apply(self, [x], [pt.tensor(dtype=x.dtype, shape=shape)])

    def perform(self, node, inputs, output_storage):
        x, = inputs
        geo = self._geometry(x.shape)
        if min(geo.out) <= 0:
            raise ValueError(
                f"pool_2d: a {self.ws} window with padding {self.pad} does "
                f"not fit the input's {x.shape[-2:]} rows and columns")
        if self.mode == 'max':
            xe = geo.extend(x, _lowest)
            slices = geo.window_slices()
            out = xe[(Ellipsis,) + next(slices)].copy()
            for rows, cols in slices:
                numpy.maximum(out, xe[..., rows, cols], out=out)
        else:
            xe = geo.extend(x, 0)
            out = numpy.zeros(x.shape[:-2] + geo.out, dtype=x.dtype)
            for rows, cols in geo.window_slices():
                out += xe[..., rows, cols]
            if self.mode != 'sum':
                out /= geo.counts(self.mode == 'average_inc_pad', x.dtype)
        output_storage[0][0] = out

    def c_code(self, node, name, inputs, outputs, sub):
        return self._c_code(_pool_c.pool_code, node, name, inputs, outputs,
                            sub)

    def infer_shape(self, fgraph, node, input_shapes):
        return [self._out_shape(input_shapes[0])]

    def pullback(self, inputs, outputs, cotangents):
        x, = inputs
        gz, = cotangents
        if self.mode == 'max':
            return [MaxPoolGrad(**self._params())(x, outputs[0], gz)]
        return [AveragePoolGrad(**self._params())(x, gz)]


def _lowest(x):
    """A fill value below every element of `x` (padding never wins).

    Theano's ``x.min() - 1``: finite, so a window of padding alone gives a
    finite output.

    """
    if not numpy.issubdtype(x.dtype, numpy.floating):
        return numpy.iinfo(x.dtype).min
    return x.min() - 1 if x.size else 0


class MaxPoolGrad(PoolBase):
    """Gradient of max pooling: applied to ``(input, output, out_grad)``.

    Every input cell equal to its window's maximum gets that window's
    gradient (Theano's rule for ties).

    """

    def make_node(self, x, maxout, gz):
        x = _as_pool_input(x)
        maxout = pt.as_tensor_variable(maxout)
        gz = pt.cast(pt.as_tensor_variable(gz), x.dtype)
        return Apply(self, [x, maxout, gz], [x.type()])

    def perform(self, node, inputs, output_storage):
        x, maxout, gz = inputs
        geo = self._geometry(x.shape)
        if geo.tiles():
            # Each cell gets its window's gradient or nothing: written once
            # per window position, into strided slices of the result (no
            # zeroed buffer to add to, no repeated copies of the maxima).
            covered = all(o * w == v for o, w, v in zip(
                geo.out, self.ws, geo.valid, strict=True))
            gx = (numpy.empty_like if covered else numpy.zeros_like)(
                x, order='C')
            for rows, cols in geo.window_slices():
                numpy.multiply(x[..., rows, cols] == maxout, gz,
                               out=gx[..., rows, cols])
            output_storage[0][0] = gx
            return
        xe = geo.extend(x, _lowest)
        gxe = numpy.zeros(xe.shape, dtype=x.dtype)
        for rows, cols in geo.window_slices():
            gxe[..., rows, cols] += (xe[..., rows, cols] == maxout) * gz
        output_storage[0][0] = numpy.ascontiguousarray(geo.crop(gxe))

    def c_code(self, node, name, inputs, outputs, sub):
        return self._c_code(_pool_c.max_pool_grad_code, node, name, inputs,
                            outputs, sub)

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def pullback(self, inputs, outputs, cotangents):
        x, maxout, _gz = inputs
        ggx, = cotangents
        return [pt.zeros_like(x), pt.zeros_like(maxout),
                DownsampleFactorMaxGradGrad(**self._params())(x, maxout, ggx)]


class DownsampleFactorMaxGradGrad(PoolBase):
    """Gradient of :class:`MaxPoolGrad` with respect to the output gradient.

    Applied to ``(input, output, input_grad_grad)``: each output cell sums
    the values of `input_grad_grad` at its window's maxima.

    """

    def make_node(self, x, maxout, ggx):
        x = _as_pool_input(x)
        maxout = pt.as_tensor_variable(maxout)
        ggx = pt.cast(pt.as_tensor_variable(ggx), x.dtype)
        return Apply(self, [x, maxout, ggx], [maxout.type()])

    def perform(self, node, inputs, output_storage):
        x, maxout, ggx = inputs
        geo = self._geometry(x.shape)
        xe, gge = geo.extend(x, _lowest), geo.extend(ggx, 0)
        out = numpy.zeros(maxout.shape, dtype=x.dtype)
        for rows, cols in geo.window_slices():
            out += (xe[..., rows, cols] == maxout) * gge[..., rows, cols]
        output_storage[0][0] = out

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[1]]

    def pullback(self, inputs, outputs, cotangents):
        x, maxout, _ggx = inputs
        gz, = cotangents
        return [pt.zeros_like(x), pt.zeros_like(maxout),
                MaxPoolGrad(**self._params())(x, maxout, gz)]


class AveragePoolGrad(PoolBase):
    """Gradient of sum and average pooling: applied to ``(input, gz)``."""

    def make_node(self, x, gz):
        x = _as_pool_input(x)
        gz = pt.cast(pt.as_tensor_variable(gz), x.dtype)
        return Apply(self, [x, gz], [x.type()])

    def perform(self, node, inputs, output_storage):
        x, gz = inputs
        geo = self._geometry(x.shape)
        if self.mode != 'sum':
            gz = gz / geo.counts(self.mode == 'average_inc_pad', x.dtype)
        gxe = numpy.zeros(x.shape[:-2] + geo.extent, dtype=x.dtype)
        for rows, cols in geo.window_slices():
            gxe[..., rows, cols] += gz
        output_storage[0][0] = numpy.ascontiguousarray(geo.crop(gxe))

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]

    def pullback(self, inputs, outputs, cotangents):
        x, _gz = inputs
        ggx, = cotangents
        return [pt.zeros_like(x), Pool(**self._params())(ggx)]


def pool_2d(input, ws: Sequence[int], ignore_border: bool = True,
            stride: Sequence[int] | None = None, pad=(0, 0),
            mode: str = 'max'):
    """Pool the last two axes of `input` in windows of `ws`.

    Parameters
    ----------
    input : tensor
        At least 2-d; the last two axes are pooled.
    ws : tuple
        The window's rows and columns.
    ignore_border : bool
        ``True`` drops windows that would run past the (padded) input;
        ``False`` keeps them, clipped (and allows no padding).
    stride : tuple, optional
        Defaults to `ws` (non-overlapping windows).
    pad : tuple
        Symmetric zero padding, smaller than `ws`. Padding never wins a
        max and counts in the divisor only for ``'average_inc_pad'``.
    mode : str
        ``'max'``, ``'sum'``, ``'average_inc_pad'`` or
        ``'average_exc_pad'``.

    Examples
    --------
    >>> import numpy, pytensor.tensor as pt
    >>> x = pt.matrix('x')
    >>> pool_2d(x, (2, 2)).eval({x: numpy.arange(16.).reshape(4, 4)})
    array([[ 5.,  7.],
           [13., 15.]])

    """
    return Pool(ws, ignore_border, stride, pad, mode)(input)
