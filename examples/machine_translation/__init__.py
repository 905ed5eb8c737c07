"""Attention-based neural machine translation: the ``machine_translation``
example.

The RNNsearch model of Bahdanau et al. (2015), as in Blocks' original
example: a bidirectional GRU encoder and a GRU decoder with
:class:`~blocks.bricks.attention.SequenceContentAttention`, trained by the
main loop on a parallel corpus, with samples printed during training and
the BLEU score of a validation set decoded with
:class:`~blocks.search.BeamSearch`. By default it trains on a generated
toy corpus (a made-up language that translates word by word and reorders
adjectives and verbs), so nothing has to be downloaded::

    python -m examples.machine_translation --save-path mt/model.tar

With the defaults (2000 training pairs, batches of 40, dimensions 32/64,
Adam) the training cost falls from about 21 nats per sentence to under
0.1 in 4000 batches, and the BLEU of the 50 held-out sentences (beam 5)
reaches 4.6, 17.5, 67.8 and 100 after 1000, 2000, 3000 and 4000 batches
(under 2 minutes of CPU time). ``tests/test_examples_machine_translation.py``
checks a two-batch run.

Modules, one job each:

* :mod:`.corpus`: the toy corpus and the dictionaries;
* :mod:`.stream`: sorted, padded, time-major batches of sentence pairs;
* :mod:`.model`: the encoder and decoder bricks;
* :mod:`.sampling`: the ``Sampler`` and ``BleuValidator`` extensions;
* :mod:`.bleu`: corpus BLEU, as ``multi-bleu.perl`` computes it;
* :mod:`.train`: the main loop and the command line.

Differences from the original: the data are time-major throughout (the
original transposed batch-major data inside the model); the generator
starts from the ``<S>`` id with a plain
:class:`~blocks.bricks.sequence_generators.LookupFeedback` (the original
fed a zero vector for a ``-1`` start symbol); BLEU is computed in Python
rather than by ``multi-bleu.perl``; the step rule is Adam rather than
AdaDelta, which learns the toy corpus faster.
"""
