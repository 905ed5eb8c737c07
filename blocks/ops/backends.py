"""The Ops under PyTensor's JAX and Numba backends.

Both registrations are made when PyTensor loads the backend's dispatch
module (or at once if it is loaded already), so importing :mod:`blocks.ops`
does not import JAX (two seconds) or Numba.

* JAX: :func:`jax.lax.conv_general_dilated` and
  :func:`jax.lax.reduce_window`; the gradient Ops are the vector-Jacobian
  products of the same functions, so all backends share one definition of
  each gradient.
* Numba: the NumPy ``perform`` in Numba's object mode, which PyTensor would
  fall back to anyway; registering it explicitly silences the fallback's
  warning. The work is in BLAS and NumPy either way.
"""
import importlib.abc
import importlib.util
import sys
import warnings

import numpy
from pytensor.compile import optdb
from pytensor.graph.rewriting.basic import dfs_rewriter, node_rewriter
from pytensor.tensor.basic import MakeVector

from blocks.ops.conv import (
    BaseConv2d,
    Conv2d,
    Conv2dGradInputs,
    Conv2dGradWeights,
)
from blocks.ops.pool import (
    AveragePoolGrad,
    DownsampleFactorMaxGradGrad,
    MaxPoolGrad,
    Pool,
    PoolBase,
)

_JAX_DISPATCH = 'pytensor.link.jax.dispatch'
_NUMBA_DISPATCH = 'pytensor.link.numba.dispatch.basic'


def _static_shape(op, value, hint, what):
    """Rows and columns from a shape input, as ints JAX can trace with."""
    import jax

    try:
        return tuple(int(v) for v in numpy.asarray(value))
    except (jax.errors.TracerArrayConversionError,
            jax.errors.ConcretizationTypeError):
        if None not in hint:
            return hint
        raise NotImplementedError(
            f"{op} under JAX needs the {what} rows and columns at compile "
            f"time: give the Op its {what} shape (imshp/kshp), or inputs "
            f"with static shapes") from None


def _register_jax(dispatch):
    import jax
    import jax.numpy as jnp
    from jax import lax

    jax_funcify = dispatch.jax_funcify

    def make_conv(op):
        def conv(img, kern):
            if op.filter_flip:
                kern = kern[:, :, ::-1, ::-1]
            pad = op.padding(kern.shape[2:])
            return lax.conv_general_dilated(
                img, kern, window_strides=op.subsample,
                padding=[(pad[0], pad[0]), (pad[1], pad[1])],
                rhs_dilation=op.filter_dilation,
                dimension_numbers=('NCHW', 'OIHW', 'NCHW'))
        return conv

    @jax_funcify.register(Conv2d)
    def _conv(op, node=None, **kwargs):
        return make_conv(op)

    @jax_funcify.register(Conv2dGradInputs)
    def _conv_grad_inputs(op, node=None, **kwargs):
        conv = make_conv(op)

        def grad_inputs(kern, top, shape):
            rows_cols = _static_shape(op, shape, op.imshp[2:], 'image')
            image = jnp.zeros((top.shape[0], kern.shape[1]) + rows_cols,
                              dtype=top.dtype)
            _, vjp = jax.vjp(lambda x: conv(x, kern), image)
            return vjp(top)[0]
        return grad_inputs

    @jax_funcify.register(Conv2dGradWeights)
    def _conv_grad_weights(op, node=None, **kwargs):
        conv = make_conv(op)

        def grad_weights(img, top, shape):
            rows_cols = _static_shape(op, shape, op.kshp[2:], 'filter')
            kern = jnp.zeros((top.shape[1], img.shape[1]) + rows_cols,
                             dtype=top.dtype)
            _, vjp = jax.vjp(lambda k: conv(img, k), kern)
            return vjp(top)[0]
        return grad_weights

    def make_pool(op):
        def pool(x):
            lead = x.ndim - 2
            pads = [(0, 0)] * lead + [(p, p) for p in op.pad]
            dims = (1,) * lead + op.ws
            strides = (1,) * lead + op.stride
            if not op.ignore_border:
                # Extend the input so that the partial last windows exist;
                # the extension is excluded below like padding.
                out = Pool.out_shape(x.shape[-2:], op.ws, False, op.stride)
                for axis in range(2):
                    need = (out[axis] - 1) * op.stride[axis] + op.ws[axis]
                    extra = max(0, need - x.shape[lead + axis])
                    pads[lead + axis] = (0, extra)
            if op.mode == 'max':
                lowest = jnp.min(x) - 1 if x.size else 0
                return lax.reduce_window(
                    x, jnp.asarray(lowest, x.dtype), lax.max, dims, strides,
                    pads)
            total = lax.reduce_window(x, numpy.zeros((), x.dtype), lax.add,
                                      dims, strides, pads)
            if op.mode == 'sum':
                return total
            if op.mode == 'average_inc_pad':
                # Padding counts, a clipped window's outside does not.
                ones = jnp.ones([size + 2 * p for size, p in
                                 zip(x.shape[-2:], op.pad, strict=True)],
                                x.dtype)
                count_pads = [pads[lead + a] if not any(op.pad) else (0, 0)
                              for a in range(2)]
            else:
                ones = jnp.ones(x.shape[-2:], x.dtype)
                count_pads = pads[lead:]
            count = lax.reduce_window(ones, numpy.zeros((), x.dtype), lax.add,
                                      op.ws, op.stride, count_pads)
            return total / count
        return pool

    @jax_funcify.register(Pool)
    def _pool(op, node=None, **kwargs):
        return make_pool(op)

    def max_windows(op, x):
        """`x` padded with a low value, and the window-position slices."""
        lead = x.ndim - 2
        out = Pool.out_shape(x.shape[-2:], op.ws, op.ignore_border,
                             op.stride, op.pad)
        extent = [max(x.shape[lead + a] + 2 * op.pad[a],
                      (out[a] - 1) * op.stride[a] + op.ws[a])
                  for a in range(2)]
        pads = [(0, 0)] * lead + [
            (op.pad[a], extent[a] - x.shape[lead + a] - op.pad[a])
            for a in range(2)]
        lowest = jnp.min(x) - 1 if x.size else 0
        xe = jnp.pad(x, pads, constant_values=lowest)
        slices = [(Ellipsis,
                   slice(u, u + op.stride[0] * (out[0] - 1) + 1,
                         op.stride[0]),
                   slice(v, v + op.stride[1] * (out[1] - 1) + 1,
                         op.stride[1]))
                  for u in range(op.ws[0]) for v in range(op.ws[1])]
        return xe, pads, slices

    @jax_funcify.register(MaxPoolGrad)
    def _max_pool_grad(op, node=None, **kwargs):
        # Theano's rule: every cell equal to its window's maximum gets the
        # window's gradient (JAX's own gradient picks one of the ties).
        def max_pool_grad(x, maxout, gz):
            xe, pads, slices = max_windows(op, x)
            gxe = jnp.zeros_like(xe)
            for window in slices:
                gxe = gxe.at[window].add(jnp.where(xe[window] == maxout,
                                                   gz, 0))
            lead = x.ndim - 2
            return gxe[(Ellipsis,) + tuple(
                slice(pads[lead + a][0], pads[lead + a][0] + x.shape[lead + a])
                for a in range(2))]
        return max_pool_grad

    @jax_funcify.register(DownsampleFactorMaxGradGrad)
    def _max_grad_grad(op, node=None, **kwargs):
        def max_grad_grad(x, maxout, ggx):
            xe, pads, slices = max_windows(op, x)
            gge = jnp.pad(ggx, pads)
            return sum(jnp.where(xe[window] == maxout, gge[window], 0)
                       for window in slices)
        return max_grad_grad

    @jax_funcify.register(AveragePoolGrad)
    def _average_pool_grad(op, node=None, **kwargs):
        pool = make_pool(op)

        def average_pool_grad(x, gz):
            _, vjp = jax.vjp(pool, x)
            return vjp(gz)[0]
        return average_pool_grad


