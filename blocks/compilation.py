"""The one place where blocks compiles PyTensor functions.

Every function that blocks compiles (the training step, monitoring, graph
helpers) goes through :func:`function`, so the mode and linker that users get
without flags are chosen here, once.

What blocks picks when the user sets neither ``mode`` nor ``linker`` (in
``PYTENSOR_FLAGS``, ``.pytensorrc`` or ``pytensor.config``):

* PyTensor's C virtual machine (``cvm`` linker, ``fast_run`` rewrites) when
  a C compiler is available and PyTensor can call a BLAS library, plus one
  rewrite of blocks' own, :data:`NUMPY_UFUNCS_REWRITE`, that computes
  ``tanh``, ``exp`` and ``log`` with NumPy's vectorised loops instead of the
  C library's scalar functions, and float32 sums over the innermost axis of
  3-d and larger tensors (a convolution's bias gradient) with NumPy's
  vectorised float64 summation. It was the fastest option measured for
  blocks' workloads (see ``docs/algorithms.rst`` and
  ``benchmarks/training_step.py``).
* Otherwise PyTensor's default backend, Numba: the C backend without BLAS
  runs matrix products through a slow fallback.

A pip-installed PyTensor finds no BLAS to link against
(``blas__ldflags`` is empty), but SciPy, a PyTensor dependency, ships an
OpenBLAS whose symbols carry a ``scipy_`` prefix. Unless the user set
``blas__ldflags``, :func:`configure_blas` points PyTensor at that library,
mapping the Fortran names PyTensor's C code calls (``sgemm_``) onto the
prefixed ones (``scipy_sgemm_``) with preprocessor definitions.
"""
import ctypes
import glob
import os

import numpy
import pytensor
from pytensor.compile import optdb
from pytensor.compile.mode import Mode, get_mode
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.graph.rewriting.basic import in2out, node_rewriter
from pytensor.scalar import basic as scalar
from pytensor.tensor.elemwise import Elemwise
from pytensor.tensor.math import Sum

__all__ = ['function', 'default_mode', 'user_chose_mode', 'configure_blas',
           'scipy_openblas_ldflags', 'describe', 'NumpyUfunc', 'NumpySum',
           'NUMPY_UFUNCS_REWRITE']

#: Fortran BLAS routines that PyTensor's C code calls.
BLAS_ROUTINES = ('sgemm_', 'dgemm_', 'sgemv_', 'dgemv_', 'sger_', 'dger_',
                 'sdot_', 'ddot_', 'saxpy_', 'daxpy_', 'scopy_', 'dcopy_',
                 'sscal_', 'dscal_', 'sswap_', 'dswap_')

_blas_configured = False

#: Name of the rewrite that moves transcendental elementwise functions to
#: NumPy; ``Mode.including``/``excluding`` it.
NUMPY_UFUNCS_REWRITE = 'blocks_numpy_ufuncs'


def _user_set(name: str) -> bool:
    """Whether the user set PyTensor option `name`.

    Through ``PYTENSOR_FLAGS`` or ``.pytensorrc`` (PyTensor then marks the
    option as not default), or by assigning a value other than the default
    to ``pytensor.config.<name>``.

    """
    parameter = pytensor.config._config_var_dict[name]
    if not parameter.is_default:
        return True
    return (hasattr(parameter, 'val') and not callable(parameter.default)
            and parameter.val != parameter.default)


def user_chose_mode() -> bool:
    """Whether the user picked a PyTensor mode or linker.

    ``PYTENSOR_FLAGS``, the ``.pytensorrc`` configuration file and
    assignments to ``pytensor.config.mode`` or ``.linker`` count.

    """
    return _user_set('mode') or _user_set('linker')


