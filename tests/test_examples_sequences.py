"""Short runs of the sequence examples: reverse_words and markov_chain."""
import numpy
import pytensor
import pytest

from blocks.serialization import load_main_loop
from examples import markov_chain, reverse_words


def test_reverse_words_text_processing():
    codes = reverse_words.encode("ab cde")
    assert reverse_words.decode(codes) == "ab cde"
    targets, = reverse_words.reverse_words((codes,))
    assert reverse_words.decode(targets) == "ba edc"
    assert targets[-1] == reverse_words.EOS
    with pytest.raises(ValueError, match=r"a-z and spaces only.*'!'"):
        reverse_words.encode("hi!")


def test_reverse_words_stream_is_time_major_and_masked():
    stream = reverse_words.get_data_stream(["ab c", "abcd ef gh"], 2)
    batch = dict(zip(stream.sources, next(stream.get_epoch_iterator()),
                     strict=True))
    assert batch['chars'].shape == (12, 2)
    assert batch['chars_mask'][:, 0].sum() == 6
    assert batch['targets'].shape == (11, 2)
    assert (batch['targets'][:, 1] * batch['targets_mask'][:, 1]).tolist()[
        :11] == reverse_words.reverse_words(
            (reverse_words.encode("abcd ef gh"),))[0].tolist()


@pytest.fixture(scope='module')
def trained_reverser(tmp_path_factory):
    save_path = tmp_path_factory.mktemp('reverse_words') / 'reverse.tar'
    with pytensor.config.change_flags(floatX='float32'):
        main_loop = reverse_words.build_main_loop(
            str(save_path), num_batches=40, dimension=12, batch_size=5,
            num_lines=200, learning_rate=0.01, checkpoint_every=20,
            print_every=20)
        main_loop.run()
    return main_loop, save_path


def test_reverse_words_trains_and_checkpoints(trained_reverser):
    main_loop, save_path = trained_reverser
    log = main_loop.log
    assert log[40]['train_cost'] < log[20]['train_cost'] * 1.2
    assert main_loop.status['iterations_done'] == 40
    loaded = load_main_loop(save_path)
    assert loaded.status['iterations_done'] == 40


def test_reverse_words_beam_search_sorts_reversals(trained_reverser):
    main_loop, _ = trained_reverser
    with pytensor.config.change_flags(floatX='float32'):
        reverser = reverse_words.Reverser(main_loop.model)
        results = reverser.reverse("abc de", beam_size=3)
    assert len(results) == 3
    costs = [cost for _, cost in results]
    assert costs == sorted(costs)
    assert all(set(text) <= set(reverse_words.ALPHABET[2:])
               for text, _ in results)


def test_markov_chain_minimal_cost_matches_sampled_sequences():
    sequences = markov_chain.sample_chain(20000, 4,
                                          numpy.random.RandomState(0))
    assert numpy.bincount(sequences[:, 0]) / 20000 == pytest.approx(
        markov_chain.INITIAL, abs=0.02)
    counts = markov_chain.transition_frequencies(sequences.T)
    frequencies = counts / counts.sum(axis=1, keepdims=True)
    assert frequencies == pytest.approx(markov_chain.TRANSITIONS, abs=0.02)
    assert markov_chain.minimal_cost(1) == pytest.approx(
        -(markov_chain.INITIAL * numpy.log(markov_chain.INITIAL)).sum())


def test_markov_chain_samples_follow_the_chain(tmp_path):
    with pytensor.config.change_flags(floatX='float32'):
        main_loop = markov_chain.build_main_loop(
            str(tmp_path / 'chain.tar'), num_batches=300, print_every=100)
        main_loop.run()
        generator, = main_loop.model.get_top_bricks()
        outputs = markov_chain.sample(generator, 400, 21)
    final_cost = float(main_loop.log.current_row['train_cost_per_step'])
    assert final_cost < markov_chain.minimal_cost(10) * 1.1
    counts = markov_chain.transition_frequencies(outputs)
    frequencies = counts / counts.sum(axis=1, keepdims=True)
    # 8000 transitions: sampling noise is about 0.01-0.02 per entry; the
    # rest is what 300 batches leave to learn.
    assert abs(frequencies - markov_chain.TRANSITIONS).max() < 0.12
    # The impossible transition 1 -> 2 is (almost) never generated.
    assert frequencies[1, 2] < 0.03
