"""The machine_translation example: corpus, BLEU, stream, and a short run.

The run trains two batches with tiny dimensions, with the Sampler, the
BLEU validator (beam size 2) and a checkpoint all triggered once. It is
compiled with Python thunks (``FAST_COMPILE``): on a fresh machine the C
linker would first compile dozens of modules for the scans.
"""
import contextlib
import io
import math
import re

import numpy
import pytensor
import pytest

from blocks.serialization import load_parameters
from examples.machine_translation import corpus as toy
from examples.machine_translation.bleu import corpus_bleu
from examples.machine_translation.sampling import BleuValidator, Sampler
from examples.machine_translation.stream import get_tr_stream
from examples.machine_translation import train
from examples.machine_translation.train import build_main_loop, parse_args

NUM_BATCHES = 2


def test_toy_translation_moves_adjectives_after_nouns_and_verbs_last():
    assert (toy.translate('the big cat sees a dog and a bird sleeps')
            == 'lo gato grando una hundo vidas kaj una birdo dormas')
    with pytest.raises(ValueError, match=r"\['zebra'\]"):
        toy.translate('the zebra runs')


def test_toy_corpus_is_deterministic_and_parallel(tmp_path):
    first = toy.write_toy_corpus(tmp_path / 'a', num_train=30, num_valid=5)
    second = toy.write_toy_corpus(tmp_path / 'b', num_train=30, num_valid=5)
    for key in first:
        assert (open(first[key]).read() == open(second[key]).read())
    sources = toy.read_sentences(first['train_source'])
    targets = toy.read_sentences(first['train_target'])
    assert len(sources) == 30
    assert [toy.translate(' '.join(s)).split() for s in sources] == targets


def test_dictionary_puts_special_tokens_first_then_by_frequency(tmp_path):
    path = tmp_path / 'text'
    path.write_text('b a b\nc b a\n')
    assert toy.build_dictionary([path]) == {
        '<S>': 0, '</S>': 1, '<UNK>': 2, 'b': 3, 'a': 4, 'c': 5}
    assert list(toy.build_dictionary([path], vocab_size=4)) == [
        '<S>', '</S>', '<UNK>', 'b']
    with pytest.raises(ValueError, match='got 3'):
        toy.build_dictionary([path], vocab_size=3)


def test_bleu_against_a_hand_computed_value():
    # p1 = 6/7 (sentence 2 has one clipped 'a' too many), p2 = 4/5,
    # p3 = 2/3, p4 = 1/1; c = 7 words against r = 9: BP = exp(1 - 9/7).
    hypotheses = [['a', 'b', 'c', 'd'], ['a', 'a', 'b']]
    references = [['a', 'b', 'c', 'd', 'e', 'f'], ['a', 'b', 'b']]
    expected = 100 * math.exp(-2 / 7) * (6 / 7 * 4 / 5 * 2 / 3 * 1) ** 0.25
    assert corpus_bleu(hypotheses, references) == pytest.approx(expected)


def test_bleu_edge_cases():
    sentence = 'the cat sat on the mat'.split()
    assert corpus_bleu([sentence], [sentence]) == pytest.approx(100)
    # No 4-gram in common: zero, as multi-bleu.perl says.
    assert corpus_bleu([sentence], ['the cat is on the mat'.split()]) == 0
    # Longer than the reference: no brevity penalty, precision alone.
    longer = sentence + ['today']
    assert corpus_bleu([longer], [sentence]) == pytest.approx(
        100 * (6 / 7 * 5 / 6 * 4 / 5 * 3 / 4) ** 0.25)
    with pytest.raises(ValueError, match='2 hypotheses and 1 references'):
        corpus_bleu([sentence, sentence], [sentence])


@pytest.fixture(scope='module')
def corpus(tmp_path_factory):
    directory = tmp_path_factory.mktemp('corpus')
    paths = toy.write_toy_corpus(directory, num_train=60, num_valid=3)
    src_vocab = toy.build_dictionary([paths['train_source']])
    trg_vocab = toy.build_dictionary([paths['train_target']])
    return paths, src_vocab, trg_vocab


def test_stream_sorts_by_target_length_within_windows_and_pads(corpus):
    paths, src_vocab, trg_vocab = corpus
    stream = get_tr_stream(src_vocab, trg_vocab, paths['train_source'],
                           paths['train_target'], seq_len=12,
                           batch_size=4, sort_k_batches=3)
    batches = list(stream.get_epoch_iterator(as_dict=True))
    src_ivocab = {i: w for w, i in src_vocab.items()}
    trg_ivocab = {i: w for w, i in trg_vocab.items()}
    pairs = []
    for batch in batches:
        for name in ('source', 'target'):
            data, mask = batch[name], batch[name + '_mask']
            assert data.shape == mask.shape  # (time, batch)
            lengths = mask.sum(axis=0).astype(int)
            assert lengths.max() == data.shape[0]
            for column, length in enumerate(lengths):
                assert (mask[:length, column] == 1).all()
                assert (mask[length:, column] == 0).all()
                # Each sentence ends with </S>.
                assert data[length - 1, column] == 1
        target_lengths = batch['target_mask'].sum(axis=0)
        assert (numpy.diff(target_lengths) >= 0).all()
        for column in range(batch['source'].shape[1]):
            pairs.append((
                ' '.join(toy.words(batch['source'][:, column], src_ivocab)),
                ' '.join(toy.words(batch['target'][:, column], trg_ivocab))))
    # Batches of a window of 3 follow each other by length.
    for window in range(0, len(batches), 3):
        group = batches[window:window + 3]
        for first, second in zip(group, group[1:]):
            assert (first['target_mask'].sum(axis=0).max()
                    <= second['target_mask'].sum(axis=0).min())
    expected = [(' '.join(s), ' '.join(t)) for s, t in zip(
        toy.read_sentences(paths['train_source']),
        toy.read_sentences(paths['train_target']))
        if len(s) < 12 and len(t) < 12]
    assert sorted(pairs) == sorted(expected)
    assert len(pairs) < 60  # some pairs are longer than seq_len


