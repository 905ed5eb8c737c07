"""Time forward + backward of recurrent bricks against PyTorch and NumPy.

Run with ``python benchmarks/recurrent.py`` (``--help`` for options). For a
sequence of 50 steps, a batch of 32 and dimension 256 (float32) it reports
the median time of one forward and backward pass (the gradient of the sum
of the states with respect to every parameter) of

* ``Linear`` + ``SimpleRecurrent`` (tanh), against ``torch.nn.RNN``;
* ``Linear`` + ``LSTM``, against ``torch.nn.LSTM``;

the input projection included on both sides (PyTorch's modules include
it), in blocks' default mode, with the ratio ``torch / blocks`` (above 1:
blocks is faster) and against a hand-written NumPy loop (forward and
backpropagation through time). Each thread count runs in its own process,
with ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS`` set before anything is
imported, and PyTorch at the same thread count in the same run, through
``/work/torchvenv/bin/python`` or ``--torch-python`` when that interpreter
can import torch (PyTorch is not a dependency). It also reports the time
of the pass's matrix products alone (the input projection, one product
per step forward and one backward, the two weight gradients), in the
OpenBLAS that blocks links PyTensor to and in PyTorch: a floor for each
side's time. And the time to compile each function: warm (PyTensor's
cache holds the C code) and, with ``--cold``, cold (an empty compile
directory).
"""
import argparse
import functools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

T, B, D = 50, 32, 256
TORCH_PYTHON = '/work/torchvenv/bin/python'

TORCH_CODE = r'''
import json, statistics, sys, time
import torch
threads, repeat, T, B, D = map(int, sys.argv[1:6])
torch.set_num_threads(threads)
torch.manual_seed(0)
x = torch.randn(T, B, D)
def median_time(function):
    for _ in range(3):
        function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)
result = {}
for name, module in (('rnn', torch.nn.RNN(D, D, nonlinearity='tanh')),
                     ('lstm', torch.nn.LSTM(D, D))):
    def step():
        module.zero_grad()
        output, _ = module(x)
        output.sum().backward()
    result[name] = median_time(step)
    # The same matrix products alone (see products_alone).
    G = D if name == 'rnn' else 4 * D
    pairs = ([(torch.randn(T * B, D), torch.randn(D, G))] +
             [(torch.randn(B, D), torch.randn(D, G))] * T +
             [(torch.randn(B, G), torch.randn(G, D))] * T +
             [(torch.randn(D, T * B), torch.randn(T * B, G))] * 2)
    def products():
        for a, b in pairs:
            torch.mm(a, b)
    result[name + '_products'] = median_time(products)
print(json.dumps(result))
'''


def _median_time(function, repeat):
    for _ in range(2):
        function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def build(kind):
    """Inputs, the compiled-to-be outputs (cost and gradients), float32."""
    import pytensor
    with pytensor.config.change_flags(floatX='float32'):
        return _build(kind)


def _build(kind):
    import pytensor
    from pytensor import tensor

    from blocks.bricks import Linear, Tanh
    from blocks.bricks.recurrent import LSTM, SimpleRecurrent
    from blocks.initialization import Constant, IsotropicGaussian

    x = tensor.tensor3('x', dtype='float32')
    init = dict(weights_init=IsotropicGaussian(0.05),
                biases_init=Constant(0), seed=1)
    if kind == 'rnn':
        transition = SimpleRecurrent(dim=D, activation=Tanh(), **init)
    else:
        transition = LSTM(dim=D, **init)
    linear = Linear(input_dim=D, output_dim=transition.get_dim('inputs'),
                    **init)
    linear.initialize()
    transition.initialize()
    states = transition.apply(linear.apply(x), as_list=True)[0]
    cost = states.sum()
    parameters = list(linear.parameters) + [
        p for p in transition.parameters if not p.name.startswith('initial')]
    return x, [cost] + pytensor.grad(cost, parameters), linear, transition


