"""The one place where blocks compiles PyTensor functions.

Every function that blocks compiles (the training step, monitoring, graph
helpers, beam search) goes through :func:`function`, which picks the mode
when the caller gives none. The backend is blocks' ``backend`` option
(``BLOCKS_BACKEND`` in the environment, see :mod:`blocks.config`):

``'default'``
    PyTensor's C virtual machine (``cvm`` linker, ``fast_run`` rewrites)
    when a C compiler and a BLAS library are available, with blocks' own
    kernels (:mod:`blocks.kernels`); otherwise Numba, since the C backend
    without BLAS computes matrix products in a slow fallback. If the user
    chose a PyTensor ``mode`` or ``linker`` (``PYTENSOR_FLAGS``,
    ``.pytensorrc`` or ``pytensor.config``), that choice.
``'c'``, ``'numba'``, ``'jax'``
    That backend, whatever PyTensor's flags say. ``'jax'`` needs the
    ``jax`` extra and runs on the device JAX picks (a GPU with
    ``jax[cuda]``).

Nothing happens when this module is imported. The first mode blocks builds
(or unpickles, see :class:`BlocksMode`) runs :func:`configure_blas` once:
a pip-installed PyTensor finds no BLAS to link against (``blas__ldflags``
is empty), but SciPy, a PyTensor dependency, ships an OpenBLAS whose
symbols carry a ``scipy_`` prefix. Unless the user set ``blas__ldflags``,
PyTensor is pointed at that library, with preprocessor definitions that
map the Fortran names PyTensor's C code calls (``sgemm_``) onto the
prefixed ones (``scipy_sgemm_``). It also runs
:func:`blocks.memory.keep_freed_memory`, so that each call of a compiled
function reuses the memory the previous call freed.
"""
import copy
import ctypes
import glob
import os
from collections.abc import Sequence
from typing import Any

import numpy
import pytensor
from pytensor.compile.mode import Mode, get_mode
from pytensor.graph.rewriting.basic import in2out
from pytensor.link.jax.linker import JAXLinker

from blocks.config import config
from blocks.kernels import (
    NumpyUfunc,
    local_contiguous_scan_matrices,
    local_flat_elemwise,
    local_numpy_sum,
    local_numpy_ufuncs,
    local_unshared_dot22_to_dot22scalar,
)
from blocks.fast_tanh import local_rational_tanh
from blocks.memory import keep_freed_memory

__all__ = [
    'BACKENDS',
    'CONTIGUOUS_SCAN_MATRICES_REWRITE', 'FLAT_ELEMWISE_REWRITE',
    'NUMPY_SUM_REWRITE', 'NUMPY_UFUNCS_REWRITE', 'RATIONAL_TANH_REWRITE',
    'SHARED_CONV_COLUMNS_REWRITE',
    'RECIPE_ATTRIBUTE',
    'BlocksJAXLinker', 'BlocksMode',
    'NumpyUfunc',
    'backend_mode',
    'c_mode',
    'configure_blas',
    'default_mode',
    'describe',
    'function',
    'remember_how_to_compile',
    'scipy_openblas_ldflags',
    'user_chose_mode',
]

#: The values of blocks' ``backend`` option.
BACKENDS = ('default', 'c', 'numba', 'jax')

#: Fortran BLAS routines that PyTensor's C code calls.
BLAS_ROUTINES = ('sgemm_', 'dgemm_', 'sgemv_', 'dgemv_', 'sger_', 'dger_',
                 'sdot_', 'ddot_', 'saxpy_', 'daxpy_', 'scopy_', 'dcopy_',
                 'sscal_', 'dscal_', 'sswap_', 'dswap_')

#: Names of blocks' rewrites in the C mode (see :mod:`blocks.kernels`).
NUMPY_SUM_REWRITE = 'blocks_numpy_sum'
NUMPY_UFUNCS_REWRITE = 'blocks_numpy_ufuncs'
FLAT_ELEMWISE_REWRITE = 'blocks_flat_elemwise'
DOT22SCALAR_REWRITE = 'blocks_unshared_dot22scalar'
CONTIGUOUS_SCAN_MATRICES_REWRITE = 'blocks_contiguous_scan_matrices'
RATIONAL_TANH_REWRITE = 'blocks_rational_tanh'
#: Name of the rewrite that shares a convolution's im2col with its weight
#: gradient (:mod:`blocks.ops.columns`).
SHARED_CONV_COLUMNS_REWRITE = 'blocks_shared_conv_columns'

