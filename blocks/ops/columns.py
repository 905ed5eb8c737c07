"""One im2col for a convolution's forward pass and its weight gradient.

In a training graph, ``Conv2d(x, w)`` and the ``Conv2dGradWeights(x, gy,
kshape)`` that its pullback creates copy the same windows of the same
``x`` into a column matrix (:func:`blocks.ops._numpy_conv.columns`). The
rewrite :func:`local_shared_conv_columns`, registered in blocks' C mode
(:func:`blocks.compilation.c_mode`), computes those columns once with
:class:`Conv2dColumns` and rewires both onto them:
:class:`Conv2dFromColumns` and :class:`Conv2dGradWeightsFromColumns` run
the same BLAS products as the Ops they replace, so the numbers are the
same bit for bit. The price is memory: the columns (per image,
``channels * kh * kw * out_rows * out_columns`` values, about ``kh * kw``
times the input) live from the forward pass until the weight gradient.

The image gradient of the same output gradient, where the graph has one,
joins the weight gradient in one Op, :class:`Conv2dGradsFromColumns`:
both products read the output gradient in the same layout, which for
narrow outputs is a transposed copy (0.3 ms for a LeNet's second layer at
batch 128), then made once.

The four Ops are made by the rewrite, after differentiation: they have no
gradient, and no JAX implementation (the JAX and Numba modes do not run
the rewrite).
"""
import numpy
import pytensor.tensor as pt
from pytensor.graph.basic import Apply, Constant, Variable
from pytensor.graph.rewriting.basic import node_rewriter
from pytensor.graph.traversal import ancestors
from pytensor.tensor.basic import MakeVector
from pytensor.tensor.shape import Shape_i

from blocks.ops import _numpy_conv
from blocks.ops.conv import (
    BaseConv2d,
    Conv2d,
    Conv2dGradInputs,
    Conv2dGradWeights,
    _as_4d,
    _hinted,
    _output_type,
    _static,
)

__all__ = [
    'Conv2dColumns',
    'Conv2dFromColumns',
    'Conv2dGradWeightsFromColumns',
    'Conv2dGradsFromColumns',
    'local_shared_conv_columns',
]

_NO_GRADIENT = (
    "{name} has no gradient: blocks' C mode creates it after "
    "differentiation, to share one im2col between a convolution and its "
    "weight gradient. Differentiate the graph built with conv2d instead.")


def _as_columns(var):
    var = pt.as_tensor_variable(var)
    if var.ndim != 6:
        raise ValueError(
            f"conv2d columns must be a 6-d tensor (batch, channels, kernel "
            f"rows, kernel columns, output rows, output columns), got a "
            f"{var.ndim}-d {var.type}")
    return var


class _NoGradient:
    def pullback(self, inputs, outputs, cotangents):
        raise NotImplementedError(
            _NO_GRADIENT.format(name=type(self).__name__))


class Conv2dColumns(_NoGradient, BaseConv2d):
    """The windows of an image batch that a convolution's kernel meets.

    Applied to ``(image, filter_rows_and_columns)``; the output reads as
    ``(batch, channels, kernel_rows, kernel_columns, output_rows,
    output_columns)``. Its memory order is the one that
    :class:`blocks.ops._numpy_conv._Layout` picks for the output width
    (with the batch innermost for narrow outputs): it is meant for
    :class:`Conv2dFromColumns` and :class:`Conv2dGradWeightsFromColumns`
    only.

    """

    def make_node(self, img, shape):
        img = _as_4d(img, 'the input')
        self._check_hint(img, self.imshp, 'the input')
        shape = pt.as_tensor_variable(shape, dtype='int64')
        b, c, h, w = _hinted(img.type.shape, self.imshp)
        kh, kw = _static(shape) or self.kshp[2:]
        out = self.output_shape((b, c, h, w), (None, c, kh, kw))
        return Apply(self, [img, shape], [_output_type(
            img.dtype, (b, c, kh, kw) + out[2:])])

    def perform(self, node, inputs, output_storage):
        img, shape = inputs
        self._check_values(img, self.imshp, 'the input')
        kshape = tuple(int(s) for s in shape)
        output_storage[0][0] = _numpy_conv.columns(
            img, kshape, self.padding(kshape), self.subsample,
            self.filter_dilation)

    def infer_shape(self, fgraph, node, input_shapes):
        b, c, h, w = _hinted(input_shapes[0], self.imshp)
        shape = node.inputs[1]
        kh, kw = shape[0], shape[1]
        out = self.output_shape((b, c, h, w), (None, c, kh, kw))
        return [(b, c, kh, kw) + out[2:]]


