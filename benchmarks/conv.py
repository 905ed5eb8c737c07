"""Speed of a LeNet training step: blocks' conv Ops against PyTorch.

The network is the classic LeNet on MNIST-sized input: batch 128 of
1x28x28 images; convolution with 20 filters 5x5, ReLU, 2x2 max pooling;
convolution with 50 filters 5x5, ReLU, 2x2 max pooling; dense 500, ReLU;
dense 10, softmax cross-entropy; plain SGD; float32. One step is forward,
backward and update.

For each thread count (1 and 2 by default) the script starts two
subprocesses, each with ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS`` set and
pinned to as many CPUs (``os.sched_setaffinity``, where there is one):

* the blocks step (bricks, :class:`~blocks.algorithms.GradientDescent`,
  blocks' default compile mode), and afterwards the time of each layer's
  Ops run alone on the layer's shapes (forward and backward), which says
  where the step's time goes (a convolution's im2col, shared by its
  forward product and its weight gradient, on a row of its own);
* the same network in PyTorch (``torch.set_num_threads``), when
  ``/work/torchvenv/bin/python`` or ``--torch-python`` can import torch.
  torch is not a dependency of blocks: it runs in its own interpreter.

Rounds of ``--steps`` steps alternate between the two, with a pause in
between for the other side's idle threads to stop spinning, so that load
from other processes falls on both alike. The script prints steps per
second (best and median over rounds) and the ratio blocks / PyTorch: best
against best, and the median of each round's ratio to the other side's
round. On a loaded machine the ratios are the figures to read.

Usage::

    python benchmarks/conv.py [--threads 1 2] [--steps 10] [--rounds 5]
        [--torch-python PATH]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BATCH, LEARNING_RATE = 128, 0.01
#: Seconds between one side's round and the other's.
SETTLE = 0.3
DEFAULT_TORCH = '/work/torchvenv/bin/python'

TORCH_CHILD = r'''
import json, sys, time, torch
threads = int(sys.argv[1])
torch.set_num_threads(threads)
torch.manual_seed(1)
net = torch.nn.Sequential(
    torch.nn.Conv2d(1, 20, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(20, 50, 5), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Flatten(), torch.nn.Linear(800, 500), torch.nn.ReLU(),
    torch.nn.Linear(500, 10))
optimizer = torch.optim.SGD(net.parameters(), lr=__LR__)
x = torch.rand(__BATCH__, 1, 28, 28)
y = torch.randint(0, 10, (__BATCH__,))
def step():
    optimizer.zero_grad()
    loss = torch.nn.functional.cross_entropy(net(x), y)
    loss.backward()
    optimizer.step()
step()
print(json.dumps({'version': torch.__version__}), flush=True)
for line in sys.stdin:
    steps = int(line)
    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    print(json.dumps((time.perf_counter() - start) / steps), flush=True)
'''.replace('__LR__', repr(LEARNING_RATE)).replace('__BATCH__', str(BATCH))


def _best(function, repeat=5):
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def _blocks_network(**theano_func_kwargs):
    """The LeNet training step built from bricks, and its data; the
    keyword arguments go to the step's compilation (a `mode`, say)."""
    import numpy
    from pytensor import tensor

    from blocks.algorithms import GradientDescent, Scale
    from blocks.bricks import MLP, Rectifier, Softmax
    from blocks.bricks.conv import (Convolutional, ConvolutionalSequence,
                                    Flattener, MaxPooling)
    from blocks.bricks.cost import CategoricalCrossEntropy
    from blocks.graph import ComputationGraph
    from blocks.initialization import Constant, Uniform

    convs = ConvolutionalSequence(
        [Convolutional((5, 5), 20), Rectifier(), MaxPooling((2, 2)),
         Convolutional((5, 5), 50), Rectifier(), MaxPooling((2, 2))],
        num_channels=1, image_size=(28, 28),
        weights_init=Uniform(width=0.2), biases_init=Constant(0))
    mlp = MLP([Rectifier(), Softmax()], [800, 500, 10],
              weights_init=Uniform(width=0.1), biases_init=Constant(0))
    convs.initialize()
    mlp.initialize()
    x, y = tensor.tensor4('features'), tensor.lmatrix('targets')
    probs = mlp.apply(Flattener().apply(convs.apply(x)))
    cost = CategoricalCrossEntropy().apply(y.flatten(), probs)
    algorithm = GradientDescent(
        cost=cost, parameters=ComputationGraph([cost]).parameters,
        step_rule=Scale(LEARNING_RATE),
        theano_func_kwargs=theano_func_kwargs)
    algorithm.initialize()
    rng = numpy.random.RandomState(1)
    batch = {'features': rng.rand(BATCH, 1, 28, 28).astype('float32'),
             'targets': rng.randint(0, 10, (BATCH, 1)).astype('int64')}
    return algorithm, batch


