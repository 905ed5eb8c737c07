"""C code of max pooling and its gradient, for blocks' default (C) mode.

The NumPy ``perform`` of :class:`~blocks.ops.Pool` and
:class:`~blocks.ops.MaxPoolGrad` passes over the whole array once per
window position, through strided views and temporaries: a LeNet's first
pooling layer (2x2 over 128x20x24x24, float32) took 0.8 ms forward and
2.4 ms backward. These loops take each output's window in one pass, a
pair of columns at a time, which GCC vectorises: 0.2 and 0.5 ms for the
same layer. They cover the common case, max pooling two columns wide with
a column stride of two (2x2 windows above all), without padding and with
windows inside the input (``ignore_border=True``); any window height and
row stride. Other configurations keep the NumPy code (a general loop here
was slower than it). The window height and row stride are run-time
parameters (:data:`PARAMS`), so one compiled module serves them all.
"""
from pytensor.link.c.params_type import ParamsType
from pytensor.scalar import int64

#: The Ops' run-time parameters: window rows and columns, strides.
PARAMS = ParamsType(ws0=int64, ws1=int64, st0=int64, st1=int64)

#: Bumped whenever the C code below changes.
VERSION = (4,)


def applies(op) -> bool:
    """Whether the C loops compute `op`'s configuration."""
    return (op.mode == 'max' and op.ignore_border and op.pad == (0, 0) and
            op.ws[1] == op.stride[1] == 2)


def _geometry(x: str, params: str, fail: str) -> str:
    """Declarations shared by both Ops: the sizes of `x` (viewed as a
    stack of planes) and of the pooled planes, checked."""
    return f"""
    const int nd = PyArray_NDIM({x});
    const npy_intp h = PyArray_DIMS({x})[nd - 2];
    const npy_intp w = PyArray_DIMS({x})[nd - 1];
    const npy_intp ws0 = {params}->ws0, ws1 = {params}->ws1;
    const npy_intp st0 = {params}->st0, st1 = {params}->st1;
    const npy_intp oh = h >= ws0 ? (h - ws0) / st0 + 1 : 0;
    const npy_intp ow = w >= ws1 ? (w - ws1) / st1 + 1 : 0;
    npy_intp planes = 1;
    for (int d = 0; d < nd - 2; d++) planes *= PyArray_DIMS({x})[d];
    if (oh <= 0 || ow <= 0) {{
        PyErr_Format(PyExc_ValueError,
            "pool_2d: a (%ld, %ld) window with padding (0, 0) does not "
            "fit the input's (%ld, %ld) rows and columns",
            (long) ws0, (long) ws1, (long) h, (long) w);
        {fail}
    }}
    """


def _output(out: str, dims: str, typenum: str, fail: str) -> str:
    """(Re)allocate `out`, C-contiguous, of shape `dims` (`nd` entries)."""
    return f"""
    {{
        int reuse = {out} != NULL && PyArray_NDIM({out}) == nd &&
                    PyArray_IS_C_CONTIGUOUS({out});
        for (int d = 0; reuse && d < nd; d++)
            reuse = PyArray_DIMS({out})[d] == {dims}[d];
        if (!reuse) {{
            Py_XDECREF({out});
            {out} = (PyArrayObject*) PyArray_EMPTY(nd, {dims}, {typenum}, 0);
            if (!{out}) {{ {fail} }}
        }}
    }}
    """


#: GCC's 512-bit loops with AVX-512 masks were 4 times slower than its
#: 256-bit ones on these short rows (an AMD EPYC, 128x20x24x24 floats).
COMPILE_ARGS = ['-mprefer-vector-width=256']


