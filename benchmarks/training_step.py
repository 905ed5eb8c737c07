"""Time of one training step in every backend, against PyTorch on CPU.

The network is an MLP 784-500-500-10 (ReLU, softmax cross-entropy, float32,
batches of 100), trained with SGD (``Scale``), ``Adam``, and ``Adam`` with
dropout (p = 0.5) on both hidden layers. For every thread count asked for,
one worker process per backend (blocks' default C mode, Numba, JAX)
compiles the training function of each rule, and another builds the same
steps in PyTorch (``--torch-python``, a separate environment: torch is no
dependency of blocks). The workers then take turns, a round each (every
rule's steps), so that load from other processes affects all alike. Each
worker runs on the first N CPUs it may use (``sched_setaffinity``), N the
thread count, besides the thread variables of BLAS, OpenMP and Numba:
XLA's thread pool reads no variable and sizes itself by those CPUs. JAX
computes asynchronously: every measurement ends by reading the parameters
back, which waits for it.

Usage::

    python benchmarks/training_step.py [--threads 1 2] [--steps 30]
        [--rounds 5] [--backends default numba jax]
        [--rules sgd adam adam_dropout] [--torch-python PATH]
        [--clock wall|cpu] [--profile] [--floor]

``--clock cpu`` measures the CPU time of the process instead of wall time:
on a machine that other jobs load it counts only the time the step really
computes (with one thread; with more it sums them). ``--profile`` prints
PyTensor's per-node profile of the default mode's Adam step (one thread).
``--floor`` adds a row ``matmuls only`` to the JAX backend's: the step's
eight matrix products alone, jitted, the time below which no JAX step of
this network can go.
Prints milliseconds per step (the best round's mean), the ratio
PyTorch time / blocks time (above 1 means blocks is faster), and the cores
the worker kept busy in that round (CPU time / wall time: at most the
thread count).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIMS = [784, 500, 500, 10]
BATCH = 100
RULES = ('sgd', 'adam', 'adam_dropout')
BACKENDS = ('default', 'numba', 'jax')
TORCH_PYTHON = '/work/torchvenv/bin/python'
#: Pause between two workers' turns: idle BLAS and OpenMP threads spin
#: for up to about 0.2 s before they sleep.
SETTLE_S = 0.3


def thread_environment(threads: int) -> dict:
    """Environment variables that limit BLAS and Numba to `threads`."""
    value = str(threads)
    return dict(
        os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS=value,
        OMP_NUM_THREADS=value, MKL_NUM_THREADS=value,
        NUMBA_NUM_THREADS=value)


def pin(threads: int) -> None:
    """Run this process on its first `threads` CPUs; call before imports.

    Thread pools that read no environment variable (XLA's, for JAX, and
    its dispatch thread) size themselves by, and run on, the CPUs the
    process may use: without this, JAX at "one thread" used two cores.

    """
    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:threads])


class Clocks:
    """Wall and CPU time of a stretch of code, in ms per step."""

    def __init__(self, steps: int):
        self.steps = steps

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *_):
        self.wall = (time.perf_counter() - self.wall) / self.steps * 1e3
        self.cpu = (time.process_time() - self.cpu) / self.steps * 1e3


def make_batches(n_batches: int, seed: int = 1):
    import numpy
    rng = numpy.random.RandomState(seed)
    features = rng.rand(n_batches, BATCH, DIMS[0]).astype('float32')
    targets = rng.randint(0, DIMS[-1], (n_batches, BATCH)).astype('int64')
    return features, targets


def build_step(rule: str, backend: str, profile: bool = False):
    """Blocks' compiled training function and its parameters."""
    from pytensor import tensor

    from blocks.algorithms import Adam, GradientDescent, Scale
    from blocks.bricks import MLP, Rectifier, Softmax
    from blocks.compilation import backend_mode
    from blocks.filter import VariableFilter
    from blocks.graph import ComputationGraph, apply_dropout
    from blocks.initialization import Constant, IsotropicGaussian
    from blocks.roles import OUTPUT

    features = tensor.matrix('features', dtype='float32')
    targets = tensor.lvector('targets')
    mlp = MLP([Rectifier(), Rectifier(), None], DIMS,
              weights_init=IsotropicGaussian(0.05), biases_init=Constant(0),
              seed=1)
    mlp.initialize()
    cost = Softmax().categorical_cross_entropy(
        targets, mlp.apply(features)).mean()
    graph = ComputationGraph(cost)
    if rule == 'adam_dropout':
        hidden = VariableFilter(bricks=mlp.activations[:2],
                                roles=[OUTPUT])(graph.variables)
        graph = apply_dropout(graph, hidden, 0.5, seed=2)
    step_rule = Scale(0.1) if rule == 'sgd' else Adam()
    kwargs = {'mode': backend_mode(backend), 'profile': profile}
    algorithm = GradientDescent(cost=graph.outputs[0],
                                parameters=graph.parameters,
                                step_rule=step_rule,
                                theano_func_kwargs=kwargs)
    algorithm.initialize()
    return algorithm._function, algorithm.parameters