def _layer_times():
    """Milliseconds of each layer's Ops run alone, forward and backward."""
    import numpy
    from pytensor import tensor

    from blocks.compilation import function
    from blocks.ops import MaxPoolGrad, Pool
    from blocks.ops.columns import (Conv2dColumns, Conv2dFromColumns,
                                    Conv2dGradsFromColumns,
                                    Conv2dGradWeightsFromColumns)
    from blocks.ops._blas import gemm

    rng = numpy.random.RandomState(2)

    def run(op, *values):
        # Compiled in blocks' default mode, as the step runs the Op (C
        # code where the Op has it); integer arguments are constants.
        arrays = [v for v in values if v.dtype.kind == 'f']
        inputs = [tensor.tensor(dtype=v.dtype, shape=(None,) * v.ndim)
                  for v in arrays]
        given = iter(inputs)
        args = [next(given) if v.dtype.kind == 'f'
                else tensor.as_tensor_variable(v) for v in values]
        compiled = function(inputs, op(*args))
        seconds = _best(lambda: compiled(*arrays))
        return seconds * 1e3, compiled(*arrays)

    def rand(*shape):
        return rng.rand(*shape).astype('float32')

    rows = []
    for name, c, size, k, grad_input in (('conv1 1->20 5x5', 1, 28, 20,
                                          False),
                                         ('conv2 20->50 5x5', 20, 12, 50,
                                          True)):
        # As the step runs them: one im2col (Conv2dColumns) that the
        # forward product and the weight gradient share, and both
        # gradients in one Op where the image gradient is wanted.
        x, w = rand(BATCH, c, size, size), rand(k, c, 5, 5)
        columns_time, cols = run(Conv2dColumns(), x, numpy.array([5, 5]))
        rows.append((name.split()[0] + ' im2col', columns_time, 0.0))
        forward, out = run(Conv2dFromColumns(), cols, w)
        gy = rand(*out.shape)
        if grad_input:
            backward, _ = run(Conv2dGradsFromColumns(), cols, w, gy,
                              numpy.array([size, size]))
        else:
            backward, _ = run(Conv2dGradWeightsFromColumns(), cols, gy)
        rows.append((name, forward, backward))
        pooled_in = out
        forward, pooled = run(Pool((2, 2)), pooled_in)
        backward, _ = run(MaxPoolGrad((2, 2)), pooled_in, pooled,
                          rand(*pooled.shape))
        rows.append((name.split()[0].replace('conv', 'pool') + ' 2x2 max',
                     forward, backward))
    # The step's dense products run in SciPy's BLAS (PyTensor's Gemm).
    h, w1, w2 = rand(BATCH, 800), rand(800, 500), rand(500, 10)
    forward = _best(lambda: gemm(gemm(h, w1), w2)) * 1e3
    g = rand(BATCH, 500)
    backward = _best(lambda: (gemm(h.T, g), gemm(g, w1.T))) * 1e3
    rows.append(('dense 800-500-10', forward, backward))
    return rows


def blocks_child() -> None:
    """Serve the parent: a line with a number of steps runs (and times)
    them; ``layers`` times each layer's Ops."""
    import pytensor
    pytensor.config.floatX = 'float32'
    sys.path.insert(0, str(ROOT))
    algorithm, batch = _blocks_network()
    algorithm.process_batch(batch)
    print(json.dumps({}), flush=True)
    for line in sys.stdin:
        if line.strip() == 'layers':
            print(json.dumps(_layer_times()), flush=True)
            continue
        steps = int(line)
        algorithm.process_batch(batch)
        start = time.perf_counter()
        for _ in range(steps):
            algorithm.process_batch(batch)
        print(json.dumps((time.perf_counter() - start) / steps), flush=True)


