"""Example training scripts, run from the repository root.

- ``python -m examples.sqrt``: an MLP learns square roots of generated
  numbers.
- ``python -m examples.mnist``: an MLP on MNIST, read from the
  ``mnist.hdf5`` file that ``blocks-convert mnist`` builds.
- ``python -m examples.lenet`` and ``python -m examples.batch_normalization``:
  a convolutional network and a batch-normalized MLP on the bundled digits.
- ``python -m examples.parity``: an LSTM learns the parity of bit sequences.
- ``python -m examples.reverse_words``: an attention encoder-decoder learns
  to reverse the words of a line; beam search decodes.
- ``python -m examples.markov_chain``: a sequence generator learns a Markov
  chain.
- ``python -m examples.machine_translation``: an RNNsearch model on a toy
  parallel corpus, with sampling and BLEU validation by beam search.
- ``python -m examples.distributed``: data-parallel training under
  ``mpirun``.

Outputs go under ``blocks-demo/<example>/``.
"""