def matrix_products(n_steps: int):
    """A function running the step's eight matrix products `n_steps` times.

    In XLA, as the JAX backend computes them: the time that no JAX step
    of this network can go below (``--floor``).

    """
    import jax
    import numpy
    rng = numpy.random.RandomState(1)
    arrays = [jax.device_put(rng.rand(*shape).astype('float32'))
              for shape in [(BATCH, DIMS[0]), DIMS[:2], DIMS[1:3], DIMS[2:],
                            (BATCH, DIMS[1]), (BATCH, DIMS[1]),
                            (BATCH, DIMS[2]), (BATCH, DIMS[3])]]

    # Arguments, not constants, which XLA would fold at compile time.
    @jax.jit
    def products(x, w1, w2, w3, h, d1, d2, d3):
        # Forward, weight gradients, gradients of the two hidden layers.
        return (x @ w1, h @ w2, h @ w3, x.T @ d1, h.T @ d2, h.T @ d3,
                d3 @ w3.T, d2 @ w2.T)
    jax.block_until_ready(products(*arrays))

    def run():
        for _ in range(n_steps):
            outputs = products(*arrays)
        jax.block_until_ready(outputs)
    return run


def serve(steps: dict, n_steps: int) -> None:
    """Time one round of every step for each line read from stdin.

    `steps` maps ``(rule, backend)`` to a function that runs `n_steps`
    training steps and waits for their results. Prints ``ready`` first,
    then, per round, one JSON line per step and ``done``.

    """
    print('ready', flush=True)
    for _ in sys.stdin:
        for (rule, backend), run in steps.items():
            with Clocks(n_steps) as clocks:
                run()
            print(json.dumps({'rule': rule, 'backend': backend,
                              'wall': clocks.wall, 'cpu': clocks.cpu}))
        print('done', flush=True)


def blocks_worker(args) -> None:
    """Compile every rule in the backends asked for, then serve rounds."""
    import numpy
    import pytensor
    pytensor.config.floatX = 'float32'
    features, targets = make_batches(args.steps)
    steps = {}
    for rule in args.rules:
        for backend in args.backends:
            try:
                start = time.perf_counter()
                function, parameters = build_step(rule, backend)
                function(features[0], targets[0])
            except ImportError as error:
                print(json.dumps({'rule': rule, 'backend': backend,
                                  'error': str(error).split('\n')[0]}))
                continue
            print(json.dumps({'rule': rule, 'backend': backend,
                              'compile_s': time.perf_counter() - start}))

            def run(function=function, parameters=parameters):
                for x, y in zip(features, targets, strict=True):
                    function(x, y)
                # Waits for JAX's asynchronous computation.
                for parameter in parameters:
                    numpy.asarray(parameter.get_value(borrow=True))
            steps[rule, backend] = run
    if args.floor:
        steps['matmuls only', 'jax'] = matrix_products(args.steps)
    serve(steps, args.steps)


def torch_step(torch, rule: str):
    """PyTorch's training step of the MLP with `rule`."""
    dropout = rule == 'adam_dropout'
    layers = [torch.nn.Linear(784, 500), torch.nn.ReLU()]
    layers += [torch.nn.Dropout(0.5)] if dropout else []
    layers += [torch.nn.Linear(500, 500), torch.nn.ReLU()]
    layers += [torch.nn.Dropout(0.5)] if dropout else []
    layers += [torch.nn.Linear(500, 10)]
    model = torch.nn.Sequential(*layers)
    if rule == 'sgd':
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=0.002, eps=1e-8)
    loss = torch.nn.CrossEntropyLoss()

    def step(x, y):
        optimizer.zero_grad()
        loss(model(x), y).backward()
        optimizer.step()
    return step


def torch_worker(args) -> None:
    """The same steps in PyTorch; run by a Python that has torch."""
    import torch
    torch.set_num_threads(args.threads[0])
    torch.manual_seed(0)
    features, targets = (torch.from_numpy(array)
                         for array in make_batches(args.steps))
    steps = {}
    for rule in args.rules:
        step = torch_step(torch, rule)
        step(features[0], targets[0])

        def run(step=step):
            for x, y in zip(features, targets, strict=True):
                step(x, y)
        steps[rule, 'torch'] = run
    serve(steps, args.steps)


class Worker:
    """A worker process, asked for one round at a time."""

    def __init__(self, command: list, environment: dict):
        self.errors = tempfile.TemporaryFile(mode='w+')
        self.process = subprocess.Popen(
            command, env=environment, text=True, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self.errors)
        self.setup = self.read_until('ready')

    def read_until(self, last: str) -> list:
        records = []
        for line in self.process.stdout:
            if line.strip() == last:
                return records
            if line.startswith('{'):
                records.append(json.loads(line))
        self.errors.seek(0)
        raise RuntimeError(f"{self.process.args[:4]} failed:\n"
                           f"{self.errors.read()[-2000:]}")

    def round(self) -> list:
        self.process.stdin.write('go\n')
        self.process.stdin.flush()
        return self.read_until('done')

    def close(self) -> None:
        self.process.stdin.close()
        self.process.wait()
        self.errors.close()