unknown_backend_message = """\
Unknown blocks backend {backend!r}. The `backend` option (environment \
variable BLOCKS_BACKEND, or `backend:` in the configuration file) must be \
one of {choices}."""

jax_missing_message = """\
The blocks backend is 'jax' but JAX is not installed. Install the `jax` \
extra (pip install 'blocks[jax]', or 'jax[cuda12]' for NVIDIA GPUs), or \
choose another backend (BLOCKS_BACKEND=default)."""

_blas_configured = False


def _parameter(name: str):
    # The option's descriptor on the config class: its public `default`
    # and `is_default` say what the user did without reading the value,
    # which for `blas__ldflags` would start PyTensor's slow library search.
    return vars(type(pytensor.config))[name]


def _user_set(name: str) -> bool:
    """Whether the user set PyTensor option `name`.

    Through ``PYTENSOR_FLAGS`` or ``.pytensorrc``, or by assigning a value
    other than the default to ``pytensor.config.<name>``.

    """
    try:
        pytensor.config.fetch_val_for_key(name)
        return True
    except KeyError:
        pass
    parameter = _parameter(name)
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
            # Not evaluated yet: PyTensor's search (slow, and it warns when
            # it finds nothing) has not run and need not.
            searched = hasattr(_parameter('blas__ldflags'), 'val')
            if not searched or not pytensor.config.blas__ldflags:
                ldflags = scipy_openblas_ldflags()
                if ldflags:
                    pytensor.config.blas__ldflags = ldflags
    return pytensor.config.blas__ldflags or ''


class BlocksMode(Mode):
    """A PyTensor mode that configures PyTensor for blocks first.

    A compiled function pickles its mode and is compiled again from it when
    unpickled (a checkpoint's training function, for instance), so that
    process needs blocks' BLAS configuration too; unpickling this mode runs
    :func:`configure_blas` before the function is linked.

    """

    def __setstate__(self, state):
        configure_blas()
        keep_freed_memory()
        super().__setstate__(state)

    def excluding(self, *tags: str) -> 'BlocksMode':
        """This mode without the rewrites tagged or named by `tags`.

        PyTensor's ``excluding`` does not reach rewrites added with
        ``register``, such as blocks' own (named by the ``*_REWRITE``
        constants of this module): this one drops them too.

        """
        mode = super().excluding(*tags)
        optimizer = mode.provided_optimizer
        extra = getattr(optimizer, 'extra_rewrites', ())
        kept = [(rewriter, position) for rewriter, position in extra
                if getattr(rewriter, '__name__', None) not in tags]
        if len(kept) == len(extra):
            return mode
        optimizer = copy.copy(optimizer)
        optimizer.extra_rewrites = kept
        return mode.clone(optimizer=optimizer)


def c_mode(linker: str = 'cvm') -> BlocksMode:
    """Blocks' C mode: PyTensor's C code with blocks' kernels.

    Parameters
    ----------
    linker : str
        ``'cvm'`` (the default backend's) runs each operation's C code from
        a C loop; ``'c'`` compiles a whole function into one C module, one
        compiler run instead of one per operation, but cannot run
        operations without C code (:class:`~blocks.kernels.NumpyUfunc`).

    """
    # Not at import: importing blocks.ops registers its JAX rewrite in
    # PyTensor's database, which importing this module must not change.
    from blocks.ops.columns import local_shared_conv_columns
    return BlocksMode(linker=linker, optimizer=pytensor.config.optimizer
                      ).excluding('local_dot22_to_dot22scalar').register(
        # Right after PyTensor's BLAS rewrites (1.7), where the excluded
        # rewrite ran.
        (in2out(local_unshared_dot22_to_dot22scalar,
                name=DOT22SCALAR_REWRITE), 1.71),
        # Before the NumPy ufuncs take float32 tanh: this one fuses.
        (in2out(local_rational_tanh, name=RATIONAL_TANH_REWRITE), 46.9),
        # Before elementwise fusion (position 49), which would fold these
        # functions into C loops.
        (in2out(local_numpy_ufuncs, name=NUMPY_UFUNCS_REWRITE), 47),
        # One rewriter per in2out: a group of them holds a lambda, which
        # would make the mode, and so checkpoints, unpicklable.
        (in2out(local_numpy_sum, name=NUMPY_SUM_REWRITE), 47.01),
        (in2out(local_contiguous_scan_matrices,
                name=CONTIGUOUS_SCAN_MATRICES_REWRITE), 47.02),
        # On the final graph: canonicalize and specialize (1-2) have made
        # the weight gradient's kernel-shape argument a constant or
        # `Shape_i` of the filters, and merged the casts of the image, so
        # the pair is recognisable; before the destroy handler (49.5), so
        # that the in-place rewrites see the columns' consumers.
        (in2out(local_shared_conv_columns,
                name=SHARED_CONV_COLUMNS_REWRITE), 47.03),
        # After fusion, before the in-place rewrites (50.5), which keep
        # the Op's class.
        (in2out(local_flat_elemwise, name=FLAT_ELEMWISE_REWRITE), 49.4))


