"""Build and train the translation model with the main loop."""
import argparse
import os
from collections.abc import Mapping

import pytensor
from pytensor import tensor

from blocks.algorithms import Adam, CompositeRule, GradientDescent, \
    StepClipping
from blocks.extensions import FinishAfter, Printing, Timing
from blocks.extensions.monitoring import TrainingDataMonitoring
from blocks.extensions.saveload import Checkpoint
from blocks.filter import VariableFilter
from blocks.graph import ComputationGraph
from blocks.initialization import Constant, IsotropicGaussian, Orthogonal
from blocks.main_loop import MainLoop
from blocks.model import Model

from examples.machine_translation.corpus import (BOS_TOKEN,
                                                 build_dictionary,
                                                 write_toy_corpus)
from examples.machine_translation.model import BidirectionalEncoder, Decoder
from examples.machine_translation.sampling import BleuValidator, Sampler
from examples.machine_translation.stream import get_dev_stream, \
    get_tr_stream

#: The options of :func:`build_main_loop` and their defaults: the
#: original's configuration names, scaled down to the toy corpus.
DEFAULTS = {
    'enc_embed': 32, 'dec_embed': 32, 'enc_nhids': 64, 'dec_nhids': 64,
    'seq_len': 50, 'batch_size': 40, 'sort_k_batches': 12,
    'learning_rate': 0.002, 'step_clipping': 1.0, 'weight_scale': 0.01,
    'finish_after': 4000, 'save_freq': 1000, 'print_freq': 100,
    'sampling_freq': 500, 'hook_samples': 2, 'bleu_val_freq': 1000,
    'beam_size': 5,
}


def build_models(src_vocab_size: int, trg_vocab_size: int, *,
                 enc_embed: int, dec_embed: int, enc_nhids: int,
                 dec_nhids: int, weight_scale: float, bos_index: int = 0
                 ) -> tuple[BidirectionalEncoder, Decoder]:
    """The encoder and the decoder, initialized."""
    encoder = BidirectionalEncoder(src_vocab_size, enc_embed, enc_nhids,
                                   name='encoder')
    decoder = Decoder(trg_vocab_size, dec_embed, dec_nhids, enc_nhids * 2,
                      bos_index=bos_index, name='decoder')
    for brick in (encoder, decoder):
        brick.weights_init = IsotropicGaussian(weight_scale)
        brick.biases_init = Constant(0)
        brick.push_initialization_config()
    for rnn in encoder.bidir.children:
        rnn.weights_init = Orthogonal()
    decoder.transition.weights_init = Orthogonal()
    encoder.initialize()
    decoder.initialize()
    return encoder, decoder