def _child_env(threads: int) -> dict:
    env = dict(os.environ)
    for name in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS',
                 'MKL_NUM_THREADS'):
        env[name] = str(threads)
    env['PYTHONPATH'] = os.pathsep.join(
        [str(ROOT)] + [p for p in [env.get('PYTHONPATH')] if p])
    return env


def _cpus(threads: int) -> set[int] | None:
    """The first `threads` CPUs this process may use (None where the
    system cannot pin processes)."""
    if not hasattr(os, 'sched_getaffinity'):
        return None
    return set(sorted(os.sched_getaffinity(0))[:threads])


class _Child:
    """A timing subprocess, pinned and limited to `threads` threads, that
    answers one JSON line per request line."""

    def __init__(self, command, threads):
        # Both sides pinned to the same CPUs: a thread count then bounds
        # the cores, whatever helper threads a library starts.
        cpus = _cpus(threads)
        pin = (None if cpus is None
               else (lambda: os.sched_setaffinity(0, cpus)))
        self.process = subprocess.Popen(
            command, env=_child_env(threads), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True, preexec_fn=pin)
        self.hello = self._answer()

    def _answer(self):
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"{self.process.args[:2]} exited with "
                               f"status {self.process.wait()}")
        return json.loads(line)

    def ask(self, request):
        self.process.stdin.write(f"{request}\n")
        self.process.stdin.flush()
        answer = self._answer()
        # The threads of a BLAS or OpenMP pool spin a while after their
        # last task: let them stop before the other side's round.
        time.sleep(SETTLE)
        return answer

    def close(self):
        self.process.stdin.close()
        self.process.wait()


def _torch_python(path: str | None) -> str | None:
    candidate = path or DEFAULT_TORCH
    if not os.path.exists(candidate):
        return None
    probe = subprocess.run([candidate, '-c', 'import torch'],
                           capture_output=True)
    return candidate if probe.returncode == 0 else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--steps', type=int, default=10)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--torch-python')
    parser.add_argument('--child', action='store_true',
                        help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        blocks_child()
        return 0
    torch_python = _torch_python(args.torch_python)
    print(f"LeNet step, batch {BATCH}, float32; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if torch_python is None:
        print("(no PyTorch to compare with: pass --torch-python)")
    for threads in args.threads:
        sides = {'blocks': _Child([sys.executable, __file__, '--child'],
                                  threads)}
        if torch_python:
            sides['torch'] = _Child([torch_python, '-c', TORCH_CHILD,
                                     str(threads)], threads)
        # Rounds alternate between the sides, so that load from other
        # processes falls on both alike.
        times = {name: [] for name in sides}
        for _ in range(args.rounds):
            for name, child in sides.items():
                times[name].append(child.ask(args.steps))
        layers = sides['blocks'].ask('layers')
        for child in sides.values():
            child.close()
        print(f"\n{threads} thread(s); load average "
              f"{os.getloadavg()[0]:.1f}")
        blocks = times['blocks']
        rate = 1 / min(blocks)
        print(f"  blocks:  {rate:6.2f} steps/s best, "
              f"{1 / statistics.median(blocks):6.2f} median")
        if torch_python:
            torch = times['torch']
            torch_rate = 1 / min(torch)
            print(f"  PyTorch {sides['torch'].hello['version']}: "
                  f"{torch_rate:6.2f} steps/s best, "
                  f"{1 / statistics.median(torch):6.2f} median")
            # Each round's ratio against the other side's next round.
            median = statistics.median(
                t / b for t, b in zip(torch, blocks, strict=True))
            print(f"  blocks / PyTorch: {rate / torch_rate:.2f}x (best), "
                  f"{median:.2f}x (median of rounds)")
        print("  where blocks' time goes (each layer's Ops alone, ms):")
        print(f"    {'layer':<20}{'forward':>9}{'backward':>10}")
        for name, forward, backward in layers:
            print(f"    {name:<20}{forward:9.2f}{backward:10.2f}")
        total = sum(f + b for _, f, b in layers)
        print(f"    {'sum':<20}{total:19.2f}  "
              f"(whole step: {min(blocks) * 1e3:.2f})")
    return 0


if __name__ == '__main__':
    sys.exit(main())
