"""Example training scripts, run from the repository root.

``python -m examples.sqrt`` teaches an MLP to compute square roots from
generated numbers; ``python -m examples.mnist`` trains an MLP on MNIST, read
from the ``mnist.hdf5`` file that ``blocks-convert mnist`` builds.
"""