def build_main_loop(save_path: str, corpus: Mapping[str, str],
                    src_vocab: Mapping[str, int],
                    trg_vocab: Mapping[str, int], **options) -> MainLoop:
    """The training main loop, ready to ``run()``.

    Parameters
    ----------
    save_path
        The checkpoint, written every ``save_freq`` batches and at the end.
    corpus
        The paths ``train_source``, ``train_target``, ``valid_source`` and
        ``valid_target`` (see :func:`.write_toy_corpus`).
    src_vocab, trg_vocab
        The dictionaries (word -> id).
    **options
        Overrides of :data:`DEFAULTS`.

    """
    unknown = sorted(set(options) - set(DEFAULTS))
    if unknown:
        raise TypeError(f"unknown options {unknown}; the options are "
                        f"{sorted(DEFAULTS)}")
    config = dict(DEFAULTS, **options)

    source_sentence = tensor.lmatrix('source')
    source_sentence_mask = tensor.matrix('source_mask')
    target_sentence = tensor.lmatrix('target')
    target_sentence_mask = tensor.matrix('target_mask')
    encoder, decoder = build_models(
        len(src_vocab), len(trg_vocab), bos_index=trg_vocab[BOS_TOKEN],
        **{key: config[key] for key in ('enc_embed', 'dec_embed',
                                        'enc_nhids', 'dec_nhids',
                                        'weight_scale')})
    cost = decoder.cost(
        encoder.apply(source_sentence, source_sentence_mask),
        source_sentence_mask, target_sentence, target_sentence_mask)
    cost.name = 'cost'
    algorithm = GradientDescent(
        cost=cost, parameters=ComputationGraph(cost).parameters,
        step_rule=CompositeRule([StepClipping(config['step_clipping']),
                                 Adam(config['learning_rate'])]))

    # The sampling graph: one source sentence, time-major, no mask.
    sampling_input = tensor.lmatrix('source')
    generated = decoder.generate(
        sampling_input,
        encoder.apply(sampling_input, tensor.ones(sampling_input.shape)))
    samples, = VariableFilter(
        applications=[decoder.sequence_generator.generate],
        name='outputs')(ComputationGraph(generated[1]))

    extensions = [
        Timing(),
        FinishAfter(after_n_batches=config['finish_after']),
        TrainingDataMonitoring([cost], prefix='train',
                               every_n_batches=config['print_freq']),
        Sampler(Model(generated), src_vocab, trg_vocab,
                hook_samples=config['hook_samples'],
                every_n_batches=config['sampling_freq']),
        BleuValidator(sampling_input, samples,
                      get_dev_stream(corpus['valid_source'], src_vocab),
                      corpus['valid_target'], trg_vocab,
                      beam_size=config['beam_size'],
                      every_n_batches=config['bleu_val_freq']),
        Checkpoint(save_path, every_n_batches=config['save_freq'],
                   after_training=True),
        Printing(after_epoch=False, every_n_batches=config['print_freq']),
    ]
    stream = get_tr_stream(
        src_vocab, trg_vocab, corpus['train_source'],
        corpus['train_target'], seq_len=config['seq_len'],
        batch_size=config['batch_size'],
        sort_k_batches=config['sort_k_batches'])
    return MainLoop(algorithm, stream, model=Model(cost),
                    extensions=extensions)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog='python -m examples.machine_translation',
        description="Train an attention-based translation model (RNNsearch)"
                    " on a parallel corpus; by default a generated toy "
                    "corpus.")
    parser.add_argument('--save-path',
                        default='blocks-demo/machine_translation/model.tar',
                        help="the checkpoint (default: %(default)s)")
    corpus = parser.add_argument_group(
        'corpus', "parallel text files, one sentence a line; without them "
                  "a toy corpus is generated in --corpus-dir")
    for key in ('train_source', 'train_target', 'valid_source',
                'valid_target'):
        corpus.add_argument('--' + key.replace('_', '-'))
    corpus.add_argument('--corpus-dir', default=None,
                        help="where the toy corpus is written (default: "
                             "toy_corpus next to the checkpoint)")
    corpus.add_argument('--num-train', type=int, default=2000,
                        help="sentence pairs of the toy training set")
    corpus.add_argument('--num-valid', type=int, default=50,
                        help="sentence pairs of the toy validation set")
    corpus.add_argument('--vocab-size', type=int, default=None,
                        help="keep the most frequent words (default: all)")
    for key, value in DEFAULTS.items():
        parser.add_argument('--' + key.replace('_', '-'), type=type(value),
                            default=value, help="(default: %(default)s)")
    args = parser.parse_args(argv)
    for key in DEFAULTS:
        if key != 'learning_rate' and getattr(args, key) <= 0:
            parser.error(f"--{key.replace('_', '-')} must be positive, got "
                         f"{getattr(args, key)}")
    given = [getattr(args, key) is not None for key in
             ('train_source', 'train_target', 'valid_source',
              'valid_target')]
    if any(given) and not all(given):
        parser.error("give all four of --train-source, --train-target, "
                     "--valid-source and --valid-target, or none (for the "
                     "toy corpus)")
    return args


def main(argv: list[str] | None = None) -> int:
    """Train from the command line; returns the exit status."""
    args = parse_args(argv)
    if args.train_source is None:
        directory = args.corpus_dir or os.path.join(
            os.path.dirname(args.save_path), 'toy_corpus')
        corpus = write_toy_corpus(directory, num_train=args.num_train,
                                  num_valid=args.num_valid)
    else:
        corpus = {key: getattr(args, key) for key in
                  ('train_source', 'train_target', 'valid_source',
                   'valid_target')}
    src_vocab = build_dictionary([corpus['train_source']], args.vocab_size)
    trg_vocab = build_dictionary([corpus['train_target']], args.vocab_size)
    directory = os.path.dirname(args.save_path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    with pytensor.config.change_flags(floatX='float32'):
        main_loop = build_main_loop(
            args.save_path, corpus, src_vocab, trg_vocab,
            **{key: getattr(args, key) for key in DEFAULTS})
        main_loop.run()
    print(f"Checkpoint: {args.save_path}")
    return 0
