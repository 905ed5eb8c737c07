"""Time of one training step in every backend, against PyTorch on CPU.

The network is an MLP 784-500-500-10 (ReLU, softmax cross-entropy, float32,
batches of 100), trained with SGD (``Scale``), ``Adam``, and ``Adam`` with
dropout (p = 0.5) on both hidden layers. For every thread count asked for,
one worker process times the compiled training function of each backend
(blocks' default C mode, Numba, JAX), interleaving the backends over several
rounds so that load from other processes affects all alike; a second worker
runs the same steps in PyTorch (``--torch-python``, a separate environment:
torch is no dependency of blocks) with the same number of threads. JAX
computes asynchronously: every measurement ends by reading the parameters
back, which waits for it.

Usage::

    python benchmarks/training_step.py [--threads 1 2] [--steps 30]
        [--rounds 5] [--backends default numba jax]
        [--rules sgd adam adam_dropout] [--torch-python PATH]
        [--clock wall|cpu] [--profile]

``--clock cpu`` measures the CPU time of the process instead of wall time:
on a machine that other jobs load it counts only the time the step really
computes (with one thread; with more it sums them). ``--profile`` prints
PyTensor's per-node profile of the default mode's Adam step (one thread).
Prints milliseconds per step (the best round's mean) and the ratio
PyTorch time / blocks time: above 1 means blocks is faster.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DIMS = [784, 500, 500, 10]
BATCH = 100
RULES = ('sgd', 'adam', 'adam_dropout')
BACKENDS = ('default', 'numba', 'jax')
TORCH_PYTHON = '/work/torchvenv/bin/python'


def thread_environment(threads: int) -> dict:
    """Environment variables that limit every library to `threads`."""
    value = str(threads)
    return dict(
        os.environ, PYTHONPATH=str(ROOT), OPENBLAS_NUM_THREADS=value,
        OMP_NUM_THREADS=value, MKL_NUM_THREADS=value,
        NUMBA_NUM_THREADS=value,
        XLA_FLAGS=(f'--xla_cpu_multi_thread_eigen={threads > 1} '
                   f'intra_op_parallelism_threads={value}'))


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


def blocks_worker(args) -> None:
    """Time every backend for every rule; print one JSON line each."""
    import numpy
    clock = time.process_time if args.clock == 'cpu' else time.perf_counter
    import pytensor
    pytensor.config.floatX = 'float32'
    features, targets = make_batches(args.steps)
    for rule in args.rules:
        steps = {}
        for backend in args.backends:
            try:
                start = time.perf_counter()
                function, parameters = build_step(rule, backend)
                function(features[0], targets[0])
                compile_s = time.perf_counter() - start
            except ImportError as error:
                print(json.dumps({'rule': rule, 'backend': backend,
                                  'error': str(error).split('\n')[0]}))
                continue
            steps[backend] = (function, parameters, compile_s)
        times = {backend: [] for backend in steps}
        for _ in range(args.rounds):
            for backend, (function, parameters, _) in steps.items():
                start = clock()
                for x, y in zip(features, targets, strict=True):
                    function(x, y)
                # Waits for JAX's asynchronous computation.
                for parameter in parameters:
                    numpy.asarray(parameter.get_value(borrow=True))
                times[backend].append(
                    (clock() - start) / args.steps * 1e3)
        for backend, values in times.items():
            print(json.dumps({'rule': rule, 'backend': backend,
                              'ms': min(values),
                              'compile_s': steps[backend][2]}), flush=True)


TORCH_WORKER = r'''
import json, sys, time
import numpy, torch
threads, steps, rounds, rules = (int(sys.argv[1]), int(sys.argv[2]),
                                 int(sys.argv[3]), sys.argv[4].split(','))
clock = time.process_time if sys.argv[5] == 'cpu' else time.perf_counter
torch.set_num_threads(threads)
torch.manual_seed(0)
rng = numpy.random.RandomState(1)
features = torch.from_numpy(rng.rand(steps, 100, 784).astype('float32'))
targets = torch.from_numpy(rng.randint(0, 10, (steps, 100)).astype('int64'))
for rule in rules:
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
    step(features[0], targets[0])
    best = float('inf')
    for _ in range(rounds):
        start = clock()
        for x, y in zip(features, targets):
            step(x, y)
        best = min(best, (clock() - start) / steps * 1e3)
    print(json.dumps({'rule': rule, 'backend': 'torch', 'ms': best}))
'''


def run_workers(args, threads: int) -> list:
    environment = thread_environment(threads)
    command = [sys.executable, __file__, '--worker', '--steps',
               str(args.steps), '--rounds', str(args.rounds), '--clock',
               args.clock, '--rules', *args.rules, '--backends',
               *args.backends]
    output = subprocess.run(command, env=environment, capture_output=True,
                            text=True, check=True).stdout
    results = [json.loads(line) for line in output.splitlines()
               if line.startswith('{')]
    if args.torch_python and os.path.exists(args.torch_python):
        torch = subprocess.run(
            [args.torch_python, '-c', TORCH_WORKER, str(threads),
             str(args.steps), str(args.rounds), ','.join(args.rules),
             args.clock],
            env=environment, capture_output=True, text=True, check=False)
        if torch.returncode:
            print(f"PyTorch worker failed: {torch.stderr.strip()[-300:]}")
        results += [json.loads(line) for line in torch.stdout.splitlines()
                    if line.startswith('{')]
    return results


def report(results: list, threads: int, clock: str) -> None:
    torch = {r['rule']: r['ms'] for r in results if r['backend'] == 'torch'}
    print(f"\n{threads} thread(s): ms per step (best of rounds, {clock} "
          f"time); "
          f"ratio = PyTorch / blocks (above 1: blocks faster)")
    print(f"  {'rule':14s} {'backend':8s} {'ms':>8s} {'ratio':>7s} "
          f"{'compile s':>10s}")
    for result in results:
        if 'error' in result:
            print(f"  {result['rule']:14s} {result['backend']:8s} "
                  f"skipped: {result['error']}")
            continue
        ratio = (f"{torch[result['rule']] / result['ms']:.2f}"
                 if result['rule'] in torch and result['backend'] != 'torch'
                 else '')
        compile_s = (f"{result['compile_s']:.1f}" if 'compile_s' in result
                     else '')
        print(f"  {result['rule']:14s} {result['backend']:8s} "
              f"{result['ms']:8.2f} {ratio:>7s} {compile_s:>10s}")


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
    parser.add_argument('--worker', action='store_true',
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        blocks_worker(args)
        return
    if args.profile:
        os.environ.update(thread_environment(1))
        profile(args)
        return
    sys.path.insert(0, str(ROOT))
    from blocks.compilation import describe
    print(f"blocks' default mode: {describe()}")
    for threads in args.threads:
        report(run_workers(args, threads), threads, args.clock)


if __name__ == '__main__':
    main()
