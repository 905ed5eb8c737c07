"""Text datasets: TextFile, OneBillionWord, and sequence pipelines."""
import gzip
import os
import pickle

import numpy
import pytest

from blocks.data.datasets import OneBillionWord, TextFile
from blocks.data.schemes import ConstantScheme
from blocks.data.streams import DataStream
from blocks.data.transformers import (Batch, Filter, Mapping, Merge, Padding,
                                      SortMapping, Unpack)

WORDS = {'<UNK>': 0, '</S>': 1, 'this': 2, 'a': 3, 'one': 4}
# The reference's character dictionary: letters, space, <S>, </S>, <UNK>.
CHARACTERS = dict([(chr(ord('a') + i), i) for i in range(26)]
                  + [(' ', 26), ('<S>', 27), ('</S>', 28), ('<UNK>', 29)])


@pytest.fixture
def files(tmp_path):
    # As in the reference's test: the last lines have no newline.
    first, second = tmp_path / 'first.txt', tmp_path / 'second.txt'
    first.write_text("This is a sentence\nThis another one")
    second.write_text("More sentences\nThe last one")
    return [str(first), str(second)]


def sentences(dataset):
    return [ids for ids, in DataStream(dataset).get_epoch_iterator()]


def test_word_level_matches_the_reference(files):
    dataset = TextFile(files, WORDS, bos_token=None, preprocess=str.lower)
    # Hand-computed from the reference's rules: unknown words -> 0,
    # </S> -> 1 appended, no <S>.
    assert sentences(dataset) == [[2, 0, 3, 0, 1], [2, 0, 4, 1], [0, 0, 1],
                                  [0, 0, 4, 1]]
    assert dataset.sources == ('features',)


def test_character_level_matches_the_reference(files):
    dataset = TextFile(files, CHARACTERS, preprocess=str.lower,
                       level='character')
    first = sentences(dataset)[0]
    # The reference's test: <S> t h ... n c e </S>.
    assert first[:3] == [27, 19, 7] and first[-3:] == [2, 4, 28]
    expected = ([27] + [CHARACTERS[c] for c in "this is a sentence"]
                + [28])
    assert first == expected


def test_unknown_characters_map_to_unk_and_bos_eos_can_be_dropped(tmp_path):
    path = tmp_path / 'digits.txt'
    path.write_text("a1 b\n")
    dataset = TextFile([str(path)], CHARACTERS, bos_token=None,
                       eos_token=None, level='character')
    assert sentences(dataset) == [[0, 29, 26, 1]]


def test_without_unk_token_an_unknown_word_is_a_key_error(files):
    dataset = TextFile(files, WORDS, bos_token=None, unk_token=None,
                       preprocess=str.lower)
    with pytest.raises(KeyError, match="'is' is not in the dictionary"):
        sentences(dataset)


def test_epochs_restart_and_pickling_resumes_mid_file(files):
    stream = DataStream(TextFile(files, WORDS, bos_token=None,
                                 preprocess=str.lower))
    assert len(list(stream.get_epoch_iterator())) == 4
    epoch = stream.get_epoch_iterator()
    for _ in range(3):  # into the second file
        next(epoch)
    saved = pickle.dumps(epoch)
    rest = list(epoch)
    assert rest == [([0, 0, 4, 1],)]
    assert list(pickle.loads(saved)) == rest
    epoch = stream.get_epoch_iterator()
    next(epoch)  # mid first file
    saved = pickle.dumps(epoch)
    assert list(pickle.loads(saved)) == list(epoch)


