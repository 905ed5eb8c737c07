"""Faster element-wise kernels for blocks' default (C) mode.

PyTensor's C code for an element-wise operation walks its arrays with
run-time strides and writes through references that may alias its inputs,
a loop no compiler vectorises. A step rule's update of a 784x500 matrix
(Adam: three buffers, a square root and a division per element) took 2 ms
that way, against 0.13 ms in Numba's kernel. :class:`FlatElemwise` adds a
second loop for the common case, every array C-contiguous and of the output's
size and the other inputs broadcast scalars: a separate function over flat
pointers, which GCC vectorises. The same function also runs row by row
when every array's innermost axis is contiguous (whatever the strides of
the others: column slices, sequences read backwards) and the other inputs
are scalars or rows broadcast along the leading axes; and once per block
when the other inputs are broadcast along the trailing axes (a
convolution's per-channel bias), passed as values. Anything else takes
PyTensor's loop.

:class:`NumpyUfunc` computes ``tanh``, ``exp`` and ``log`` with NumPy's
vectorised loops: C code calls the C library's scalar functions, which no
compiler vectorises without ``-ffast-math``. :class:`NumpySum` sums
float32 over the innermost axis in float64 with NumPy's vectorised loop:
PyTensor's C code adds one element after the other.

:class:`Contiguous` gives a scan its transposed weight matrices as
C-contiguous copies (:data:`local_contiguous_scan_matrices`).

The node rewriters :data:`local_flat_elemwise`, :data:`local_numpy_ufuncs`,
:data:`local_numpy_sum` and :data:`local_contiguous_scan_matrices` put
these Ops in a graph; blocks' C mode
(:func:`blocks.compilation.backend_mode`) registers them, with
:data:`local_unshared_dot22_to_dot22scalar` in place of PyTensor's
``local_dot22_to_dot22scalar``.
"""
import math

import numpy
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.graph.rewriting.basic import node_rewriter
from pytensor.scalar import basic as scalar
from pytensor.tensor.blas import Dot22
from pytensor.scan.op import Scan
from pytensor.tensor import as_tensor_variable, tensor
from pytensor.tensor.elemwise import DimShuffle, Elemwise
from pytensor.tensor.math import Sum, mul
from pytensor.tensor.rewriting.blas import local_dot22_to_dot22scalar

__all__ = ['Contiguous', 'FlatElemwise', 'NumpySum', 'NumpyUfunc',
           'local_contiguous_scan_matrices', 'local_flat_elemwise',
           'local_numpy_sum', 'local_numpy_ufuncs',
           'local_unshared_dot22_to_dot22scalar']

# Given to the scalar code as its failure statement: a scalar Op that can
# fail (integer division by zero, ...) jumps to a label of PyTensor's own
# function, so such Ops keep PyTensor's loop.
_NO_FAILURE = '__blocks_flat_kernel_cannot_fail__'


def _is_scalar(variable) -> bool:
    return all(length == 1 for length in variable.type.shape)


def _is_row(variable) -> bool:
    """Broadcast along every axis but the innermost, e.g. ``(1, n)``."""
    shape = variable.type.shape
    return (len(shape) > 1 and all(length == 1 for length in shape[:-1])
            and shape[-1] != 1)


def _block_start(variable, ndim: int) -> int | None:
    """Where the run of broadcast axes that ends a `variable` begins, if
    it has one and is not broadcast everywhere: 1 for a convolution's
    per-channel bias ``(1, c, 1, 1)``."""
    shape = variable.type.shape
    if len(shape) != ndim or _is_scalar(variable) or shape[-1] != 1:
        return None
    start = ndim
    while start > 0 and shape[start - 1] == 1:
        start -= 1
    return start