class Conv2dFromColumns(_NoGradient, BaseConv2d):
    """:class:`~blocks.ops.Conv2d` from the image's
    :class:`Conv2dColumns`: applied to ``(columns, filters)``."""

    def make_node(self, cols, kern):
        cols, kern = _as_columns(cols), _as_4d(kern, 'filters')
        self._check_hint(kern, self.kshp, 'filters')
        if cols.dtype != kern.dtype:
            raise TypeError(f"conv2d: columns of {cols.dtype} and filters "
                            f"of {kern.dtype}; cast them to one dtype")
        k = _hinted(kern.type.shape, self.kshp)[0]
        b, _, _, _, oh, ow = cols.type.shape
        return Apply(self, [cols, kern],
                     [_output_type(cols.dtype, (b, k, oh, ow))])

    def perform(self, node, inputs, output_storage):
        cols, kern = inputs
        self._check_values(kern, self.kshp, 'filters')
        if cols.shape[1:4] != kern.shape[1:]:
            raise ValueError(
                f"conv2d: columns of shape {cols.shape} (batch, channels, "
                f"kernel rows and columns, output rows and columns) do not "
                f"match filters of shape {kern.shape}")
        output_storage[0][0] = _numpy_conv.forward_from_columns(
            cols, self._flip(kern))

    def infer_shape(self, fgraph, node, input_shapes):
        cols, kern = input_shapes
        k = _hinted(kern, self.kshp)[0]
        return [(cols[0], k, cols[4], cols[5])]


def _weights_gradient(op: BaseConv2d, cols, topgrad, gy_matrices=None):
    """`op`'s gradient with respect to the filters, from the image's
    columns; `gy_matrices` as in
    :func:`blocks.ops._numpy_conv.grad_weights_from_columns`."""
    b, _, _, _, oh, ow = cols.shape
    if topgrad.shape[0] != b or topgrad.shape[2:] != (oh, ow):
        raise ValueError(
            f"conv2d: an output gradient of shape {topgrad.shape} does "
            f"not match columns of shape {cols.shape} (batch {b}, "
            f"output rows and columns {(oh, ow)})")
    grad = _numpy_conv.grad_weights_from_columns(cols, topgrad, gy_matrices)
    return numpy.ascontiguousarray(op._flip(grad))


class Conv2dGradWeightsFromColumns(_NoGradient, BaseConv2d):
    """:class:`~blocks.ops.Conv2dGradWeights` from the image's
    :class:`Conv2dColumns`: applied to ``(columns, output_gradient)``."""

    def make_node(self, cols, topgrad):
        cols = _as_columns(cols)
        topgrad = _as_4d(topgrad, 'the output gradient')
        if cols.dtype != topgrad.dtype:
            raise TypeError(f"conv2d: columns of {cols.dtype} and an output "
                            f"gradient of {topgrad.dtype}; cast them to one "
                            f"dtype")
        _, c, kh, kw = cols.type.shape[:4]
        return Apply(self, [cols, topgrad], [_output_type(
            cols.dtype, (topgrad.type.shape[1], c, kh, kw))])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = _weights_gradient(self, *inputs)

    def infer_shape(self, fgraph, node, input_shapes):
        cols, topgrad = input_shapes
        return [(topgrad[1], cols[1], cols[2], cols[3])]


class Conv2dGradsFromColumns(_NoGradient, BaseConv2d):
    """:class:`Conv2dGradWeightsFromColumns` and
    :class:`~blocks.ops.Conv2dGradInputs` of one output gradient, in one
    Op: applied to ``(columns, filters, output_gradient,
    image_rows_and_columns)``, it returns the gradients with respect to the
    filters and to the image.

    Both products read the output gradient in the layout of
    :func:`blocks.ops._numpy_conv.output_gradient_matrices`; with the
    batch innermost that is a transposed copy, made here once instead of
    once per gradient.

    """

    def make_node(self, cols, kern, topgrad, shape):
        weights = Conv2dGradWeightsFromColumns(**self._params()).make_node(
            cols, topgrad)
        inputs = Conv2dGradInputs(**self._params()).make_node(
            kern, topgrad, shape)
        if inputs.outputs[0].dtype != cols.dtype:
            raise TypeError(f"conv2d: filters of {kern.type.dtype} and "
                            f"columns of {cols.type.dtype}; cast them to "
                            f"one dtype")
        return Apply(self, weights.inputs + inputs.inputs[:1] +
                     inputs.inputs[2:],
                     [weights.outputs[0].type(), inputs.outputs[0].type()])

    def perform(self, node, inputs, output_storage):
        cols, topgrad, kern, shape = inputs
        gy_matrices = _numpy_conv.output_gradient_matrices(topgrad)
        output_storage[0][0] = _weights_gradient(self, cols, topgrad,
                                                 gy_matrices)
        output_storage[1][0] = self.image_gradient(kern, topgrad, shape,
                                                   gy_matrices)

    def infer_shape(self, fgraph, node, input_shapes):
        cols, topgrad, kern, _ = input_shapes
        shape = node.inputs[3]
        k = _hinted(kern, self.kshp)[0]
        return [(k, cols[1], cols[2], cols[3]),
                (topgrad[0], kern[1], shape[0], shape[1])]


