"""Beam search against exhaustive enumeration on a tiny generator."""
import itertools

import numpy
import pytensor
import pytest
from pytensor import tensor

from blocks.compilation import function
from blocks.filter import VariableFilter
from blocks.graph import ComputationGraph
from blocks.search import BeamSearch
from tests.bricks.test_sequence_generators import make_generator, VOCAB

floatX = pytensor.config.floatX
EOL = 0


@pytest.fixture(scope='module')
def search_setup():
    generator = make_generator(seed=7)
    # A dummy input fixes the batch size (the beam) of the search.
    beam_input = tensor.matrix('beam_input')
    generated = generator.generate(n_steps=3, batch_size=beam_input.shape[1],
                                   iterate=True)
    samples, = VariableFilter(applications=[generator.generate],
                              name='outputs')(ComputationGraph(generated))
    search = BeamSearch(samples)
    outputs = tensor.lmatrix('outputs')
    mask = tensor.matrix('mask')
    cost_function = function(
        [outputs, mask], generator.cost_matrix(outputs, mask=mask))
    return search, beam_input, cost_function


def sequence_cost(cost_function, tokens):
    tokens = numpy.array(tokens, dtype='int64')[:, None]
    return float(cost_function(tokens, numpy.ones(tokens.shape,
                                                  dtype=floatX)).sum())


def run_search(search, beam_input, beam_size, max_length, **kwargs):
    values = {beam_input: numpy.zeros((1, beam_size), dtype=floatX)}
    return search.search(values, EOL, max_length, **kwargs)


def hypotheses(max_length):
    """Every sequence the search can return: ended by EOL or cut."""
    for length in range(1, max_length + 1):
        for prefix in itertools.product(range(1, VOCAB),
                                        repeat=length - 1):
            yield list(prefix) + [EOL]
            if length == max_length:
                for last in range(1, VOCAB):
                    yield list(prefix) + [last]


@pytest.mark.parametrize('beam_size', [1, 2, 3, 4])
def test_search_keeps_the_best_continuations_of_the_best_prefixes(
        search_setup, beam_size):
    """With two steps, beam search is: keep the `beam_size` cheapest first
    tokens, then the `beam_size` cheapest of all their continuations (an
    EOL first token can only be followed by EOL, at no cost). With the
    beam as wide as the vocabulary, this is the exact top of the
    exhaustive list."""
    search, beam_input, cost_function = search_setup
    costs = {tuple(tokens): sequence_cost(cost_function, tokens)
             for tokens in hypotheses(2)}
    first_costs = {first: sequence_cost(cost_function, [first])
                   for first in range(VOCAB)}
    kept_first = sorted(first_costs, key=first_costs.get)[:beam_size]
    candidates = {tokens: cost for tokens, cost in costs.items()
                  if tokens[0] in kept_first}
    expected = sorted(candidates, key=candidates.get)[:beam_size]
    if beam_size == VOCAB:
        assert expected == sorted(costs, key=costs.get)[:beam_size]

    outputs, found_costs = run_search(search, beam_input, beam_size, 2)
    assert [tuple(output) for output in outputs] == expected
    numpy.testing.assert_allclose(found_costs,
                                  [costs[tokens] for tokens in expected],
                                  rtol=1e-4)


def test_array_results_agree_with_cost_matrix(search_setup):
    search, beam_input, cost_function = search_setup
    outputs, masks, costs = run_search(search, beam_input, 3, 4,
                                       as_arrays=True)
    assert outputs.shape == masks.shape == costs.shape
    assert outputs.shape[1] == 3
    expected = cost_function(outputs.astype('int64'), masks)
    numpy.testing.assert_allclose(costs.sum(axis=0), expected.sum(axis=0),
                                  rtol=1e-4)
    totals = costs.sum(axis=0)
    assert (numpy.diff(totals) >= -1e-6).all(), "cheapest first"
    lists, list_costs = search.result_to_lists((outputs, masks, costs))
    for tokens, output, mask in zip(lists, outputs.T, masks.T, strict=True):
        assert tokens == list(output[:int(mask.sum())])
        if len(tokens) < outputs.shape[0]:
            assert tokens[-1] == EOL, "the EOL token is included"
    numpy.testing.assert_allclose(list_costs, totals, rtol=1e-5)


def test_beam_of_one_is_greedy_decoding(search_setup):
    search, beam_input, cost_function = search_setup
    prefix = []
    for _ in range(3):
        step_costs = [sequence_cost(cost_function, prefix + [token])
                      for token in range(VOCAB)]
        prefix.append(int(numpy.argmin(step_costs)))
        if prefix[-1] == EOL:
            break
    outputs, _ = run_search(search, beam_input, 1, 3)
    assert outputs == [prefix]


def test_ignore_first_eol_keeps_searching(search_setup):
    search, beam_input, _ = search_setup
    outputs, masks, _ = run_search(search, beam_input, 2, 3,
                                   ignore_first_eol=True, as_arrays=True)
    assert (masks[:2] == 1).all()


def test_eol_outside_the_vocabulary_is_refused(search_setup):
    search, beam_input, _ = search_setup
    values = {beam_input: numpy.zeros((1, 2), dtype=floatX)}
    with pytest.raises(ValueError, match='eol_symbol=9 is not in the voc'):
        search.search(values, 9, 3)


def test_missing_input_is_named(search_setup):
    search, _, _ = search_setup
    with pytest.raises(KeyError, match='beam_input'):
        search.search({}, EOL, 3)


def test_only_generate_outputs_are_accepted():
    generator = make_generator()
    with pytest.raises(ValueError, match='generate'):
        BeamSearch(tensor.matrix('not_generated'))
    cost = generator.cost_matrix(tensor.lmatrix('outputs'))
    with pytest.raises(ValueError, match='not from generate'):
        BeamSearch(cost)


def test_smallest_example():
    (rows, cols), values = BeamSearch._smallest(
        numpy.array([[3, 6, 4], [1, 2, 7]]), 2)
    assert (rows.tolist(), cols.tolist(), values.tolist()) == (
        [1, 1], [0, 1], [1, 2])


def test_beam_wider_than_the_vocabulary_is_refused(search_setup):
    search, beam_input, _ = search_setup
    with pytest.raises(ValueError, match='wider than the vocabulary'):
        run_search(search, beam_input, VOCAB + 1, 2)