class FlatElemwise(Elemwise):
    """An :class:`~pytensor.tensor.elemwise.Elemwise` with a flat C loop.

    Computes the same values with the same scalar code as the
    ``Elemwise`` it replaces; only the loop around that code differs.

    """

    def _kernel_parts(self, node, nodename):
        """The kernel's C source and the roles of its arguments, or None."""
        if self.openmp or _is_scalar(node.outputs[0]):
            return None
        inputs = list(dict.fromkeys(node.inputs))
        names = {variable: f'i{index}' for index, variable
                 in enumerate(inputs)}
        destroyed = {output: inputs.index(node.inputs[position])
                     for output, position in self.inplace_pattern.items()}
        if not hasattr(node.tag, 'fake_node'):
            self.prepare_node(node, None, None, 'c')
        try:
            task = self.scalar_op.c_code(
                node.tag.fake_node, nodename + '_flat_scalar_',
                [f'{names[variable]}_i' for variable in node.inputs],
                [f'o{index}_i' for index in range(len(node.outputs))],
                {'fail': _NO_FAILURE})
        except NotImplementedError:
            return None
        if _NO_FAILURE in task:
            return None
        out_shape = node.outputs[0].type.shape
        blocks = {}
        for index, variable in enumerate(inputs):
            start = _block_start(variable, len(out_shape))
            # A blocked input is a value per block: not one written in
            # place, nor one whose block axes have length 1 in the output.
            if (start is not None and index not in destroyed.values() and
                    any(length != 1 for length in out_shape[start:])):
                blocks[variable] = start
        source = self._kernel_source(
            f'{nodename}_flat_kernel', node, inputs, destroyed, task, set())
        if blocks:
            source += self._kernel_source(
                f'{nodename}_block_kernel', node, inputs, destroyed, task,
                set(blocks))
        return source, inputs, destroyed, blocks

    @staticmethod
    def _kernel_source(name, node, inputs, destroyed, task, by_value):
        """A loop over `n` elements; the inputs in `by_value` and the
        broadcast scalars are passed as values, the others as pointers."""
        parameters, loads, defines, stores = [], [], [], []
        for index, variable in enumerate(inputs):
            ctype = variable.type.dtype_specs()[1]
            if _is_scalar(variable) or variable in by_value:
                parameters.append(f'const {ctype} i{index}_value')
                loads.append(f'{ctype} i{index}_i = i{index}_value;')
            else:
                parameters.append(f'{ctype}* i{index}_ptr')
                loads.append(f'{ctype} i{index}_i = i{index}_ptr[i];')
        for index, output in enumerate(node.outputs):
            if index in destroyed:
                defines.append((f'o{index}_i', f'i{destroyed[index]}_i'))
                stores.append(f'i{destroyed[index]}_ptr[i] = '
                              f'i{destroyed[index]}_i;')
            else:
                ctype = output.type.dtype_specs()[1]
                parameters.append(f'{ctype}* o{index}_ptr')
                loads.append(f'{ctype} o{index}_i;')
                stores.append(f'o{index}_ptr[i] = o{index}_i;')
        newline = '\n'
        # Not inlined: GCC does not vectorise the loop inside PyTensor's
        # large function.
        return f"""
__attribute__((noinline))
static void {name}(npy_intp n, {', '.join(parameters)}) {{
    // Each iteration reads and writes element i only.
    #pragma GCC ivdep
    for (npy_intp i = 0; i < n; i++) {{
        {newline.join(loads)}
        {newline.join(f'#define {a} {b}' for a, b in defines)}
        {{
        {task}
        }}
        {newline.join(f'#undef {a}' for a, _ in defines)}
        {newline.join(stores)}
    }}
}}
"""

    def _c_all(self, node, nodename, inames, onames, sub):
        decl, checks, alloc, loop, end = super()._c_all(
            node, nodename, inames, onames, sub)
        parts = self._kernel_parts(node, nodename)
        if parts is None:
            return decl, checks, alloc, loop, end
        _, inputs, destroyed, blocks = parts
        input_names = list(dict.fromkeys(inames))
        # Arrays of the output's shape, rows broadcast along the leading
        # axes, inputs broadcast along the trailing axes (`blocked`), and
        # the kernels' arguments in the order of their parameters.
        full, rows, blocked, arguments, block_arguments = [], [], [], [], []
        for name, variable in zip(input_names, inputs, strict=True):
            ctype = variable.type.dtype_specs()[1]
            if _is_scalar(variable):
                value = f'(({ctype}*) PyArray_DATA({name}))[0]'
                arguments.append(value)
                block_arguments.append(value)
            elif _is_row(variable):
                rows.append(name)
                arguments.append(f'({ctype}*) PyArray_DATA({name})')
            else:
                # A blocked input can also have the output's shape.
                full.append(name)
                arguments.append(f'({ctype}*) {name}_row')
                if variable in blocks:
                    blocked.append(name)
                    block_arguments.append(f'*({ctype}*) {name}_block')
                else:
                    block_arguments.append(
                        f'({ctype}*) PyArray_BYTES({name}) + '
                        f'{nodename}_r * {nodename}_inner')
        for index, (name, output) in enumerate(zip(onames, node.outputs,
                                                   strict=True)):
            if index not in destroyed:
                full.append(name)
                ctype = output.type.dtype_specs()[1]
                arguments.append(f'({ctype}*) {name}_row')
                block_arguments.append(
                    f'({ctype}*) PyArray_BYTES({name}) + '
                    f'{nodename}_r * {nodename}_inner')
        out = onames[0]
        size = f'PyArray_SIZE({out})'
        block_branch = '' if rows or not blocks else self._block_loop(
            nodename, out, max(blocks.values()),
            [name for name in full if name not in blocked], blocked,
            block_arguments)
        flat = ' && '.join(
            [f'PyArray_IS_C_CONTIGUOUS({name}) && '
             f'PyArray_SIZE({name}) == {size}' for name in full] +
            ['0'] * bool(rows))
        # Every array's innermost axis contiguous (any strides elsewhere):
        # the kernel runs once per row.
        row_checks = ' && '.join(
            [f'{nodename}_same_shape({name}, {out})' for name in full] +
            [f'PyArray_DIMS({name})[PyArray_NDIM({name}) - 1] == '
             f'{nodename}_n' for name in rows] +
            [f'({nodename}_n < 2 || PyArray_STRIDES({name})'
             f'[PyArray_NDIM({name}) - 1] == PyArray_ITEMSIZE({name}))'
             for name in full + rows])
        pointers = '\n'.join(f'char* {name}_row = PyArray_BYTES({name});'
                              for name in full)
        advance = '\n'.join(
            f'{name}_row += PyArray_STRIDES({name})[d];' for name in full)
        rewind = '\n'.join(
            f'{name}_row -= PyArray_STRIDES({name})[d] * '
            f'PyArray_DIMS({out})[d];' for name in full)
        loop = f"""
        {{
        int {nodename}_nd = PyArray_NDIM({out});
        npy_intp {nodename}_n = {nodename}_nd ?
            PyArray_DIMS({out})[{nodename}_nd - 1] : 1;
        {pointers}
        if ({flat}) {{
            {nodename}_flat_kernel({size}, {', '.join(arguments)});
        }} {block_branch} else if ({nodename}_nd > 0 && {nodename}_n > 0
                   && {row_checks}) {{
            npy_intp {nodename}_index[NPY_MAXDIMS] = {{0}};
            npy_intp {nodename}_rows = {size} / {nodename}_n;
            for (npy_intp r = 0; r < {nodename}_rows; r++) {{
                {nodename}_flat_kernel({nodename}_n, {', '.join(arguments)});
                for (int d = {nodename}_nd - 2; d >= 0; d--) {{
                    {advance}
                    if (++{nodename}_index[d] < PyArray_DIMS({out})[d])
                        break;
                    {nodename}_index[d] = 0;
                    {rewind}
                }}
            }}
        }} else {{
            {loop}
        }}
        }}
        """
        return decl, checks, alloc, loop, end

    @staticmethod
    def _block_loop(nodename, out, start, full, blocked, arguments):
        """The ``else if`` branch that runs the block kernel once per index
        of the axes before `start`, over the C-contiguous block of the
        axes from `start` on, where each blocked input is one value (a
        convolution's bias: one kernel call per image and channel)."""
        checks = ' && '.join(
            [f'PyArray_IS_C_CONTIGUOUS({name}) && '
             f'{nodename}_same_shape({name}, {out})' for name in full] +
            [f'(PyArray_DIMS({name})[{d}] == 1 || PyArray_DIMS({name})[{d}]'
             f' == PyArray_DIMS({out})[{d}])'
             for name in blocked for d in range(start)])
        pointers = '\n'.join(f'char* {name}_block = PyArray_BYTES({name});'
                              for name in blocked)
        offsets = '\n'.join(
            f'if (PyArray_DIMS({name})[d] != 1) {name}_block += '
            f'{nodename}_i * PyArray_STRIDES({name})[d];' for name in blocked)
        return f"""else if ({checks}) {{
            npy_intp {nodename}_inner = 1;
            for (int d = {start}; d < PyArray_NDIM({out}); d++)
                {nodename}_inner *= PyArray_DIMS({out})[d];
            npy_intp {nodename}_outer = {nodename}_inner ?
                PyArray_SIZE({out}) / {nodename}_inner : 0;
            for (npy_intp {nodename}_r = 0; {nodename}_r < {nodename}_outer;
                 {nodename}_r++) {{
                {pointers}
                npy_intp {nodename}_rest = {nodename}_r;
                for (int d = {start} - 1; d >= 0; d--) {{
                    npy_intp {nodename}_i =
                        {nodename}_rest % PyArray_DIMS({out})[d];
                    {nodename}_rest /= PyArray_DIMS({out})[d];
                    {offsets}
                }}
                {nodename}_block_kernel({nodename}_inner,
                                        {', '.join(arguments)});
            }}
        }}"""

    def c_support_code_apply(self, node, nodename):
        code = super().c_support_code_apply(node, nodename)
        parts = self._kernel_parts(node, nodename)
        if parts is None:
            return code
        return code + parts[0] + f"""
static int {nodename}_same_shape(PyArrayObject* a, PyArrayObject* b) {{
    if (PyArray_NDIM(a) != PyArray_NDIM(b)) return 0;
    for (int d = 0; d < PyArray_NDIM(a); d++)
        if (PyArray_DIMS(a)[d] != PyArray_DIMS(b)[d]) return 0;
    return 1;
}}
"""

    def c_code_cache_version_apply(self, node):
        version = super().c_code_cache_version_apply(node)
        return (*version, ('blocks_flat_kernel', 5)) if version else version


