import os
import pickle
import subprocess
import sys

import numpy
import pytensor
import pytest
from pytensor import tensor
from pytensor.compile.mode import Mode
from pytensor.graph.rewriting.basic import in2out
from pytensor.link.numba import NumbaLinker

from blocks import compilation
from blocks.config import config
from blocks.compilation import (
    BLAS_ROUTINES,
    configure_blas,
    default_mode,
    describe,
    function,
    scipy_openblas_ldflags,
    user_chose_mode,
)
from blocks.kernels import local_numpy_ufuncs


def with_numpy_ufuncs(linker):
    return Mode(linker=linker).register((in2out(local_numpy_ufuncs), 47))


def test_scipy_openblas_ldflags_map_every_routine():
    flags = scipy_openblas_ldflags()
    if not flags:
        pytest.skip('SciPy bundles no OpenBLAS here')
    directory, library = flags.split()[:2]
    assert os.path.exists(os.path.join(directory[len('-L'):],
                                       f"lib{library[len('-l'):]}.so"))
    for routine in BLAS_ROUTINES:
        assert f'-D{routine}=scipy_{routine}' in flags.split()


def test_user_choice_of_linker_is_respected():
    with pytensor.config.change_flags(linker='py'):
        assert user_chose_mode()
        assert default_mode() is None
        assert describe()['linker'] == 'py'


def test_default_is_c_with_blas_else_numba():
    configure_blas()
    if user_chose_mode():
        pytest.skip('the user chose a mode or linker')
    if pytensor.config.cxx and pytensor.config.blas__ldflags:
        assert describe()['linker'] == 'cvm'
    with pytensor.config.change_flags(blas__ldflags=''):
        assert isinstance(default_mode().linker, NumbaLinker)


def test_explicit_mode_is_passed_through():
    x = tensor.vector('x')
    compiled = function([x], 2 * x, mode=Mode(linker='py'))
    assert type(compiled.maker.linker).__name__ == 'PerformLinker'


def test_configure_blas_keeps_a_library_pytensor_found(monkeypatch):
    monkeypatch.setattr(compilation, '_blas_configured', False)
    with pytensor.config.change_flags(blas__ldflags='-lmyblas'):
        assert configure_blas() == '-lmyblas'


@pytest.mark.skipif(describe()['linker'] != 'cvm' or
                    'scipy' not in describe()['blas'].lower(),
                    reason="blocks' default does not link SciPy's OpenBLAS")
def test_blas_routines_through_renamed_symbols_are_correct():
    # One function for all BLAS calls of both precisions: C compilation is
    # what costs time here.
    rng = numpy.random.default_rng(0)
    inputs, outputs, values, expected = [], [], [], []
    for dtype in ('float32', 'float64'):
        a = tensor.matrix(dtype=dtype)
        b = tensor.matrix(dtype=dtype)
        v = tensor.vector(dtype=dtype)
        inputs += [a, b, v]
        outputs += [a.dot(b), a.dot(v), v.dot(v),
                    a + 2 * tensor.outer(v[:3], v)]
        a_value = rng.random((3, 5)).astype(dtype)
        b_value = rng.random((5, 4)).astype(dtype)
        v_value = rng.random(5).astype(dtype)
        values += [a_value, b_value, v_value]
        expected += [a_value @ b_value, a_value @ v_value, v_value @ v_value,
                     a_value + 2 * numpy.outer(v_value[:3], v_value)]
    results = function(inputs, outputs)(*values)
    for result, reference in zip(results, expected, strict=True):
        numpy.testing.assert_allclose(result, reference, rtol=1e-5)