def numpy_loops(linear, transition, kind):
    """Forward + backpropagation through time in NumPy, same equations."""
    import numpy
    Wx = linear.W.get_value()
    b = linear.b.get_value()
    if kind == 'rnn':
        W = transition.W.get_value()

        def run(x):
            xin = x @ Wx + b
            hs = numpy.zeros((T + 1, B, D), dtype='float32')
            for t in range(T):
                hs[t + 1] = numpy.tanh(xin[t] + hs[t] @ W)
            dW = numpy.zeros_like(W)
            dxin = numpy.empty_like(xin)
            dh = numpy.zeros((B, D), dtype='float32')
            for t in range(T - 1, -1, -1):
                dh = dh + 1
                dpre = dh * (1 - hs[t + 1] ** 2)
                dW += hs[t].T @ dpre
                dh = dpre @ W.T
                dxin[t] = dpre
            flat = dxin.reshape(T * B, D)
            return (hs[1:].sum(), x.reshape(T * B, D).T @ flat,
                    flat.sum(0), dW)
        return run

    Wh = transition.W_state.get_value()
    wi, wf, wo = (p.get_value() for p in transition.parameters[1:4])

    def sigmoid(v):
        return 1 / (1 + numpy.exp(-v))

    def run(x):
        xin = x @ Wx + b
        hs = numpy.zeros((T + 1, B, D), dtype='float32')
        cs = numpy.zeros((T + 1, B, D), dtype='float32')
        gates = []
        for t in range(T):
            a = hs[t] @ Wh + xin[t]
            i = sigmoid(a[:, :D] + cs[t] * wi)
            f = sigmoid(a[:, D:2 * D] + cs[t] * wf)
            g = numpy.tanh(a[:, 2 * D:3 * D])
            cs[t + 1] = f * cs[t] + i * g
            o = sigmoid(a[:, 3 * D:] + cs[t + 1] * wo)
            tc = numpy.tanh(cs[t + 1])
            hs[t + 1] = o * tc
            gates.append((i, f, g, o, tc))
        dWh = numpy.zeros_like(Wh)
        dwi, dwf, dwo = (numpy.zeros_like(wi) for _ in range(3))
        dxin = numpy.empty_like(xin)
        dh = numpy.zeros((B, D), dtype='float32')
        dc = numpy.zeros((B, D), dtype='float32')
        for t in range(T - 1, -1, -1):
            i, f, g, o, tc = gates[t]
            dh = dh + 1
            dao = dh * tc * o * (1 - o)
            dc = dc + dh * o * (1 - tc ** 2) + dao * wo
            dai = dc * g * i * (1 - i)
            daf = dc * cs[t] * f * (1 - f)
            dag = dc * i * (1 - g ** 2)
            dwo += (dao * cs[t + 1]).sum(0)
            dwi += (dai * cs[t]).sum(0)
            dwf += (daf * cs[t]).sum(0)
            da = numpy.concatenate([dai, daf, dag, dao], axis=1)
            dc = dc * f + dai * wi + daf * wf
            dWh += hs[t].T @ da
            dh = da @ Wh.T
            dxin[t] = da
        flat = dxin.reshape(T * B, 4 * D)
        return (hs[1:].sum(), x.reshape(T * B, D).T @ flat, flat.sum(0),
                dWh, dwi, dwf, dwo)
    return run


def products_alone(kind, repeat):
    """Median time of the step's matrix products alone, in SciPy's BLAS.

    The products a forward and backward pass needs, with the shapes of
    the benchmark: the input projection, one product per step forward and
    one backward, and the two weight gradients over the whole sequence.
    PyTensor's C code calls the same OpenBLAS (blocks links it to SciPy's,
    :func:`blocks.compilation.configure_blas`), so this is a floor for
    blocks' time, as the same products in PyTorch are for PyTorch's.
    """
    import numpy
    from scipy.linalg import blas
    G = D if kind == 'rnn' else 4 * D
    rng = numpy.random.RandomState(0)

    def pair(m, k, n):
        a = rng.normal(size=(m, k)).astype('float32')
        b = rng.normal(size=(k, n)).astype('float32')
        return a, b, numpy.empty((m, n), dtype='float32')
    pairs = ([pair(T * B, D, G)] + [pair(B, D, G)] * T +
             [pair(B, G, D)] * T + [pair(D, T * B, G)] * 2)

    def products():
        # C-ordered a @ b is the Fortran-ordered b.T @ a.T, as PyTensor's
        # Gemm calls it.
        for a, b, out in pairs:
            blas.sgemm(1.0, b.T, a.T, c=out.T, overwrite_c=1)
    return _median_time(products, repeat)