def _flat_elemwise(fgraph, node):
    """Replace an :class:`Elemwise` on arrays by a :class:`FlatElemwise`."""
    if type(node.op) is not Elemwise or _is_scalar(node.outputs[0]):
        return None
    # One input: PyTensor's own contiguous loop serves, and every kernel
    # costs compile time.
    if len(set(node.inputs)) < 2:
        return None
    if any(variable.dtype == 'float16' for variable
           in node.inputs + node.outputs):
        return None
    return FlatElemwise(node.op.scalar_op, node.op.inplace_pattern
                        ).make_node(*node.inputs).outputs


# The functions keep their own module-level names: compiled functions
# pickle their mode, and with it these rewriters, by reference.
local_flat_elemwise = node_rewriter([Elemwise])(_flat_elemwise)


class NumpyUfunc(Op):
    """An elementwise function computed by a NumPy ufunc.

    PyTensor's C code calls the C library's scalar ``tanh``, ``exp`` and
    ``log`` element by element; NumPy's vectorised loops are 4 to 30 times
    faster on large arrays (see ``docs/backends.rst``), which outweighs
    the few microseconds of a Python thunk and the lost fusion with
    neighbouring elementwise operations.

    Parameters
    ----------
    name : str
        The name of the NumPy ufunc (``'tanh'``, ``'exp'``, ``'log'``).

    """

    __props__ = ('name',)

    def __init__(self, name: str):
        self.name = name

    def make_node(self, x):
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        # `out=`: on 0-d arrays ufuncs return NumPy scalars, not arrays.
        output = numpy.empty_like(x)
        getattr(numpy, self.name)(x, out=output)
        output_storage[0][0] = output

    def infer_shape(self, fgraph, node, input_shapes):
        return input_shapes

    def __str__(self):
        return f'NumpyUfunc{{{self.name}}}'