def test_gzip_files_and_pickled_dictionaries(tmp_path, files):
    packed = tmp_path / 'second.txt.gz'
    with open(files[1], 'rb') as source, gzip.open(packed, 'wb') as target:
        target.write(source.read())
    dictionary = tmp_path / 'dictionary.pkl'
    dictionary.write_bytes(pickle.dumps(WORDS))
    plain = TextFile(files, WORDS, bos_token=None, preprocess=str.lower)
    mixed = TextFile([files[0], str(packed)], str(dictionary),
                     bos_token=None, preprocess=str.lower)
    assert sentences(mixed) == sentences(plain)
    epoch = DataStream(mixed).get_epoch_iterator()
    for _ in range(3):
        next(epoch)
    assert list(pickle.loads(pickle.dumps(epoch))) == [([0, 0, 4, 1],)]


def test_encoding_is_used(tmp_path):
    path = tmp_path / 'latin.txt'
    path.write_bytes('café\n'.encode('latin-1'))
    dataset = TextFile([str(path)], {'café': 5, '<UNK>': 0},
                       bos_token=None, eos_token=None, encoding='latin-1')
    assert sentences(dataset) == [[5]]


def test_missing_file_is_named(tmp_path, files):
    absent = str(tmp_path / 'absent.txt')
    with pytest.raises(FileNotFoundError, match=f"no such file: {absent}"):
        TextFile([files[0], absent], WORDS)


@pytest.mark.parametrize('role', ['bos_token', 'eos_token', 'unk_token'])
def test_dictionary_without_a_token_is_named(files, role):
    dictionary = {'this': 0, '<S>': 1, '</S>': 2, '<UNK>': 3}
    token = {'bos_token': '<S>', 'eos_token': '</S>',
             'unk_token': '<UNK>'}[role]
    del dictionary[token]
    with pytest.raises(ValueError, match=f"the {role} '{token}' is not in "
                                         "the dictionary.*or pass "
                                         f"{role}=None"):
        TextFile(files, dictionary)


def test_level_and_requests_are_checked(files):
    with pytest.raises(ValueError, match="'word' or 'character', got 'byte'"):
        TextFile(files, WORDS, bos_token=None, level='byte')
    dataset = TextFile(files, WORDS, bos_token=None)
    with pytest.raises(ValueError, match='takes no requests'):
        dataset.get_data(dataset.open(), 1)
    with pytest.raises(ValueError, match='takes no requests, but the '
                                         'stream has a ConstantScheme'):
        DataStream(dataset, iteration_scheme=ConstantScheme(2))


def make_billion_word(root, which_set, partitions):
    directory, pattern = {
        'training': ('training-monolingual.tokenized.shuffled',
                     'news.en-{:05d}-of-00100'),
        'heldout': ('heldout-monolingual.tokenized.shuffled',
                    'news.en.heldout-{:05d}-of-00050')}[which_set]
    folder = root / '1-billion-word' / directory
    folder.mkdir(parents=True, exist_ok=True)
    for partition in partitions:
        (folder / pattern.format(partition)).write_text(
            f"this is partition {partition}\n")


def test_one_billion_word_reads_the_partitions_in_order(
        tmp_path, monkeypatch):
    make_billion_word(tmp_path, 'training', [1, 2])
    make_billion_word(tmp_path, 'heldout', [0])
    monkeypatch.setenv('BLOCKS_DATA_PATH', str(tmp_path))
    dictionary = {'<S>': 0, '</S>': 1, '<UNK>': 2, 'this': 3, 'is': 4}
    training = OneBillionWord('training', [2, 1], dictionary)
    assert sentences(training) == [[0, 3, 4, 2, 2, 1]] * 2
    assert training.files[0].endswith(os.path.join(
        '1-billion-word', 'training-monolingual.tokenized.shuffled',
        'news.en-00002-of-00100'))
    heldout = OneBillionWord('heldout', [0], dictionary, bos_token=None)
    assert sentences(heldout) == [[3, 4, 2, 2, 1]]


def test_one_billion_word_says_where_to_put_the_files(
        tmp_path, monkeypatch):
    monkeypatch.setenv('BLOCKS_DATA_PATH', str(tmp_path))
    with pytest.raises(FileNotFoundError) as info:
        OneBillionWord('heldout', [3], WORDS)
    message = str(info.value)
    assert os.path.join('1-billion-word',
                        'heldout-monolingual.tokenized.shuffled',
                        'news.en.heldout-00003-of-00050') in message
    assert 'rename the extracted directory' in message
    assert str(tmp_path) in message


