"""Tests of blocks.data.schemes."""
import pickle

import numpy
import pytest

from blocks.data.schemes import (BatchScheme, BatchSizeScheme,
                                 ConcatenatedScheme, ConstantScheme,
                                 IndexScheme, SequentialExampleScheme,
                                 SequentialScheme, ShuffledExampleScheme,
                                 ShuffledScheme, cross_validation)


def requests(scheme):
    return list(scheme.get_request_iterator())


def test_scheme_kinds():
    assert not BatchSizeScheme.requests_examples
    assert not BatchScheme.requests_examples
    assert IndexScheme.requests_examples
    assert SequentialExampleScheme(3).requests_examples
    assert not SequentialScheme(3, 1).requests_examples


def test_sequential_scheme_gives_consecutive_lists():
    assert requests(SequentialScheme(7, 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert requests(SequentialScheme([5, 3, 9], 2)) == [[5, 3], [9]]
    assert all(type(r[0]) is int for r in requests(SequentialScheme(3, 2)))


def test_batch_scheme_exposes_indices_batch_size_num_batches():
    scheme = SequentialScheme(10, 4)
    assert list(scheme.indices) == list(range(10))
    assert scheme.batch_size == 4
    assert scheme.num_batches == 3


@pytest.mark.parametrize('batch_size', [0, -2, 1.5, None, True])
@pytest.mark.parametrize('scheme_class', [SequentialScheme, ShuffledScheme])
def test_batch_size_must_be_positive_integer(scheme_class, batch_size):
    with pytest.raises(ValueError, match='batch_size must be a positive'):
        scheme_class(10, batch_size)


def test_constant_scheme_rejects_bad_batch_size():
    with pytest.raises(ValueError, match='batch_size must be a positive'):
        ConstantScheme(0)


def test_number_of_examples_must_be_non_negative():
    with pytest.raises(ValueError, match='non-negative number of examples'):
        SequentialScheme(-1, 2)


def test_shuffled_scheme_covers_every_index_once_per_epoch():
    scheme = ShuffledScheme(10, 3, rng=numpy.random.RandomState(3))
    first, second = requests(scheme), requests(scheme)
    assert [len(r) for r in first] == [3, 3, 3, 1]
    assert sorted(sum(first, [])) == list(range(10))
    assert sum(first, []) != sum(second, [])


def test_shuffled_scheme_draws_the_upstream_permutation():
    scheme = ShuffledScheme(10, 10, rng=numpy.random.RandomState(1))
    expected = list(range(10))
    numpy.random.RandomState(1).shuffle(expected)
    assert requests(scheme) == [expected]


def test_shuffled_scheme_default_rng_uses_default_seed():
    assert requests(ShuffledScheme(8, 8)) == requests(ShuffledScheme(8, 8))


def test_shuffled_scheme_sorts_within_batches():
    scheme = ShuffledScheme(10, 4, sorted_indices=True)
    assert all(r == sorted(r) for r in requests(scheme))


def test_example_schemes():
    assert requests(SequentialExampleScheme(3)) == [0, 1, 2]
    assert requests(SequentialExampleScheme([4, 2])) == [4, 2]
    shuffled = requests(ShuffledExampleScheme(5,
                                              rng=numpy.random.RandomState(0)))
    assert sorted(shuffled) == list(range(5))


def test_constant_scheme_variants():
    assert requests(ConstantScheme(3, num_examples=7)) == [3, 3, 1]
    assert requests(ConstantScheme(3, num_examples=6)) == [3, 3]
    assert requests(ConstantScheme(2, times=3)) == [2, 2, 2]
    endless = ConstantScheme(4).get_request_iterator()
    assert [next(endless) for _ in range(5)] == [4] * 5
    assert ConstantScheme(3, num_examples=7).num_batches == 3
    assert ConstantScheme(3).num_batches is None


def test_constant_scheme_rejects_both_limits():
    with pytest.raises(ValueError, match='not both'):
        ConstantScheme(3, num_examples=6, times=2)


def test_concatenated_scheme_chains_requests():
    scheme = ConcatenatedScheme([SequentialScheme(3, 2),
                                 SequentialScheme([7, 8], 5)])
    assert requests(scheme) == [[0, 1], [2], [7, 8]]
    assert not scheme.requests_examples


def test_concatenated_scheme_rejects_mixed_kinds():
    with pytest.raises(ValueError, match='same type of requests'):
        ConcatenatedScheme([SequentialScheme(3, 2),
                            SequentialExampleScheme(3)])


def test_cross_validation_folds():
    folds = list(cross_validation(SequentialExampleScheme, 6, 3))
    assert [requests(valid) for _, valid in folds] == [
        [0, 1], [2, 3], [4, 5]]
    assert requests(folds[1][0]) == [0, 1, 4, 5]


def test_cross_validation_strictness():
    with pytest.raises(ValueError, match='not divisible in 3'):
        list(cross_validation(SequentialExampleScheme, 7, 3))
    folds = list(cross_validation(SequentialScheme, 7, 3, strict=False,
                                  batch_size=10))
    assert [size for _, _, size in folds] == [2, 2, 3]


@pytest.mark.parametrize('scheme', [
    SequentialScheme(10, 3), ShuffledScheme(10, 3),
    ShuffledScheme(10, 3, sorted_indices=True), SequentialExampleScheme(5),
    ShuffledExampleScheme(5), ConstantScheme(2, num_examples=5),
    ConstantScheme(2, times=3),
    ConcatenatedScheme([SequentialScheme(3, 2), SequentialScheme(4, 2)])],
    ids=lambda scheme: type(scheme).__name__)
def test_request_iterators_pickle_mid_epoch(scheme):
    iterator = scheme.get_request_iterator()
    next(iterator)
    clone = pickle.loads(pickle.dumps(iterator))
    assert list(clone) == list(iterator)