# The dtypes for which NumPy's loop was measured faster (NumPy 2.4, x86-64;
# its float64 log is slower than the C library's).
_NUMPY_UFUNCS = {
    scalar.Tanh: (NumpyUfunc('tanh'), ('float32', 'float64')),
    scalar.Exp: (NumpyUfunc('exp'), ('float32', 'float64')),
    scalar.Log: (NumpyUfunc('log'), ('float32',)),
}


def _numpy_ufuncs(fgraph, node):
    """Replace ``tanh``, ``exp`` and ``log`` by :class:`NumpyUfunc`."""
    op, dtypes = _NUMPY_UFUNCS.get(type(node.op.scalar_op), (None, ()))
    (output,) = node.outputs
    if (op is None or node.inputs[0].type != output.type or
            output.dtype not in dtypes):
        return None
    return [op(node.inputs[0])]


local_numpy_ufuncs = node_rewriter([Elemwise])(_numpy_ufuncs)


class NumpySum(Op):
    """A float32 sum over `axes`, accumulated in float64 outside PyTensor.

    PyTensor's C ``Sum`` accumulates float32 in float64 one element after
    the other: over the innermost axis of a large tensor (a convolution's
    bias gradient, ``axis=(0, 2, 3)`` of a 128x20x24x24 tensor) that was
    measured 5 to 9 times slower than NumPy's vectorised float64 summation
    (4.7 ms against 0.5 ms). Where the summed axes end the array and lie
    contiguous, a compiled loop (:func:`blocks._row_sums.row_sums`) sums
    them, 0.11 ms on that tensor; NumPy sums the other axes of its result,
    and any other case. All accumulate in float64.

    Parameters
    ----------
    axes : tuple of int
        The axes summed over, as non-negative ints.

    """

    __props__ = ('axes',)

    def __init__(self, axes: tuple[int, ...]):
        self.axes = tuple(axes)

    def make_node(self, x):
        kept = [i for i in range(x.ndim) if i not in self.axes]
        out = tensor(dtype=x.dtype,
                     shape=tuple(x.type.shape[i] for i in kept))
        return Apply(self, [x], [out])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        inner = self._inner_axes(x.ndim)
        if inner and x.size and x.flags.c_contiguous:
            # Imported on first use: importing Numba takes a third of a
            # second, which `import blocks` need not pay.
            from blocks._row_sums import row_sums
            rows = x.reshape(-1, math.prod(x.shape[x.ndim - inner:]))
            sums = numpy.empty(rows.shape[0])
            row_sums(rows, sums)
            sums = sums.reshape(x.shape[:x.ndim - inner])
            outer = tuple(axis for axis in self.axes if axis < x.ndim - inner)
            total = numpy.add.reduce(sums, axis=outer) if outer else sums
        else:
            total = numpy.add.reduce(x, axis=self.axes, dtype='float64')
        output_storage[0][0] = numpy.asarray(total, dtype=x.dtype)

    def _inner_axes(self, ndim: int) -> int:
        """How many of the last axes are summed, all of them."""
        inner = 0
        while inner < ndim and ndim - 1 - inner in self.axes:
            inner += 1
        return inner

    def infer_shape(self, fgraph, node, input_shapes):
        (shape,) = input_shapes
        return [tuple(s for i, s in enumerate(shape) if i not in self.axes)]

    def __str__(self):
        return f'NumpySum{{axes={list(self.axes)}}}'


