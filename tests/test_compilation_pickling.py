"""A checkpointed main loop resumes in a fresh process with blocks' setup.

The training function is compiled again when a checkpoint is unpickled;
that process must link the same BLAS as the one that trained (PyTensor
otherwise warns that it "could not link to a BLAS installation" and the
resumed run computes different numbers).
"""
import os
import subprocess
import sys

import numpy
from pytensor import tensor

from blocks.algorithms import Adam, GradientDescent
from blocks.compilation import describe
from blocks.data.datasets import IterableDataset
from blocks.data.streams import DataStream
from blocks.extensions import FinishAfter
from blocks.main_loop import MainLoop
from blocks.serialization import dump
from blocks.utils import shared_floatx

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

RESUME = """
import sys, numpy
from blocks.serialization import load
from blocks.compilation import describe
with open(sys.argv[1], 'rb') as file_:
    main_loop = load(file_)
batches = numpy.load(sys.argv[2])
for x, y in zip(batches['x'], batches['y']):
    main_loop.algorithm.process_batch({'x': x, 'y': y})
W = main_loop.algorithm.parameters[0]
numpy.save(sys.argv[3], W.get_value())
print(describe(main_loop.algorithm._function.maker.mode)['blas'])
"""


def batches(rng, n):
    x = rng.normal(size=(n, 20, 30))
    return x, x @ rng.normal(size=(30, 5))


def test_checkpoint_resumes_bit_identically_in_a_fresh_process(tmp_path):
    rng = numpy.random.RandomState(0)
    x, y = tensor.matrix('x'), tensor.matrix('y')
    W = shared_floatx(numpy.zeros((30, 5)), name='W')
    cost = ((x.dot(W) - y) ** 2).mean()
    algorithm = GradientDescent(cost=cost, parameters=[W],
                                step_rule=Adam(learning_rate=0.01))
    first_x, first_y = batches(rng, 3)
    main_loop = MainLoop(
        algorithm,
        DataStream(IterableDataset({'x': list(first_x), 'y': list(first_y)})),
        extensions=[FinishAfter(after_n_batches=3)])
    main_loop.run()
    checkpoint = tmp_path / 'checkpoint.tar'
    with open(checkpoint, 'wb') as file_:
        dump(main_loop, file_)

    rest_x, rest_y = batches(rng, 4)
    numpy.savez(tmp_path / 'rest.npz', x=rest_x, y=rest_y)
    for batch_x, batch_y in zip(rest_x, rest_y, strict=True):
        algorithm.process_batch({'x': batch_x, 'y': batch_y})

    resumed = subprocess.run(
        [sys.executable, '-W', 'always', '-c', RESUME, str(checkpoint),
         str(tmp_path / 'rest.npz'), str(tmp_path / 'W.npy')],
        check=False, capture_output=True, text=True, timeout=600,
        env=dict(os.environ, PYTHONPATH=ROOT))
    assert resumed.returncode == 0, resumed.stderr
    assert 'could not link to a BLAS' not in resumed.stderr
    # The same BLAS as the process that trained.
    assert resumed.stdout.split('\n')[-2] == describe(
        algorithm._function.maker.mode)['blas']
    assert numpy.load(tmp_path / 'W.npy').tobytes() == W.get_value().tobytes()