@pytest.fixture(scope='module')
def trained(corpus, tmp_path_factory):
    """Two batches of training, each extension triggered once."""
    paths, src_vocab, trg_vocab = corpus
    save_path = tmp_path_factory.mktemp('run') / 'model.tar'
    output = io.StringIO()
    with pytensor.config.change_flags(mode='FAST_COMPILE',
                                      floatX='float32'), \
            contextlib.redirect_stdout(output):
        main_loop = build_main_loop(
            save_path, paths, src_vocab, trg_vocab,
            enc_embed=4, dec_embed=4, enc_nhids=4, dec_nhids=4,
            batch_size=5, sort_k_batches=2, finish_after=NUM_BATCHES,
            save_freq=1000, print_freq=1, sampling_freq=NUM_BATCHES,
            hook_samples=2, bleu_val_freq=NUM_BATCHES, beam_size=2)
        main_loop.run()
    return main_loop, output.getvalue(), save_path


def test_training_checkpoints_the_trained_parameters(trained):
    main_loop, _, save_path = trained
    assert main_loop.status['iterations_done'] == NUM_BATCHES
    assert numpy.isfinite(main_loop.log[1]['train_cost'])
    with open(save_path, 'rb') as file:
        saved = load_parameters(file)
    parameters = main_loop.model.get_parameter_dict()
    assert set(saved) == set(parameters)
    for name, value in saved.items():
        numpy.testing.assert_array_equal(value,
                                         parameters[name].get_value())


def test_sampler_prints_samples_of_the_batch(trained, corpus):
    _, output, _ = trained
    paths, _, trg_vocab = corpus
    sources = {' '.join(s) for s in toy.read_sentences(
        paths['train_source'])}
    inputs = re.findall(r'^Input :  (.*)$', output, re.MULTILINE)
    targets = re.findall(r'^Target:  (.*)$', output, re.MULTILINE)
    samples = re.findall(r'^Sample:  ?(.*)$', output, re.MULTILINE)
    costs = re.findall(r'^Sample cost: (\S+)$', output, re.MULTILINE)
    assert len(inputs) == len(targets) == len(samples) == len(costs) == 2
    for source, target in zip(inputs, targets):
        assert source in sources
        assert target == toy.translate(source)
    for sample, cost in zip(samples, costs):
        assert set(sample.split()) <= set(trg_vocab)
        assert float(cost) > 0


def test_bleu_validator_logs_the_bleu_of_its_beam_search(trained, corpus):
    main_loop, output, _ = trained
    paths, _, _ = corpus
    validator, = [extension for extension in main_loop.extensions
                  if isinstance(extension, BleuValidator)]
    bleu = main_loop.log[NUM_BATCHES]['valid_bleu']
    assert f'Validation BLEU (valid_bleu): {bleu:.2f}' in output
    translations = [validator.translate(source) for source, in
                    validator.data_stream.get_epoch_iterator()]
    assert len(translations) == 3
    assert bleu == corpus_bleu(translations,
                               toy.read_sentences(paths['valid_target']))


def test_extensions_check_their_arguments(trained, corpus):
    main_loop, _, _ = trained
    _, src_vocab, trg_vocab = corpus
    sampler, = [extension for extension in main_loop.extensions
                if isinstance(extension, Sampler)]
    with pytest.raises(ValueError, match='hook_samples must be at least 1'):
        Sampler(sampler.model, src_vocab, trg_vocab, hook_samples=0)
    with pytest.raises(ValueError, match='no output of .*generate'):
        Sampler(main_loop.model, src_vocab, trg_vocab)
    with pytest.raises(ValueError, match='without one'):
        sampler.do('after_training')
    with pytest.raises(ValueError, match=f'size {len(trg_vocab)}, got 99'):
        BleuValidator(None, None, None, 'refs', trg_vocab, beam_size=99)


def test_command_line_wants_all_corpus_files_or_none(capsys):
    with pytest.raises(SystemExit):
        parse_args(['--train-source', 'a.txt'])
    assert 'give all four' in capsys.readouterr().err
    with pytest.raises(SystemExit):
        parse_args(['--beam-size', '0'])
    assert '--beam-size must be positive, got 0' in capsys.readouterr().err
    assert parse_args(['--dec-nhids', '8']).dec_nhids == 8


def test_main_writes_the_toy_corpus_next_to_the_checkpoint(tmp_path,
                                                          monkeypatch):
    built = {}

    class Ran:
        def run(self):
            built['ran'] = True

    def build(save_path, corpus, src_vocab, trg_vocab, **options):
        built.update(save_path=save_path, corpus=corpus, src_vocab=src_vocab,
                     trg_vocab=trg_vocab, options=options)
        return Ran()

    monkeypatch.setattr(train, 'build_main_loop', build)
    save_path = tmp_path / 'out' / 'model.tar'
    assert train.main(['--save-path', str(save_path), '--num-train', '20',
                       '--num-valid', '2', '--beam-size', '3']) == 0
    assert built['ran']
    assert built['corpus']['train_source'] == str(
        tmp_path / 'out' / 'toy_corpus' / 'train.src')
    assert len(toy.read_sentences(built['corpus']['valid_target'])) == 2
    assert built['trg_vocab'] == toy.build_dictionary(
        [built['corpus']['train_target']])
    assert built['options']['beam_size'] == 3
    assert built['options']['enc_nhids'] == train.DEFAULTS['enc_nhids']