@pytest.mark.parametrize('dtype', ['float32', 'float64'])
def test_numpy_ufuncs_replace_c_tanh_exp_log(dtype):
    x = tensor.vector('x', dtype=dtype)
    mode = with_numpy_ufuncs('py')
    outputs = [tensor.tanh(x), tensor.exp(x), tensor.log(x)]
    compiled = function([x], outputs, mode=mode)
    ops = {str(node.op) for node in compiled.maker.fgraph.apply_nodes}
    assert {'NumpyUfunc{tanh}', 'NumpyUfunc{exp}'} <= ops
    # NumPy's float64 log is slower than the C library's: left alone.
    assert ('NumpyUfunc{log}' in ops) == (dtype == 'float32')
    value = numpy.linspace(0.1, 3, 7).astype(dtype)
    for result, reference in zip(compiled(value), [numpy.tanh(value),
                                                   numpy.exp(value),
                                                   numpy.log(value)],
                                 strict=True):
        assert result.dtype == dtype
        numpy.testing.assert_allclose(result, reference, rtol=1e-6)


def test_numpy_ufuncs_only_in_blocks_default_c_mode():
    assert 'NumPy' not in describe(Mode(linker='cvm'))['optimizer']
    if describe()['linker'] == 'cvm':
        assert 'NumPy' in describe()['optimizer']


def test_function_with_numpy_ufunc_pickles():
    x = tensor.vector('x')
    mode = with_numpy_ufuncs('py')
    compiled = pickle.loads(pickle.dumps(function([x], tensor.tanh(x),
                                                  mode=mode)))
    value = numpy.ones(3, dtype=x.dtype)
    numpy.testing.assert_allclose(compiled(value), numpy.tanh(value))


def test_numpy_ufuncs_return_arrays_for_scalars():
    x = tensor.scalar('x', dtype='float32')
    mode = with_numpy_ufuncs('cvm')
    result = function([x], tensor.tanh(x) * 2, mode=mode)(
        numpy.float32(0.5))
    assert isinstance(result, numpy.ndarray)
    assert result == pytest.approx(2 * numpy.tanh(0.5))


