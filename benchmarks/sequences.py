"""Speed of the reverse-words encoder-decoder: training steps and beam search.

Measures, for the model of ``examples/reverse_words.py`` (dimension 100,
batches of 10 lines of about 30 characters):

- the time to build and compile the training step, cold (an empty PyTensor
  compile cache) and warm (the cache filled by the cold run), each in a
  fresh process;
- training steps per second once compiled;
- beam-search tokens per second (beam 10), after the search's functions are
  compiled;
- where a training step's time goes (PyTensor's profiler, top operations).

Run ``python benchmarks/sequences.py`` from the repository root; add
``--threads N`` to set the BLAS threads (default 1). There is no peer figure
to beat: these numbers are the baseline later work is judged against.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def measure(steps: int, lines: int, profile: bool) -> dict:
    """Build, compile and time the model in this process."""
    import numpy
    import pytensor

    from examples import reverse_words

    results = {}
    with pytensor.config.change_flags(floatX='float32'):
        start = time.perf_counter()
        main_loop = reverse_words.build_main_loop(
            os.path.join(tempfile.mkdtemp(), 'bench.tar'), num_batches=1,
            dimension=100, batch_size=10, num_lines=2000)
        algorithm = main_loop.algorithm
        algorithm.initialize()
        results['compile_s'] = time.perf_counter() - start

        batches = main_loop.data_stream.get_epoch_iterator(as_dict=True)
        batch_list = [next(batches) for _ in range(steps + 3)]
        lengths = [batch['chars'].shape[0] for batch in batch_list]
        results['mean_line_length'] = float(numpy.mean(lengths)) - 2
        for batch in batch_list[:3]:
            algorithm.process_batch(batch)
        start = time.perf_counter()
        for batch in batch_list[3:]:
            algorithm.process_batch(batch)
        results['steps_per_s'] = steps / (time.perf_counter() - start)

        start = time.perf_counter()
        reverser = reverse_words.Reverser(main_loop.model)
        reverser.beam_search.compile()
        results['beam_compile_s'] = time.perf_counter() - start
        test_lines = reverse_words.generate_lines(
            lines, numpy.random.RandomState(3))
        tokens = 0
        start = time.perf_counter()
        for line in test_lines:
            codes = numpy.array(reverse_words.encode(line), dtype='int64')
            inputs = numpy.tile(codes[:, None], (1, 10))
            outputs, masks, _ = reverser.beam_search.search(
                {reverser.chars: inputs}, reverse_words.EOS,
                3 * len(codes), as_arrays=True)
            # Every step advances the whole beam.
            tokens += outputs.size
        results['beam_tokens_per_s'] = tokens / (time.perf_counter() -
                                                 start)

        if profile:
            from pytensor.compile.debug.profiling import ProfileStats

            from blocks.compilation import function
            stats = ProfileStats(atexit_print=False)
            # The same step (inputs, updates, blocks' mode), profiled.
            profiled = function(algorithm.inputs, [],
                                updates=algorithm.updates, profile=stats)
            names = [variable.name for variable in algorithm.inputs]
            for batch in batch_list[:10]:
                profiled(*[batch[name] for name in names])
            results['profile'] = _top_ops(stats)
    return results


def _top_ops(stats, top: int = 8) -> list:
    """The operations that take the most time, with their share."""
    times = {}
    for (_, node), seconds in stats.apply_time.items():
        name = type(node.op).__name__
        if name == 'Scan':
            name = f"Scan({node.op.name})"
        times[name] = times.get(name, 0.0) + seconds
    total = sum(times.values()) or 1.0
    ranked = sorted(times.items(), key=lambda item: -item[1])[:top]
    return [(name, round(seconds / total, 3)) for name, seconds in ranked]


def run_phase(compiledir: str, threads: int, steps: int, lines: int,
              profile: bool) -> dict:
    """One measurement in a fresh process with the given compile cache."""
    env = dict(os.environ)
    env['PYTENSOR_FLAGS'] = f'compiledir={compiledir}'
    for variable in ('OMP_NUM_THREADS', 'OPENBLAS_NUM_THREADS',
                     'MKL_NUM_THREADS'):
        env[variable] = str(threads)
    env['PYTHONPATH'] = ROOT + os.pathsep + env.get('PYTHONPATH', '')
    output = subprocess.run(
        [sys.executable, __file__, '--phase', '--steps', str(steps),
         '--lines', str(lines)] + (['--profile'] if profile else []),
        env=env, check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(output.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--threads', type=int, default=1)
    parser.add_argument('--steps', type=int, default=30)
    parser.add_argument('--lines', type=int, default=10)
    parser.add_argument('--phase', action='store_true',
                        help=argparse.SUPPRESS)
    parser.add_argument('--profile', action='store_true',
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(measure(args.steps, args.lines, args.profile)))
        return
    compiledir = tempfile.mkdtemp(prefix='blocks-bench-compiledir-')
    cold = run_phase(compiledir, args.threads, args.steps, args.lines,
                     profile=False)
    warm = run_phase(compiledir, args.threads, args.steps, args.lines,
                     profile=True)
    print(f"reverse_words model, dimension 100, batch 10, lines of "
          f"{warm['mean_line_length']:.1f} characters on average, "
          f"{args.threads} BLAS thread(s)")
    print(f"build + compile the training step: {cold['compile_s']:.1f} s "
          f"cold, {warm['compile_s']:.1f} s warm")
    print(f"training: {warm['steps_per_s']:.2f} steps/s "
          f"({1000 / warm['steps_per_s']:.0f} ms per step)")
    print(f"beam search (beam 10): compile {cold['beam_compile_s']:.1f} s "
          f"cold, {warm['beam_compile_s']:.1f} s warm; "
          f"{warm['beam_tokens_per_s']:.0f} tokens/s")
    print("where a training step's time goes (share of op time):")
    for name, share in warm['profile']:
        print(f"  {share:6.1%}  {name}")


if __name__ == '__main__':
    main()