def _numpy_sum(fgraph, node):
    """Replace float32 sums accumulated in float64 over the innermost axis
    of 3-d and larger tensors by :class:`NumpySum` (over other axes, and
    on smaller tensors, PyTensor's C loop was as fast or faster)."""
    (x,), (output,) = node.inputs, node.outputs
    axes = tuple(range(x.ndim)) if node.op.axis is None else node.op.axis
    if (x.ndim < 3 or x.ndim - 1 not in axes or x.dtype != 'float32' or
            output.dtype != 'float32' or node.op.acc_dtype != 'float64'):
        return None
    return [NumpySum(axes)(x)]


local_numpy_sum = node_rewriter([Sum])(_numpy_sum)


def _unshared_dot22_to_dot22scalar(fgraph, node):
    """PyTensor's ``local_dot22_to_dot22scalar``, for unshared products only.

    PyTensor folds ``scalar * dot(x, y)`` into one ``Dot22Scalar`` even when
    ``dot(x, y)`` is used elsewhere too, and then computes the product
    twice: Adam's update uses the gradient ``dot(x.T, d)`` both scaled (the
    mean) and squared (the variance), which doubled the step's matrix
    products for the weights (2 ms of a 6.3 ms step of a 784-500-500-10
    MLP). Without the fold the scaling joins the fused update loop.

    """
    for variable in node.inputs:
        if (variable.owner is not None and
                isinstance(variable.owner.op, Dot22) and
                len(fgraph.clients[variable]) > 1):
            return None
    return local_dot22_to_dot22scalar.transform(fgraph, node)


local_unshared_dot22_to_dot22scalar = node_rewriter([mul])(
    _unshared_dot22_to_dot22scalar)


class Contiguous(Op):
    """A C-contiguous copy of a matrix (the matrix itself if it is one).

    See :data:`local_contiguous_scan_matrices`.

    """

    __props__ = ()

    def make_node(self, x):
        x = as_tensor_variable(x)
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, output_storage):
        output_storage[0][0] = numpy.ascontiguousarray(inputs[0])

    def infer_shape(self, fgraph, node, input_shapes):
        return input_shapes

    def pullback(self, inputs, outputs, output_gradients):
        return output_gradients


def _contiguous_scan_matrices(fgraph, node):
    """Give a scan its transposed matrices as C-contiguous copies.

    PyTensor moves the transposed weights of a recurrent step's gradient,
    ``dot(d, W.T)``, out of the backward scan as a transposed view, and
    OpenBLAS multiplied a 32x1024 matrix by that view 1.5 times slower
    than by a C-contiguous 1024x256 matrix (0.35 ms against 0.24 ms, at
    every step). The copy is made once per call, outside the loop.

    """
    inputs = list(node.inputs)
    first = len(inputs) - len(node.op.outer_non_seqs(inputs))
    changed = False
    for position in range(first, len(inputs)):
        variable = inputs[position]
        owner = variable.owner
        if (owner is not None and isinstance(owner.op, DimShuffle) and
                owner.op.new_order == (1, 0)):
            inputs[position] = Contiguous()(variable)
            changed = True
    if not changed:
        return None
    return node.op(*inputs, return_list=True)


local_contiguous_scan_matrices = node_rewriter([Scan])(
    _contiguous_scan_matrices)
