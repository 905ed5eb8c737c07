import numpy
import pytensor
import pytest
from numpy.testing import assert_allclose
from pytensor import tensor

from blocks.bricks import Linear, Tanh
from blocks.bricks.parallel import Distribute, Fork, Merge, Parallel
from blocks.compilation import function
from blocks.initialization import Constant, IsotropicGaussian

FLOATX = pytensor.config.floatX
RNG = numpy.random.RandomState(11)
A = RNG.uniform(size=(2, 3)).astype(FLOATX)
B = RNG.uniform(size=(2, 4)).astype(FLOATX)


def params(brick):
    return [[p.get_value() for p in child.parameters]
            for child in brick.children]


@pytest.fixture(scope='module')
def results():
    a, b = tensor.matrix('a'), tensor.matrix('b')
    init = dict(weights_init=IsotropicGaussian(), biases_init=Constant(0.5))
    parallel = Parallel(input_names=['a', 'b'], input_dims=[3, 4],
                        output_dims=[5, 6], prototype=Linear(), seed=1,
                        **init)
    fork = Fork(output_names=['c', 'd'], input_dim=3, output_dims=[4, 2],
                seed=2, **init)
    distribute = Distribute(target_names=['b'], source_name='a',
                            target_dims=[4], source_dim=3, seed=3, **init)
    merge = Merge(input_names=['a', 'b'], input_dims=[3, 4], output_dim=2,
                  seed=4, **init)
    outputs = (parallel.apply(a, b=b) + fork.apply(a) +
               [distribute.apply(a=a, b=b), merge.apply(a=a, b=b)])
    bricks = dict(parallel=parallel, fork=fork, distribute=distribute,
                  merge=merge)
    for brick in bricks.values():
        brick.initialize()
    return bricks, outputs, function([a, b], outputs)(A, B)


def test_parallel(results):
    bricks, outputs, values = results
    parallel = bricks['parallel']
    assert [child.name for child in parallel.children] == ['transform_a',
                                                           'transform_b']
    assert parallel.apply.inputs == parallel.apply.outputs == ['a', 'b']
    (W_a, b_a), (W_b, b_b) = params(parallel)
    assert W_a.shape == (3, 5) and W_b.shape == (4, 6)
    assert_allclose(values[0], A.dot(W_a) + b_a, rtol=1e-5)
    assert_allclose(values[1], B.dot(W_b) + b_b, rtol=1e-5)
    assert outputs[0].name == 'parallel_apply_a'


def test_fork(results):
    bricks, outputs, values = results
    fork = bricks['fork']
    assert [child.name for child in fork.children] == ['fork_c', 'fork_d']
    assert fork.apply.inputs == ['input_']
    assert fork.apply.outputs == ['c', 'd']
    (W_c, b_c), (W_d, b_d) = params(fork)
    assert_allclose(values[2], A.dot(W_c) + b_c, rtol=1e-5)
    assert_allclose(values[3], A.dot(W_d) + b_d, rtol=1e-5)
    assert outputs[3].name == 'fork_apply_d'


def test_distribute(results):
    bricks, _, values = results
    distribute = bricks['distribute']
    assert distribute.apply.inputs == ['a', 'b']
    assert distribute.apply.outputs == ['b']
    (W,), = params(distribute)  # no bias by default
    assert_allclose(values[4], B + A.dot(W), rtol=1e-5)


def test_merge(results):
    bricks, _, values = results
    merge = bricks['merge']
    assert merge.apply.inputs == ['a', 'b'] and merge.apply.outputs == [
        'output']
    (W_a,), (W_b,) = params(merge)
    assert_allclose(values[5], A.dot(W_a) + B.dot(W_b), rtol=1e-5)


def test_parallel_routes_arguments_by_name():
    parallel = Parallel(['a', 'b'], [2, 2], [2, 2], Linear())
    a = tensor.matrix('a')
    with pytest.raises(KeyError, match="invalid input name: c"):
        parallel.apply(a=a, c=a)
    with pytest.raises(TypeError, match="multiple values for argument 'a'"):
        parallel.apply(a, a=a)
    with pytest.raises(ValueError, match="missing values for inputs"):
        parallel.apply(a=a)


def test_parallel_dims_must_match_the_names():
    parallel = Parallel(['a', 'b'], [2, 2], [2], Linear())
    with pytest.raises(ValueError):
        parallel.allocate()


def test_distribute_rejects_unknown_targets():
    distribute = Distribute(['b'], 'a', [4], 3)
    a, b = tensor.matrix('a'), tensor.matrix('b')
    with pytest.raises(ValueError, match=r"unexpected inputs \['c'\]"):
        distribute.apply(a=a, b=b, c=b)


def test_merge_with_one_bias_and_other_prototype():
    merge = Merge(['a', 'b'], [3, 4], 2, prototype=Linear(use_bias=False))
    merge.children[0].use_bias = True
    merge.allocate()
    assert [len(child.parameters) for child in merge.children] == [2, 1]
    fork = Fork(['c'], 3, output_dims=[5], prototype=Tanh(),
                child_prefix='f')
    assert [child.name for child in fork.children] == ['f_c']


def test_fork_without_output_dims_names_them():
    with pytest.raises(ValueError, match=r"Fork /fork needs output_dims"):
        Fork(['c', 'd'], 3).allocate()