def scipy_openblas_ldflags() -> str:
    """``blas__ldflags`` for the OpenBLAS bundled in SciPy's wheel.

    Returns an empty string when there is no such library (e.g. SciPy
    installed by conda, which brings a BLAS that PyTensor finds itself).

    """
    try:
        import scipy
    except ImportError:
        return ''
    # Wheels built with auditwheel put bundled libraries in `scipy.libs`
    # next to the package; the 32-bit integer (LP64) build is the one
    # whose interface matches PyTensor's `int` arguments.
    library_dir = os.path.abspath(os.path.join(
        os.path.dirname(scipy.__file__), os.pardir, 'scipy.libs'))
    libraries = sorted(glob.glob(os.path.join(
        library_dir, 'libscipy_openblas-*.so')))
    if not libraries:
        return ''
    try:
        library = ctypes.CDLL(libraries[0])
    except OSError:
        return ''
    # Another SciPy build could name its symbols differently.
    if not all(hasattr(library, f'scipy_{name}') for name in BLAS_ROUTINES):
        return ''
    # A `-l` option (not a path): PyTensor's C ops enable their BLAS code
    # only when a library is given that way.
    library_name = os.path.basename(libraries[0])[len('lib'):-len('.so')]
    flags = [f'-L{library_dir}', f'-l{library_name}',
             f'-Wl,-rpath,{library_dir}']
    flags += [f'-D{name}=scipy_{name}' for name in BLAS_ROUTINES]
    return ' '.join(flags)


def configure_blas() -> str:
    """Give PyTensor's C code a BLAS library if it has none.

    Leaves ``blas__ldflags`` alone if the user set it or if PyTensor's own
    search already found a library; otherwise sets it to
    :func:`scipy_openblas_ldflags`. Runs once per process and returns the
    flags in use.

    """
    global _blas_configured
    if not _blas_configured:
        _blas_configured = True
        if not _user_set('blas__ldflags'):
            parameter = pytensor.config._config_var_dict['blas__ldflags']
            # Not evaluated yet: PyTensor's search (slow, and it warns when
            # it finds nothing) has not run and need not.
            searched = hasattr(parameter, 'val')
            if not searched or not pytensor.config.blas__ldflags:
                ldflags = scipy_openblas_ldflags()
                if ldflags:
                    pytensor.config.blas__ldflags = ldflags
    return pytensor.config.blas__ldflags or ''


class NumpyUfunc(Op):
    """An elementwise function computed by a NumPy ufunc.

    PyTensor's C code calls the C library's scalar ``tanh``, ``exp`` and
    ``log`` element by element; NumPy's vectorised loops are 4 to 30 times
    faster on large arrays (see ``docs/algorithms.rst``), which outweighs
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


class NumpySum(Op):
    """A float32 sum over `axes`, accumulated in float64 by NumPy.

    PyTensor's C ``Sum`` accumulates float32 in float64 one element after
    the other: over the innermost axis of a large tensor (the bias gradient
    of a convolution, ``axis=(0, 2, 3)``) that is 5 to 8 times slower than
    NumPy's vectorised float64 summation (``benchmarks/conv.py``). Both
    accumulate in float64, so the float32 results agree.

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
        out = pytensor.tensor.tensor(
            dtype=x.dtype, shape=tuple(x.type.shape[i] for i in kept))
        return Apply(self, [x], [out])

    def perform(self, node, inputs, output_storage):
        (x,) = inputs
        total = numpy.add.reduce(x, axis=self.axes, dtype='float64')
        output_storage[0][0] = numpy.asarray(total, dtype=x.dtype)

    def infer_shape(self, fgraph, node, input_shapes):
        (shape,) = input_shapes
        return [tuple(s for i, s in enumerate(shape) if i not in self.axes)]

    def __str__(self):
        return f'NumpySum{{axes={list(self.axes)}}}'


