"""The Ops give the same numbers under the C, Numba and JAX backends."""
import warnings

import numpy
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.compile.mode import Mode

from blocks.ops import (
    AveragePoolGrad,
    Conv2d,
    Conv2dGradInputs,
    Conv2dGradWeights,
    DownsampleFactorMaxGradGrad,
    MaxPoolGrad,
    Pool,
    batch_normalization,
)

BACKENDS = {'cvm': Mode(linker='cvm', optimizer='fast_run'),
            'numba': 'NUMBA', 'jax': 'JAX'}
# Numba compiles each node for seconds and runs every Op's NumPy `perform`
# through the same object-mode wrapper: it gets one node of each Op class
# (the first outputs of the graph below), JAX all of them.
NUMBA_OUTPUTS = 8


@pytest.fixture(scope='module')
def graph():
    """Every Op applied directly to inputs, no elementwise glue between
    them (Numba would spend most of its compile time there)."""
    x, w, gy = pt.tensor4('x'), pt.tensor4('w'), pt.tensor4('gy')
    conv = {'border_mode': 'half', 'subsample': (2, 1),
            'filter_dilation': (1, 2)}
    outputs = [Conv2d(**conv)(x, w), Conv2dGradInputs(**conv)(w, gy, (7, 6)),
               Conv2dGradWeights(**conv)(x, gy, (3, 2))]
    for mode, kwargs in [('max', {'ws': (2, 2), 'ignore_border': False}),
                         ('sum', {'ws': (3, 2), 'stride': (1, 1),
                                  'pad': (1, 1)}),
                         ('average_inc_pad', {'ws': (2, 2), 'pad': (1, 1)}),
                         ('average_exc_pad', {'ws': (3, 3),
                                              'stride': (2, 1)})]:
        pool = Pool(mode=mode, **kwargs)
        pooled = pool(x)
        params = pool._params()
        outputs.append(pooled)
        if mode == 'max':
            outputs += [MaxPoolGrad(**params)(x, pooled, pooled),
                        DownsampleFactorMaxGradGrad(**params)(x, pooled, x)]
        else:
            outputs.append(AveragePoolGrad(**params)(x, pooled))
    outputs.append(batch_normalization(x, w[0, 0, 0, 0], 1., x.mean(), 2.))
    rng = numpy.random.RandomState(3)
    values = [rng.randn(2, 3, 7, 6), rng.randn(4, 3, 3, 2),
              rng.randn(2, 4, 4, 6)]
    return [x, w, gy], outputs, values


@pytest.fixture(scope='module')
def reference(graph):
    inputs, outputs, values = graph
    return pytensor.function(inputs, outputs, mode=BACKENDS['cvm'])(*values)


@pytest.mark.parametrize('backend', ['numba', 'jax'])
def test_backends_agree(graph, reference, backend):
    if backend == 'jax':
        pytest.importorskip('jax')
    inputs, outputs, values = graph
    if backend == 'numba':
        outputs, reference = outputs[:NUMBA_OUTPUTS], \
            reference[:NUMBA_OUTPUTS]
    with warnings.catch_warnings():
        warnings.simplefilter('error', UserWarning)  # no object-mode notice
        fn = pytensor.function(inputs, outputs, mode=BACKENDS[backend])
        results = fn(*values)
    for got, expected in zip(results, reference, strict=True):
        numpy.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-11)


def test_jax_differentiates_through_the_ops(graph, reference):
    """Gradient Ops built by ``pytensor.grad`` get run-time shapes that JAX
    must see as static: the shape-argument rewrite makes them so."""
    pytest.importorskip('jax')
    x, w, _ = graph[0]
    y = Conv2d(border_mode='full', subsample=(2, 2))(x, w)
    cost = (Pool((2, 2), mode='average_exc_pad', ignore_border=False)(y)
            ** 2).sum()
    grads = pytensor.grad(cost, [x, w])
    values = graph[2][:2]
    expected = pytensor.function([x, w], grads,
                                 mode=BACKENDS['cvm'])(*values)
    got = pytensor.function([x, w], grads, mode='JAX')(*values)
    for a, b in zip(got, expected, strict=True):
        numpy.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-11)