def test_importing_compilation_changes_nothing_in_pytensor():
    code = (
        "import pytensor\n"
        "from pytensor.compile import optdb\n"
        "before = set(optdb.__position__)\n"
        "import blocks.compilation\n"
        "assert set(optdb.__position__) == before\n"
        "parameter = vars(type(pytensor.config))['blas__ldflags']\n"
        "assert not hasattr(parameter, 'val'), parameter.val\n")
    result = subprocess.run([sys.executable, '-c', code], check=False,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize('backend, linker', [('c', 'cvm'),
                                             ('numba', 'numba')])
def test_backend_option_selects_the_mode(backend, linker):
    config.backend = backend
    try:
        assert describe()['linker'] == linker
    finally:
        del config.backend


def test_unknown_backend_names_the_choices():
    config.backend = 'cuda'
    try:
        with pytest.raises(ValueError, match="Unknown blocks backend 'cuda'"
                           ".*'default', 'c', 'numba', 'jax'"):
            default_mode()
    finally:
        del config.backend


def test_adam_computes_each_gradient_product_once():
    # PyTensor alone folds Adam's (1 - beta1) into a second copy of the
    # gradient's matrix product; the rewrites are the subject here, so
    # Python thunks run them.
    from blocks.algorithms import Adam, GradientDescent
    from blocks.compilation import c_mode
    from blocks.utils import shared_floatx
    x, y = tensor.matrix('x'), tensor.matrix('y')
    W = shared_floatx(numpy.zeros((4, 3)), name='W')
    algorithm = GradientDescent(cost=((x.dot(W) - y) ** 2).mean(),
                                parameters=[W], step_rule=Adam(),
                                theano_func_kwargs={'mode': c_mode('py')})
    algorithm.initialize()
    products = [node for node in algorithm._function.maker.fgraph.apply_nodes
                if 'Dot' in type(node.op).__name__
                or 'Gemm' in type(node.op).__name__]
    # x.dot(W) and the gradient x.T.dot(...).
    assert len(products) == 2, products


def test_flat_elemwise_kernels_match_numpy_in_every_layout():
    from blocks.compilation import c_mode
    x = tensor.matrix('x')
    row = tensor.row('row')
    s = tensor.scalar('s')
    W = pytensor.shared(numpy.ones((3, 4)), name='W')
    outputs = [x * s + tensor.sqrt(abs(x)) / (1 + s),   # arrays and scalar
               x * row + s]                            # broadcast row
    compiled = function([x, row, s], outputs, updates=[(W, W * s + x)],
                        mode=c_mode('c'))
    assert any(type(node.op).__name__ == 'FlatElemwise'
               for node in compiled.maker.fgraph.apply_nodes)
    rng = numpy.random.default_rng(0)
    value = rng.normal(size=(4, 3))
    row_value, s_value = rng.normal(size=(1, 4)), 0.5
    expected_W = numpy.ones((3, 4))
    # C-contiguous, then a transposed view (the strided loop).
    for x_value in (value.T.copy(), value.T):
        expected = [x_value * s_value + numpy.sqrt(abs(x_value)) /
                    (1 + s_value), x_value * row_value + s_value]
        expected_W = expected_W * s_value + x_value
        results = compiled(x_value, row_value, s_value)
        for result, reference in zip(results, expected, strict=True):
            numpy.testing.assert_allclose(result, reference, rtol=1e-12)
        numpy.testing.assert_allclose(W.get_value(), expected_W, rtol=1e-12)


def test_numpy_sum_replaces_c_sum_over_innermost_axis():
    from blocks.compilation import c_mode
    x = tensor.tensor4('x', dtype='float32')
    compiled = function([x], [x.sum(axis=(0, 2, 3)), x.sum(), x.sum(axis=0)],
                        mode=c_mode())
    ops = [str(node.op) for node in compiled.maker.fgraph.toposort()]
    assert 'NumpySum{axes=[0, 2, 3]}' in ops
    assert 'NumpySum{axes=[0, 1, 2, 3]}' in ops
    # Not without the innermost axis (C is faster there), nor on matrices.
    assert sum(op.startswith('NumpySum') for op in ops) == 2
    m = tensor.matrix('m', dtype='float32')
    matrix_sum = function([m], m.sum(axis=1), mode=c_mode())
    assert not any('NumpySum' in str(node.op)
                   for node in matrix_sum.maker.fgraph.apply_nodes)
    value = numpy.random.RandomState(0).rand(3, 4, 5, 6).astype('float32')
    by_loop = numpy.zeros(4)
    for b, c, i, j in numpy.ndindex(value.shape):
        by_loop[c] += float(value[b, c, i, j])
    results = compiled(value)
    assert results[0].dtype == 'float32'
    numpy.testing.assert_allclose(results[0], by_loop, rtol=1e-6)
    numpy.testing.assert_allclose(results[1], by_loop.sum(), rtol=1e-6)
    numpy.testing.assert_allclose(results[2], value.sum(axis=0), rtol=1e-6)


@pytest.mark.parametrize('axes', [(0, 2, 3), (3,), (2, 3), (1, 3),
                                  (0, 1, 2, 3)])
def test_numpy_sum_matches_a_float64_loop_on_any_layout(axes):
    from blocks.kernels import NumpySum
    x = tensor.tensor4('x', dtype='float32')
    compiled = function([x], NumpySum(axes)(x))
    rng = numpy.random.RandomState(1)
    value = (rng.randn(3, 4, 5, 6) * 1e3).astype('float32')
    # The compiled row loop (contiguous), NumPy (a transposed view), and
    # an empty batch.
    for array in (value, value.transpose(0, 1, 3, 2).copy().transpose(
            0, 1, 3, 2), value[:0]):
        expected = numpy.zeros([n for i, n in enumerate(array.shape)
                                if i not in axes])
        for index in numpy.ndindex(array.shape):
            kept = tuple(i for k, i in enumerate(index) if k not in axes)
            expected[kept] += float(array[index])
        result = compiled(array)
        assert result.dtype == 'float32'
        numpy.testing.assert_allclose(result, expected.astype('float32'),
                                      rtol=1e-6, atol=1e-3)