@node_rewriter([Sum])
def local_numpy_sum(fgraph, node):
    """Replace float32 sums over the innermost axis of 3-d and larger
    tensors, accumulated in float64, by :class:`NumpySum`."""
    (x,), (output,) = node.inputs, node.outputs
    axes = tuple(range(x.ndim)) if node.op.axis is None else node.op.axis
    if (x.ndim < 3 or x.ndim - 1 not in axes or x.dtype != 'float32' or
            output.dtype != 'float32' or node.op.acc_dtype != 'float64'):
        return None
    return [NumpySum(axes)(x)]


@node_rewriter([Elemwise])
def local_numpy_ufuncs(fgraph, node):
    """Replace ``tanh``, ``exp`` and ``log`` by :class:`NumpyUfunc`."""
    op, dtypes = _NUMPY_UFUNCS.get(type(node.op.scalar_op), (None, ()))
    (output,) = node.outputs
    if (op is None or node.inputs[0].type != output.type or
            output.dtype not in dtypes):
        return None
    return [op(node.inputs[0])]


# Before elementwise fusion (position 49), which would otherwise fold these
# functions into C loops. Registered without tags: only modes that include
# it by name use it.
optdb.register(NUMPY_UFUNCS_REWRITE,
               in2out(local_numpy_ufuncs, local_numpy_sum), position=47)


def default_mode() -> Mode | None:
    """The mode blocks compiles with when the caller does not give one.

    ``None`` means "PyTensor's own default" and is returned when the user
    set ``mode`` or ``linker`` in ``PYTENSOR_FLAGS`` or ``.pytensorrc``.
    Otherwise the C linker with BLAS when both are available, else Numba.

    """
    configure_blas()
    if user_chose_mode():
        return None
    if pytensor.config.cxx and pytensor.config.blas__ldflags:
        return Mode(linker='cvm', optimizer=pytensor.config.optimizer
                    ).including(NUMPY_UFUNCS_REWRITE)
    return get_mode('NUMBA')


def describe(mode: Mode | str | None = None) -> dict:
    """The linker, rewrites and BLAS that a function compiled with `mode` uses.

    Parameters
    ----------
    mode : :class:`~pytensor.compile.mode.Mode`, str or None
        ``None`` describes blocks' default.

    Returns
    -------
    dict
        ``{'linker': ..., 'optimizer': ..., 'blas': ...}``, strings meant
        for reports such as the benchmark's.

    """
    if mode is None:
        mode = default_mode()
    mode = get_mode(mode)
    linker = mode.linker
    linker_name = type(linker).__name__
    if linker_name == 'VMLinker':
        if getattr(linker, 'use_cloop', False):
            linker_name = 'cvm'
        elif getattr(linker, 'c_thunks', True):
            linker_name = 'vm'
        else:
            linker_name = 'vm (Python thunks)'
    elif linker_name == 'NumbaLinker':
        linker_name = 'numba'
    elif linker_name == 'PerformLinker':
        linker_name = 'py'
    optimizer = mode.provided_optimizer
    included = getattr(optimizer, 'include', ())
    if not isinstance(optimizer, str):
        optimizer = pytensor.config.optimizer
    if NUMPY_UFUNCS_REWRITE in included:
        optimizer += ' + NumPy tanh/exp/log'
    if linker_name == 'numba':
        # Numba's kernels call SciPy's BLAS, whatever blas__ldflags say.
        blas = 'scipy.linalg.cython_blas'
    elif linker_name in ('py', 'vm (Python thunks)'):
        blas = 'NumPy and SciPy (Python implementations)'
    else:
        blas = pytensor.config.blas__ldflags or 'none'
        if 'scipy_openblas' in blas:
            blas = ('OpenBLAS bundled with SciPy (lib' +
                    blas.split()[1][len('-l'):] + '.so)')
    return {'linker': linker_name, 'optimizer': optimizer, 'blas': blas}


def function(inputs, outputs=None, **kwargs):
    """:func:`pytensor.function` with blocks' default mode."""
    if kwargs.get('mode') is None:
        kwargs['mode'] = default_mode()
    return pytensor.function(inputs, outputs, **kwargs)