def run_workers(args, threads: int) -> list:
    """Each worker's best round of each step, and its setup records.

    One worker per backend, and one for PyTorch: in one process, the
    threads of a library that has just computed (OpenBLAS's wait for new
    work for about 0.1 s, spinning) take the cores from the next one's,
    which made JAX's step at two threads 1.5 times slower after the C
    mode's. The workers take turns round after round, so that load from
    other processes changes the ratios less, with a pause between turns
    for those threads to go to sleep.

    """
    environment = thread_environment(threads)
    options = ['--threads', str(threads), '--steps', str(args.steps),
               '--rules', *args.rules]
    commands = [[sys.executable, __file__, '--worker', 'blocks', *options,
                 '--backends', backend,
                 *(['--floor'] if args.floor and backend == 'jax' else [])]
                for backend in args.backends]
    # One after the other: compiling would slow the other's compilation.
    workers = [Worker(command, environment) for command in commands]
    if args.torch_python and os.path.exists(args.torch_python):
        try:
            workers.append(Worker([args.torch_python, __file__, '--worker',
                                   'torch', *options], environment))
        except RuntimeError as error:
            print(f"PyTorch worker failed, no ratios: {error}")
    rounds = {}
    try:
        for _ in range(args.rounds):
            for worker in workers:
                time.sleep(SETTLE_S)
                for record in worker.round():
                    key = record['rule'], record['backend']
                    rounds.setdefault(key, []).append(record)
    finally:
        for worker in workers:
            worker.close()
    results = [record for worker in workers for record in worker.setup]
    compile_s = {(record['rule'], record['backend']): record['compile_s']
                 for record in results if 'compile_s' in record}
    results = [record for record in results if 'error' in record]
    for (rule, backend), records in rounds.items():
        fastest = min(records, key=lambda record: record[args.clock])
        results.append({'rule': rule, 'backend': backend,
                        'ms': fastest[args.clock],
                        'cores': fastest['cpu'] / fastest['wall'],
                        'compile_s': compile_s.get((rule, backend))})
    return results


def report(results: list, threads: int, clock: str) -> None:
    torch = {r['rule']: r['ms'] for r in results if r['backend'] == 'torch'}
    print(f"\n{threads} thread(s): ms per step (best of rounds, {clock} "
          f"time); "
          f"ratio = PyTorch / blocks (above 1: blocks faster)")
    print(f"  {'rule':14s} {'backend':8s} {'ms':>8s} {'ratio':>7s} "
          f"{'cores':>6s} {'compile s':>10s}")
    for result in results:
        if 'error' in result:
            print(f"  {result['rule']:14s} {result['backend']:8s} "
                  f"skipped: {result['error']}")
            continue
        ratio = (f"{torch[result['rule']] / result['ms']:.2f}"
                 if result['rule'] in torch and result['backend'] != 'torch'
                 else '')
        compile_s = (f"{result['compile_s']:.1f}"
                     if result.get('compile_s') is not None else '')
        print(f"  {result['rule']:14s} {result['backend']:8s} "
              f"{result['ms']:8.2f} {ratio:>7s} {result['cores']:6.2f} "
              f"{compile_s:>10s}")


def profile(args) -> None:
    import pytensor
    pytensor.config.floatX = 'float32'
    features, targets = make_batches(args.steps)
    function, _ = build_step('adam', 'default', profile=True)
    for x, y in zip(features, targets, strict=True):
        function(x, y)
    function.profile.summary(n_ops_to_print=10, n_apply_to_print=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--threads', type=int, nargs='+', default=[1, 2])
    parser.add_argument('--steps', type=int, default=30)
    parser.add_argument('--rounds', type=int, default=5)
    parser.add_argument('--backends', nargs='+', default=list(BACKENDS),
                        choices=BACKENDS)
    parser.add_argument('--rules', nargs='+', default=list(RULES),
                        choices=RULES)
    parser.add_argument('--torch-python', default=TORCH_PYTHON,
                        help='a Python with torch installed ("" for none)')
    parser.add_argument('--clock', choices=['wall', 'cpu'], default='wall')
    parser.add_argument('--profile', action='store_true')
    parser.add_argument('--floor', action='store_true',
                        help="with the jax backend, also time the step's "
                             "matrix products alone")
    parser.add_argument('--worker', choices=['blocks', 'torch'],
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        pin(args.threads[0])
        if args.worker == 'blocks':
            blocks_worker(args)
        else:
            torch_worker(args)
        return
    if args.profile:
        os.environ.update(thread_environment(1))
        pin(1)
        profile(args)
        return
    cpus = len(os.sched_getaffinity(0))
    if max(args.threads) > cpus:
        parser.error(f"--threads {max(args.threads)}: this process may run "
                     f"on {cpus} CPU(s) only; ask for at most {cpus}.")
    sys.path.insert(0, str(ROOT))
    from blocks.compilation import describe
    print(f"blocks' default mode: {describe()}")
    for threads in args.threads:
        report(run_workers(args, threads), threads, args.clock)


if __name__ == '__main__':
    main()