def worker(threads, repeat, cold):
    """One process, one thread count: blocks and NumPy timings."""
    import numpy
    from blocks.compilation import describe, function

    x_value = numpy.random.RandomState(0).normal(
        size=(T, B, D)).astype('float32')
    result = {'mode': describe()}
    for kind in ('rnn', 'lstm'):
        x, outputs, linear, transition = build(kind)
        start = time.perf_counter()
        compiled = function([x], outputs)
        compile_first = time.perf_counter() - start
        x2, outputs2, _, _ = build(kind)
        start = time.perf_counter()
        function([x2], outputs2)
        compile_warm = time.perf_counter() - start
        blocks_time = _median_time(functools.partial(compiled, x_value),
                                   repeat)
        loop = numpy_loops(linear, transition, kind)
        expected = loop(x_value)
        got = compiled(x_value)
        error = max(float(numpy.abs(a - e).max() / (numpy.abs(e).max() + 1))
                    for a, e in zip(got, expected, strict=True))
        numpy_time = _median_time(functools.partial(loop, x_value),
                                  max(3, repeat // 3))
        result[kind] = {'blocks': blocks_time, 'numpy': numpy_time,
                        'products': products_alone(kind, repeat),
                        'compile_first': compile_first,
                        'compile_warm': compile_warm,
                        'max_relative_difference': error}
    return result


def run_worker(threads, repeat, cold):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads),
               NUMBA_NUM_THREADS=str(threads))
    command = [sys.executable, os.path.abspath(__file__), '--worker',
               '--threads', str(threads), '--repeat', str(repeat)]
    with tempfile.TemporaryDirectory() as compiledir:
        if cold:
            flags = env.get('PYTENSOR_FLAGS', '')
            env['PYTENSOR_FLAGS'] = ','.join(
                filter(None, [flags, f'compiledir={compiledir}']))
        output = subprocess.run(command, env=env, check=True,
                                capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def run_torch(python, threads, repeat):
    if not python or not os.path.exists(python):
        return None
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               MKL_NUM_THREADS=str(threads))
    process = subprocess.run(
        [python, '-c', TORCH_CODE, str(threads), str(repeat), str(T), str(B),
         str(D)], env=env, capture_output=True, text=True)
    if process.returncode:
        return None
    return json.loads(process.stdout.strip().splitlines()[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--repeat', type=int, default=10)
    parser.add_argument('--cold', action='store_true',
                        help="also compile once in an empty compile "
                             "directory (minutes)")
    parser.add_argument('--torch-python', default=TORCH_PYTHON)
    parser.add_argument('--worker', action='store_true',
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        sys.path.insert(0, os.path.dirname(os.path.dirname(
            os.path.abspath(__file__))))
        print(json.dumps(worker(args.threads[0], args.repeat, False)))
        return 0

    print(f"Forward + backward, {T} steps, batch {B}, dimension {D}, "
          f"float32; median of {args.repeat} runs")
    for threads in args.threads:
        result = run_worker(threads, args.repeat, cold=False)
        torch_result = run_torch(args.torch_python, threads, args.repeat)
        mode = result['mode']
        print(f"\n{threads} thread(s); blocks' default mode: "
              f"{mode['linker']}, {mode['optimizer']}")
        for kind, label in (('rnn', 'SimpleRecurrent (tanh)'),
                            ('lstm', 'LSTM')):
            numbers = result[kind]
            line = (f"  {label:24s} blocks {numbers['blocks'] * 1e3:7.1f} ms"
                    f"   numpy loop {numbers['numpy'] * 1e3:7.1f} ms "
                    f"(x{numbers['numpy'] / numbers['blocks']:.2f})")
            if torch_result:
                torch_time = torch_result[kind]
                ratio = torch_time / numbers['blocks']
                line += (f"   torch {torch_time * 1e3:7.1f} ms "
                         f"(torch/blocks {ratio:.2f})")
            print(line)
            products = (f"  {'':24s} matrix products alone: "
                        f"{numbers['products'] * 1e3:.1f} ms in SciPy's "
                        f"OpenBLAS")
            if torch_result:
                products += (f", {torch_result[kind + '_products'] * 1e3:.1f}"
                             f" ms in PyTorch")
            print(products)
            print(f"  {'':24s} compile {numbers['compile_first']:.1f} s "
                  f"first in this process, {numbers['compile_warm']:.1f} s "
                  f"again; max relative difference to NumPy "
                  f"{numbers['max_relative_difference']:.1e}")
        if not torch_result:
            print("  (torch not importable: no comparison)")
    if args.cold:
        result = run_worker(args.threads[0], 3, cold=True)
        for kind in ('rnn', 'lstm'):
            print(f"Cold compile ({kind}, empty compile directory): "
                  f"{result[kind]['compile_first']:.1f} s")
    return 0


if __name__ == '__main__':
    sys.exit(main())