def _is_size(entry: Variable, kern: Variable, axis: int,
             static: int | None) -> bool:
    """Whether the scalar `entry` is provably ``kern.shape[axis]``."""
    if isinstance(entry, Constant):
        return static is not None and int(entry.data) == static
    owner = entry.owner
    return (owner is not None and isinstance(owner.op, Shape_i)
            and owner.op.i == axis and owner.inputs[0] is kern)


def _kernel_size_of(shape: Variable, conv) -> bool:
    """Whether the shape vector `shape` is provably the rows and columns
    of the filters of the :class:`~blocks.ops.Conv2d` node `conv`."""
    kern = conv.inputs[1]
    static = _hinted(kern.type.shape, conv.op.kshp)[2:]
    if isinstance(shape, Constant):
        return tuple(int(s) for s in shape.data) == tuple(static)
    owner = shape.owner
    if (owner is None or not isinstance(owner.op, MakeVector)
            or len(owner.inputs) != 2):
        return False
    return all(_is_size(entry, kern, 2 + axis, static[axis])
               for axis, entry in enumerate(owner.inputs))


def _computed_from(graphs: list[Variable], variables: set) -> bool:
    """Whether any of `graphs` is computed from one of `variables`."""
    return any(var in variables for var in ancestors(graphs))


def _shared_conv_columns(fgraph, node):
    """Share one im2col between a convolution and its weight gradient.

    Rewires ``Conv2d(x, w)`` and every ``Conv2dGradWeights(x, gy, shape)``
    with the same parameters and ``shape`` provably ``w``'s rows and
    columns onto one :class:`Conv2dColumns` of ``x`` (or onto one that a
    convolution of ``x`` with another kernel of the same size already
    shares). A convolution without such a partner is left alone. Where
    the graph also has a ``Conv2dGradInputs`` of the same ``gy`` and
    parameters, one :class:`Conv2dGradsFromColumns` computes both
    gradients, unless that Op would need its own output.

    """
    img, kern = node.inputs
    params = node.op._params()

    def same(client, op_class, shape_index):
        return (isinstance(client.op, op_class)
                and client.inputs[0] is img
                and client.op._params() == params
                and _kernel_size_of(client.inputs[shape_index], node))

    clients = [client for client, _ in fgraph.clients[img]]
    shared = [client for client in clients if same(client, Conv2dColumns, 1)]
    partners = [client for client in clients
                if same(client, Conv2dGradWeights, 2)]
    if not shared and not partners:
        return None
    if shared:
        cols = shared[0].outputs[0]
    else:
        cols = Conv2dColumns(**params)(img, partners[0].inputs[2])
    replacements = {node.outputs[0]: Conv2dFromColumns(**params)(cols, kern)}
    for partner in partners:
        topgrad = partner.inputs[1]
        # The image gradient of the same output gradient, if the graph has
        # one: both gradients then come from one Op.
        inputs_grads = [client for client, _ in fgraph.clients[topgrad]
                        if isinstance(client.op, Conv2dGradInputs)
                        and client.inputs[1] is topgrad
                        and client.op._params() == params
                        and client.inputs[0].dtype == topgrad.dtype]
        joined = inputs_grads and [
            cols, inputs_grads[0].inputs[0], topgrad,
            inputs_grads[0].inputs[2]]
        # Not where the joined Op would need its own output: a transposed
        # convolution's forward pass is a Conv2dGradInputs of the image
        # whose gradient `cols` comes from.
        if joined and not _computed_from(
                joined, {partner.outputs[0], inputs_grads[0].outputs[0]}):
            grads = Conv2dGradsFromColumns(**params)(*joined)
            replacements[partner.outputs[0]] = grads[0]
            replacements[inputs_grads[0].outputs[0]] = grads[1]
        else:
            replacements[partner.outputs[0]] = Conv2dGradWeightsFromColumns(
                **params)(cols, topgrad)
    return replacements


# The function keeps its own module-level name: compiled functions pickle
# their mode, and with it this rewriter, by reference.
local_shared_conv_columns = node_rewriter([Conv2d])(_shared_conv_columns)