class BlocksJAXLinker(JAXLinker):
    """PyTensor's JAX linker, updating shared variables in place.

    The new values of shared variables (parameters, step-rule buffers)
    stay JAX arrays, on the device, between calls, and each call donates
    the old ones to XLA (``donate_argnums``), which writes the new values
    into their memory instead of allocating, and on a GPU holding, a
    second copy of every parameter and buffer. A donated array is deleted:
    a value taken with ``get_value(borrow=True)`` before a call cannot be
    read after it (``get_value()`` copies). Other outputs (costs,
    monitored values) go to logs, printing and comparisons, which expect
    NumPy: they come back as NumPy arrays, which waits for JAX's
    asynchronous computation.

    """

    def jit_compile(self, fn):
        import jax

        static = self.scalar_shape_inputs
        updates = getattr(self.fgraph, 'update_mapping', None) or {}
        donated = sorted(set(updates.values()) - set(static))
        jitted = _explain_dynamic_shapes(jax.jit(
            fn, static_argnums=static, donate_argnums=donated))
        to_host = [index for index in range(len(self.fgraph.outputs))
                   if index not in updates]
        if not static and not to_host:
            return jitted

        def run(*inputs):
            if static:
                inputs = [int(value) if index in static else value
                          for index, value in enumerate(inputs)]
            outputs = jitted(*inputs)
            if to_host:
                outputs = list(outputs)
                for index in to_host:
                    outputs[index] = numpy.asarray(outputs[index])
            return outputs
        return run


#: The start of JAX's error for an array shape that is not a constant.
_JAX_DYNAMIC_SHAPE = 'Shapes must be 1D sequences of concrete values'


def _explain_dynamic_shapes(jitted):
    """`jitted`, raising an error that says what to change where JAX's
    says only that a shape is not concrete."""
    def call(*inputs):
        try:
            return jitted(*inputs)
        except TypeError as error:
            if _JAX_DYNAMIC_SHAPE not in str(error):
                raise
            raise TypeError(
                "The JAX backend needs every array shape as a constant, and "
                "this function computes one from its inputs' sizes (for "
                "instance the length of a scan over a sequence of unknown "
                "length, or of its gradient): declare the inputs with their "
                "shapes, e.g. tensor.tensor3('x', shape=(50, 32, 256)), and "
                "feed batches of that shape, or use another backend "
                f"(blocks.config.backend). JAX said: {error}") from error
    return call


def _jax_mode() -> BlocksMode:
    try:
        # PyTensor's JAX dispatch, on import, turns JAX's 64-bit types on
        # when floatX is float64 and off otherwise (int64 then computes as
        # int32): left as PyTensor sets it, since turning them on makes
        # JAX promote float32 graphs to float64.
        import pytensor.link.jax.dispatch  # noqa: F401
    except ImportError as error:
        raise ImportError(jax_missing_message) from error
    return BlocksMode(linker=BlocksJAXLinker(),
                      optimizer=get_mode('JAX').provided_optimizer)


def _predefined(name: str) -> BlocksMode:
    mode = get_mode(name)
    return BlocksMode(linker=mode.provided_linker,
                      optimizer=mode.provided_optimizer)