def _register_numba(dispatch):
    def quiet_fallback(op, node=None, storage_map=None, **kwargs):
        with warnings.catch_warnings():
            warnings.filterwarnings(
                'ignore', message='Numba will use object mode',
                category=UserWarning)
            return dispatch.generate_fallback_impl(op, node, storage_map,
                                                   **kwargs)

    for op_class in (BaseConv2d, PoolBase):
        dispatch.numba_funcify.register(op_class)(quiet_fallback)


@node_rewriter([Conv2dGradInputs, Conv2dGradWeights])
def _shape_argument_as_tuple(fgraph, node):
    """Pass the gradient Ops' shape argument to JAX as a tuple of ints.

    Under JAX, ``MakeVector`` builds a traced array even from static
    sizes; PyTensor rewrites ``Reshape``'s shape argument the same way.

    """
    from pytensor.link.jax.dispatch.shape import JAXShapeTuple

    shape = node.inputs[2]
    if shape.owner is None or not isinstance(shape.owner.op, MakeVector):
        return None
    inputs = node.inputs[:2] + [JAXShapeTuple()(*shape.owner.inputs)]
    return node.clone_with_new_inputs(inputs).outputs


optdb.register('blocks_conv_shape_argument_as_tuple',
               dfs_rewriter(_shape_argument_as_tuple), 'jax', position=100)

_HOOKS = {_JAX_DISPATCH: _register_jax, _NUMBA_DISPATCH: _register_numba}


class _RegisterOnImport(importlib.abc.MetaPathFinder):
    """Runs a registration right after PyTensor loads a dispatch module."""

    def find_spec(self, name, path, target=None):
        if name not in _HOOKS:
            return None
        sys.meta_path.remove(self)
        try:
            spec = importlib.util.find_spec(name)
        finally:
            sys.meta_path.insert(0, self)
        if spec is None or spec.loader is None:
            return spec
        loader, register = spec.loader, _HOOKS[name]

        class Loader(importlib.abc.Loader):
            def create_module(self, spec):
                return loader.create_module(spec)

            def exec_module(self, module):
                loader.exec_module(module)
                register(module)

        spec.loader = Loader()
        return spec


def install() -> None:
    """Register now for loaded backends, on load for the others."""
    pending = False
    for name, register in _HOOKS.items():
        if name in sys.modules:
            register(sys.modules[name])
        else:
            pending = True
    if pending and not any(isinstance(f, _RegisterOnImport)
                           for f in sys.meta_path):
        sys.meta_path.insert(0, _RegisterOnImport())