@pytest.mark.parametrize('which_set, partitions, match', [
    ('valid', [1], "'training' or 'heldout'"),
    ('training', [0], r"partitions 1 to 99, got \[0\]"),
    ('heldout', [50], r"partitions 0 to 49, got \[50\]")])
def test_one_billion_word_checks_its_arguments_before_files(
        which_set, partitions, match):
    with pytest.raises(ValueError, match=match):
        OneBillionWord(which_set, partitions, WORDS)


def sequence_length(example):
    return len(example[0])


def shorter_than_six(example):
    return len(example[0]) < 6


def test_variable_length_pipeline_sorts_pads_and_resumes(tmp_path):
    lines = ["a", "a b c", "b b", "c a b a", "a a a a a a a", "c", "b c"]
    path = tmp_path / 'lines.txt'
    path.write_text('\n'.join(lines) + '\n')
    dictionary = {'<UNK>': 0, '</S>': 1, 'a': 2, 'b': 3, 'c': 4}

    def pipeline():
        stream = DataStream(TextFile([str(path)], dictionary,
                                     bos_token=None))
        stream = Filter(stream, shorter_than_six)
        stream = Batch(stream, ConstantScheme(3))
        stream = Mapping(stream, SortMapping(sequence_length))
        stream = Unpack(stream)
        stream = Batch(stream, ConstantScheme(2))
        return Padding(stream, mask_dtype='float32')

    # Independent reference: the same steps on Python lists.
    ids = [[dictionary[word] for word in line.split()] + [1]
           for line in lines]
    kept = [example for example in ids if len(example) < 6]
    ordered = []
    for start in range(0, len(kept), 3):
        ordered += sorted(kept[start:start + 3], key=len)
    expected = []
    for start in range(0, len(ordered), 2):
        batch = ordered[start:start + 2]
        width = max(map(len, batch))
        expected.append((
            [example + [0] * (width - len(example)) for example in batch],
            [[1.] * len(example) + [0.] * (width - len(example))
             for example in batch]))

    stream = pipeline()
    assert stream.sources == ('features', 'features_mask')
    batches = list(stream.get_epoch_iterator())
    assert [(features.tolist(), mask.tolist())
            for features, mask in batches] == expected
    assert batches[0][1].dtype == numpy.float32
    epoch = stream.get_epoch_iterator()
    next(epoch)
    resumed = pickle.loads(pickle.dumps(epoch))
    assert [features.tolist() for features, _ in resumed] == [
        features for features, _ in expected[1:]]


def test_merge_pairs_sentences_of_two_files(tmp_path):
    source, target = tmp_path / 'en.txt', tmp_path / 'fr.txt'
    source.write_text("this a\none\n")
    target.write_text("a\nthis one this\n")
    merged = Merge([DataStream(TextFile([str(path)], WORDS, bos_token=None))
                    for path in (source, target)], ('source', 'target'))
    assert list(merged.get_epoch_iterator()) == [
        ([2, 3, 1], [3, 1]), ([4, 1], [2, 4, 2, 1])]
    batches = Padding(Batch(merged, ConstantScheme(2)), mask_dtype='int8')
    assert batches.sources == ('source', 'source_mask', 'target',
                               'target_mask')
    source_ids, source_mask, target_ids, target_mask = next(
        batches.get_epoch_iterator())
    assert source_ids.tolist() == [[2, 3, 1], [4, 1, 0]]
    assert source_mask.tolist() == [[1, 1, 1], [1, 1, 0]]
    assert target_ids.tolist() == [[3, 1, 0, 0], [2, 4, 2, 1]]
    assert target_mask.tolist() == [[1, 1, 0, 0], [1, 1, 1, 1]]