def backend_mode(backend: str) -> BlocksMode:
    """The mode of one of blocks' backends (:data:`BACKENDS`).

    ``'default'`` is the C mode when PyTensor has a C compiler and a BLAS
    library, else Numba.

    """
    if backend not in BACKENDS:
        raise ValueError(unknown_backend_message.format(
            backend=backend, choices=', '.join(map(repr, BACKENDS))))
    configure_blas()
    keep_freed_memory()
    if backend == 'default':
        use_c = pytensor.config.cxx and pytensor.config.blas__ldflags
        backend = 'c' if use_c else 'numba'
    if backend == 'c':
        return c_mode()
    if backend == 'jax':
        return _jax_mode()
    return _predefined('NUMBA')


def default_mode() -> Mode | None:
    """The mode blocks compiles with when the caller does not give one.

    The mode of the ``backend`` option. With the ``'default'`` backend,
    ``None`` ("PyTensor's own default") when the user set ``mode`` or
    ``linker`` in ``PYTENSOR_FLAGS``, ``.pytensorrc`` or ``pytensor.config``.

    """
    backend = config.backend
    if backend == 'default' and user_chose_mode():
        configure_blas()
        keep_freed_memory()
        return None
    return backend_mode(backend)


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
    else:
        linker_name = {'NumbaLinker': 'numba', 'JAXLinker': 'jax',
                       'BlocksJAXLinker': 'jax',
                       'PerformLinker': 'py'}.get(linker_name, linker_name)
    optimizer = mode.provided_optimizer
    extra = [getattr(rewriter, '__name__', None) for rewriter, _ in
             getattr(optimizer, 'extra_rewrites', ())]
    if not isinstance(optimizer, str):
        optimizer = pytensor.config.optimizer
    if NUMPY_UFUNCS_REWRITE in extra:
        optimizer += ' + NumPy tanh/exp/log'
    if RATIONAL_TANH_REWRITE in extra:
        optimizer += ' + rational float32 tanh'
    if SHARED_CONV_COLUMNS_REWRITE in extra:
        optimizer += ' + shared convolution columns'
    if FLAT_ELEMWISE_REWRITE in extra:
        optimizer += ' + flat elementwise loops'
    if linker_name == 'numba':
        # Numba's kernels call SciPy's BLAS, whatever blas__ldflags say.
        blas = 'scipy.linalg.cython_blas'
    elif linker_name == 'jax':
        blas = 'XLA'
    elif linker_name in ('py', 'vm (Python thunks)'):
        blas = 'NumPy and SciPy (Python implementations)'
    else:
        blas = pytensor.config.blas__ldflags or 'none'
        if 'scipy_openblas' in blas:
            blas = ('OpenBLAS bundled with SciPy (lib' +
                    blas.split()[1][len('-l'):] + '.so)')
    return {'linker': linker_name, 'optimizer': optimizer, 'blas': blas}


#: Attribute of a function's ``maker`` that holds its recipe (the function
#: itself has ``__slots__``).
RECIPE_ATTRIBUTE = 'blocks_recipe'


def remember_how_to_compile(function: Any, inputs: Sequence[Any] | None,
                            outputs: Any, kwargs: dict[str, Any]) -> None:
    """Record what ``function`` was compiled from, to rebuild it on load.

    Parameters
    ----------
    function : :class:`pytensor.compile.executor.Function`
        The compiled function.
    inputs, outputs
        As given to :func:`blocks.compilation.function`.
    kwargs : dict
        The other arguments, as given (a ``mode`` of ``None`` stays
        ``None``: the loading process picks its default).
    """
    maker = getattr(function, 'maker', None)
    if maker is not None:
        setattr(maker, RECIPE_ATTRIBUTE, (inputs, outputs, dict(kwargs)))


def function(inputs, outputs=None, **kwargs):
    """:func:`pytensor.function` with blocks' default mode.

    A ``mode`` given by the caller wins over the ``backend`` option.

    """
    given = dict(kwargs)
    if kwargs.get('mode') is None:
        kwargs['mode'] = default_mode()
    compiled = pytensor.function(inputs, outputs, **kwargs)
    # Checkpoints store this instead of the compiled function.
    remember_how_to_compile(compiled, inputs, outputs, given)
    return compiled