def support_code(node, name) -> str:
    """The loops, as functions of their own over `__restrict__` pointers:
    inside PyTensor's large function, GCC vectorised neither."""
    _, ctype, _ = node.inputs[0].type.dtype_specs()
    return f"""
__attribute__((noinline))
static void {name}_max_pool(const {ctype}* __restrict__ x,
                            {ctype}* __restrict__ y,
                            npy_intp planes, npy_intp h, npy_intp w,
                            npy_intp oh, npy_intp ow, npy_intp ws0,
                            npy_intp st0) {{
    for (npy_intp p = 0; p < planes; p++) {{
        for (npy_intp r = 0; r < oh; r++) {{
            {ctype}* __restrict__ out = y + (p * oh + r) * ow;
            const {ctype}* window = x + (p * h + r * st0) * w;
            if (ws0 == 2) {{  // 2x2 windows: one pass
                const {ctype}* __restrict__ a = window;
                const {ctype}* __restrict__ b = window + w;
                for (npy_intp q = 0; q < ow; q++) {{
                    {ctype} best = a[2 * q], value = a[2 * q + 1];
                    best = (value > best || value != value) ? value : best;
                    value = b[2 * q];
                    best = (value > best || value != value) ? value : best;
                    value = b[2 * q + 1];
                    best = (value > best || value != value) ? value : best;
                    out[q] = best;
                }}
                continue;
            }}
            for (npy_intp q = 0; q < ow; q++) out[q] = window[2 * q];
            for (npy_intp u = 0; u < ws0; u++) {{
                const {ctype}* __restrict__ row = window + u * w;
                for (npy_intp q = 0; q < ow; q++) {{
                    {ctype} best = out[q];
                    {ctype} value = row[2 * q];
                    best = (value > best || value != value) ? value : best;
                    value = row[2 * q + 1];
                    best = (value > best || value != value) ? value : best;
                    out[q] = best;
                }}
            }}
        }}
    }}
}}

// Each cell of a window's rows gets (x == max) * gz, as the NumPy code
// computes it; `add` sums rows of overlapping windows into a zeroed gx.
__attribute__((noinline))
static void {name}_max_pool_grad(const {ctype}* __restrict__ x,
                                 const {ctype}* __restrict__ y,
                                 const {ctype}* __restrict__ gz,
                                 {ctype}* __restrict__ gx, npy_intp planes,
                                 npy_intp h, npy_intp w, npy_intp oh,
                                 npy_intp ow, npy_intp ws0, npy_intp st0,
                                 int add) {{
    for (npy_intp p = 0; p < planes; p++) {{
        for (npy_intp r = 0; r < oh; r++) {{
            const {ctype}* __restrict__ top = y + (p * oh + r) * ow;
            const {ctype}* __restrict__ g = gz + (p * oh + r) * ow;
            for (npy_intp u = 0; u < ws0; u++) {{
                const npy_intp start = (p * h + r * st0 + u) * w;
                const {ctype}* __restrict__ row = x + start;
                {ctype}* __restrict__ grad = gx + start;
                if (add) {{
                    for (npy_intp q = 0; q < ow; q++) {{
                        grad[2 * q] += ({ctype}) (row[2 * q] == top[q]) * g[q];
                        grad[2 * q + 1] +=
                            ({ctype}) (row[2 * q + 1] == top[q]) * g[q];
                    }}
                }} else {{
                    for (npy_intp q = 0; q < ow; q++) {{
                        grad[2 * q] = ({ctype}) (row[2 * q] == top[q]) * g[q];
                        grad[2 * q + 1] =
                            ({ctype}) (row[2 * q + 1] == top[q]) * g[q];
                    }}
                }}
            }}
        }}
    }}
}}
"""


def pool_code(node, name, inputs, outputs, sub) -> str:
    """``Pool`` (max): each output is the maximum of its window, NaN
    winning as in ``numpy.maximum``."""
    (x,), (out,) = inputs, outputs
    _, ctype, typenum = node.inputs[0].type.dtype_specs()
    fail = sub['fail']
    return f"""
    {{
    {_geometry(x, sub['params'], fail)}
    npy_intp dims[NPY_MAXDIMS];
    for (int d = 0; d < nd; d++) dims[d] = PyArray_DIMS({x})[d];
    dims[nd - 2] = oh;
    dims[nd - 1] = ow;
    {_output(out, 'dims', typenum, fail)}
    PyArrayObject* xc = PyArray_GETCONTIGUOUS({x});
    if (!xc) {{ {fail} }}
    {name}_max_pool((const {ctype}*) PyArray_DATA(xc),
                    ({ctype}*) PyArray_DATA({out}), planes, h, w, oh, ow,
                    ws0, st0);
    Py_DECREF(xc);
    }}
    """


def max_pool_grad_code(node, name, inputs, outputs, sub) -> str:
    """``MaxPoolGrad``: each input cell equal to its window's maximum gets
    the window's gradient (Theano's rule for ties)."""
    (x, maxout, gz), (gx,) = inputs, outputs
    _, ctype, typenum = node.inputs[0].type.dtype_specs()
    fail = sub['fail']
    return f"""
    {{
    {_geometry(x, sub['params'], fail)}
    for (int k = 0; k < 2; k++) {{
        PyArrayObject* given = k ? {gz} : {maxout};
        if (PyArray_NDIM(given) != nd ||
                PyArray_DIMS(given)[nd - 2] != oh ||
                PyArray_DIMS(given)[nd - 1] != ow ||
                PyArray_SIZE(given) != planes * oh * ow) {{
            PyErr_Format(PyExc_ValueError,
                "MaxPoolGrad: the %s has %ld elements, but pooling the "
                "input gives %ld planes of (%ld, %ld)",
                k ? "output gradient" : "pooled output",
                (long) PyArray_SIZE(given), (long) planes, (long) oh,
                (long) ow);
            {fail}
        }}
    }}
    {_output(gx, 'PyArray_DIMS(' + x + ')', typenum, fail)}
    PyArrayObject* xc = PyArray_GETCONTIGUOUS({x});
    PyArrayObject* yc = PyArray_GETCONTIGUOUS({maxout});
    PyArrayObject* gc = PyArray_GETCONTIGUOUS({gz});
    if (!xc || !yc || !gc) {{
        Py_XDECREF(xc); Py_XDECREF(yc); Py_XDECREF(gc);
        {fail}
    }}
    // Windows that tile the rows write each cell once, the others add up.
    const int add = st0 != ws0;
    if (add || oh * ws0 != h || 2 * ow != w)
        memset(PyArray_DATA({gx}), 0, PyArray_NBYTES({gx}));
    {name}_max_pool_grad((const {ctype}*) PyArray_DATA(xc),
                         (const {ctype}*) PyArray_DATA(yc),
                         (const {ctype}*) PyArray_DATA(gc),
                         ({ctype}*) PyArray_DATA({gx}), planes, h, w, oh, ow,
                         ws0, st0, add);
    Py_DECREF(xc); Py_DECREF(yc); Py_DECREF(gc);
    }}
    """
