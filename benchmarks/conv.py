"""Speed of a LeNet training step: blocks' conv Ops against PyTorch.

The network is the classic LeNet on MNIST-sized input: batch 128 of
1x28x28 images; convolution with 20 filters 5x5, ReLU, 2x2 max pooling;
convolution with 50 filters 5x5, ReLU, 2x2 max pooling; dense 500, ReLU;
dense 10, softmax cross-entropy; plain SGD; float32. One step is forward,
backward and update.

For each thread count (1 and 2 by default) the script runs, each in a
fresh subprocess with ``OMP_NUM_THREADS``/``OPENBLAS_NUM_THREADS`` set and
pinned to as many CPUs (``os.sched_setaffinity``, where there is one):

* the blocks step (bricks, :class:`~blocks.algorithms.GradientDescent`,
  blocks' default compile mode), and the time of each layer's Ops run
  alone on the layer's shapes (forward and backward), which says where
  the step's time goes;
* the same network in PyTorch (``torch.set_num_threads``), when
  ``/work/torchvenv/bin/python`` or ``--torch-python`` can import torch.
  torch is not a dependency of blocks: it runs in its own interpreter.

It prints steps per second (best and median over rounds) and the ratio
blocks / PyTorch measured in the same run. Timings on a loaded machine are
noisy; the ratio, measured in alternation, is the figure to read.

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
DEFAULT_TORCH = '/work/torchvenv/bin/python'

TORCH_CHILD = r'''
import json, sys, time, torch
threads, steps, rounds = map(int, sys.argv[1:4])
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
times = []
for _ in range(rounds):
    start = time.perf_counter()
    for _ in range(steps):
        step()
    times.append((time.perf_counter() - start) / steps)
print(json.dumps({'step': times, 'version': torch.__version__}))
'''.replace('__LR__', repr(LEARNING_RATE)).replace('__BATCH__', str(BATCH))


def _best(function, repeat=5):
    function()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return min(times)


def _blocks_network():
    """The LeNet training step built from bricks, and its data."""
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
        step_rule=Scale(LEARNING_RATE))
    algorithm.initialize()
    rng = numpy.random.RandomState(1)
    batch = {'features': rng.rand(BATCH, 1, 28, 28).astype('float32'),
             'targets': rng.randint(0, 10, (BATCH, 1)).astype('int64')}
    return algorithm, batch


def _layer_times():
    """Milliseconds of each layer's Ops run alone, forward and backward."""
    import numpy
    from pytensor import tensor

    from blocks.ops import (Conv2d, Conv2dGradInputs, Conv2dGradWeights,
                            MaxPoolGrad, Pool)

    rng = numpy.random.RandomState(2)

    def run(op, *values):
        node = op.make_node(*(tensor.as_tensor_variable(v) for v in values))
        storage = [[None]]
        seconds = _best(lambda: op.perform(node, values, storage))
        return seconds * 1e3, storage[0][0]

    def rand(*shape):
        return rng.rand(*shape).astype('float32')

    rows = []
    for name, c, size, k, grad_input in (('conv1 1->20 5x5', 1, 28, 20,
                                          False),
                                         ('conv2 20->50 5x5', 20, 12, 50,
                                          True)):
        x, w = rand(BATCH, c, size, size), rand(k, c, 5, 5)
        forward, out = run(Conv2d(), x, w)
        gy = rand(*out.shape)
        backward, _ = run(Conv2dGradWeights(), x, gy, numpy.array([5, 5]))
        if grad_input:
            backward += run(Conv2dGradInputs(), w, gy,
                            numpy.array([size, size]))[0]
        rows.append((name, forward, backward))
        pooled_in = out
        forward, pooled = run(Pool((2, 2)), pooled_in)
        backward, _ = run(MaxPoolGrad((2, 2)), pooled_in, pooled,
                          rand(*pooled.shape))
        rows.append((name.split()[0].replace('conv', 'pool') + ' 2x2 max',
                     forward, backward))
    h, w1, w2 = rand(BATCH, 800), rand(800, 500), rand(500, 10)
    forward = _best(lambda: (h @ w1) @ w2) * 1e3
    g = rand(BATCH, 500)
    backward = _best(lambda: (h.T @ g, g @ w1.T, g.T @ h)) * 1e3
    rows.append(('dense 800-500-10', forward, backward))
    return rows


def blocks_child(steps: int, rounds: int) -> dict:
    import pytensor
    pytensor.config.floatX = 'float32'
    sys.path.insert(0, str(ROOT))
    algorithm, batch = _blocks_network()
    algorithm.process_batch(batch)
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(steps):
            algorithm.process_batch(batch)
        times.append((time.perf_counter() - start) / steps)
    return {'step': times, 'layers': _layer_times()}


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


def _run_child(command, threads):
    # Both sides pinned to the same CPUs: a thread count then bounds the
    # cores, whatever helper threads a library starts.
    cpus = _cpus(threads)
    pin = None if cpus is None else (lambda: os.sched_setaffinity(0, cpus))
    done = subprocess.run(command, env=_child_env(threads), check=True,
                          capture_output=True, text=True, preexec_fn=pin)
    return json.loads(done.stdout.strip().splitlines()[-1])


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
        print(json.dumps(blocks_child(args.steps, args.rounds)))
        return 0
    torch_python = _torch_python(args.torch_python)
    print(f"LeNet step, batch {BATCH}, float32; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    if torch_python is None:
        print("(no PyTorch to compare with: pass --torch-python)")
    for threads in args.threads:
        blocks = _run_child([sys.executable, __file__, '--child',
                             '--steps', str(args.steps), '--rounds',
                             str(args.rounds)], threads)
        print(f"\n{threads} thread(s)")
        rate = 1 / min(blocks['step'])
        print(f"  blocks:  {rate:6.2f} steps/s best, "
              f"{1 / statistics.median(blocks['step']):6.2f} median")
        if torch_python:
            torch = _run_child([torch_python, '-c', TORCH_CHILD,
                                str(threads), str(args.steps),
                                str(args.rounds)], threads)
            torch_rate = 1 / min(torch['step'])
            print(f"  PyTorch {torch['version']}: {torch_rate:6.2f} steps/s "
                  f"best, {1 / statistics.median(torch['step']):6.2f} "
                  f"median")
            median = (statistics.median(torch['step']) /
                      statistics.median(blocks['step']))
            print(f"  blocks / PyTorch: {rate / torch_rate:.2f}x (best), "
                  f"{median:.2f}x (median)")
        print("  where blocks' time goes (each layer's Ops alone, ms):")
        print(f"    {'layer':<20}{'forward':>9}{'backward':>10}")
        for name, forward, backward in blocks['layers']:
            print(f"    {name:<20}{forward:9.2f}{backward:10.2f}")
        total = sum(f + b for _, f, b in blocks['layers'])
        print(f"    {'sum':<20}{total:19.2f}  "
              f"(whole step: {min(blocks['step']) * 1e3:.2f})")
    return 0


if __name__ == '__main__':
    sys.exit(main())
