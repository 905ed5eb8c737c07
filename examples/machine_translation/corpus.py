"""A toy parallel corpus, generated, so that nothing is downloaded.

The source language is a tiny English: sentences ``subject verb [object]``
whose noun phrases are ``determiner [adjective] noun``, optionally joined
by ``and``. The target language translates word by word with a fixed
lexicon and reorders: adjectives follow their noun and the verb ends its
clause (subject-object-verb). ``"the big cat sees a dog"`` becomes
``"lo gato grando una hundo vidas"``. The reordering is what makes
attention useful: a monotone word-by-word model cannot learn it.
"""
import os
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy

DETERMINERS = ['the', 'a']
ADJECTIVES = ['big', 'small', 'red', 'old', 'happy', 'green']
NOUNS = ['cat', 'dog', 'bird', 'man', 'woman', 'child', 'house', 'tree']
VERBS = ['sees', 'likes', 'finds', 'eats', 'sleeps', 'runs']
#: Verbs that take no object.
INTRANSITIVE = {'sleeps', 'runs'}
CONJUNCTION = 'and'

#: The made-up target word of each source word.
LEXICON = {
    'the': 'lo', 'a': 'una',
    'big': 'grando', 'small': 'pika', 'red': 'ruja', 'old': 'vetra',
    'happy': 'gaja', 'green': 'verda',
    'cat': 'gato', 'dog': 'hundo', 'bird': 'birdo', 'man': 'viro',
    'woman': 'ino', 'child': 'kido', 'house': 'domo', 'tree': 'arbo',
    'sees': 'vidas', 'likes': 'satas', 'finds': 'trovas', 'eats': 'mangas',
    'sleeps': 'dormas', 'runs': 'kuras',
    'and': 'kaj',
}

#: Names of the files :func:`write_toy_corpus` writes.
FILE_NAMES = {'train_source': 'train.src', 'train_target': 'train.trg',
              'valid_source': 'valid.src', 'valid_target': 'valid.trg'}


def _noun_phrase(rng: numpy.random.RandomState) -> list[str]:
    words = [DETERMINERS[rng.randint(len(DETERMINERS))]]
    if rng.uniform() < 0.5:
        words.append(ADJECTIVES[rng.randint(len(ADJECTIVES))])
    words.append(NOUNS[rng.randint(len(NOUNS))])
    return words


def _clause(rng: numpy.random.RandomState) -> list[str]:
    verb = VERBS[rng.randint(len(VERBS))]
    words = _noun_phrase(rng) + [verb]
    if verb not in INTRANSITIVE:
        words += _noun_phrase(rng)
    return words


def generate_sentence(rng: numpy.random.RandomState) -> str:
    """A random source sentence: one clause, sometimes two."""
    words = _clause(rng)
    if rng.uniform() < 0.25:
        words += [CONJUNCTION] + _clause(rng)
    return ' '.join(words)


def translate(sentence: str) -> str:
    """The target sentence of a source sentence of the toy grammar.

    Raises
    ------
    ValueError
        If a word is not in :data:`LEXICON`.

    """
    words = sentence.split()
    unknown = sorted(set(words) - set(LEXICON))
    if unknown:
        raise ValueError(f"the toy translation knows only the words of "
                         f"LEXICON; {sentence!r} has {unknown}")
    return f' {LEXICON[CONJUNCTION]} '.join(
        ' '.join(LEXICON[word] for word in _reorder(clause.split()))
        for clause in ' '.join(words).split(f' {CONJUNCTION} '))


def _reorder(clause: list[str]) -> list[str]:
    """Adjectives after their noun, the verb at the end."""
    reordered: list[str] = []
    verbs: list[str] = []
    adjective = None
    for word in clause:
        if word in ADJECTIVES:
            adjective = word
        elif word in VERBS:
            verbs.append(word)
        else:
            reordered.append(word)
            if word in NOUNS and adjective is not None:
                reordered.append(adjective)
                adjective = None
    return reordered + verbs


def write_toy_corpus(directory: str, num_train: int = 2000,
                     num_valid: int = 50, seed: int = 1) -> dict[str, str]:
    """Write a toy parallel corpus in `directory`, one sentence a line.

    Returns
    -------
    dict
        The paths, keyed ``train_source``, ``train_target``,
        ``valid_source`` and ``valid_target``.

    """
    if num_train < 1 or num_valid < 1:
        raise ValueError(f"the toy corpus needs at least one training and "
                         f"one validation sentence, got num_train="
                         f"{num_train}, num_valid={num_valid}")
    os.makedirs(directory, exist_ok=True)
    rng = numpy.random.RandomState(seed)
    sources = [generate_sentence(rng) for _ in range(num_train + num_valid)]
    parts = {'train': sources[:num_train], 'valid': sources[num_train:]}
    paths = {key: os.path.join(directory, name)
             for key, name in FILE_NAMES.items()}
    for part, sentences in parts.items():
        for side, text in (('source', sentences),
                           ('target', [translate(s) for s in sentences])):
            with open(paths[f'{part}_{side}'], 'w', encoding='utf-8') as file:
                file.writelines(line + '\n' for line in text)
    return paths


BOS_TOKEN, EOS_TOKEN, UNK_TOKEN = '<S>', '</S>', '<UNK>'


def build_dictionary(paths: Iterable[str], vocab_size: int | None = None
                     ) -> dict[str, int]:
    """A word -> id dictionary of the words of text files.

    ``<S>``, ``</S>`` and ``<UNK>`` get ids 0, 1 and 2; the words follow by
    decreasing frequency (ties alphabetically), as many as fit in
    `vocab_size` (default: all).

    """
    counts: Counter[str] = Counter()
    for path in paths:
        with open(path, encoding='utf-8') as file:
            for line in file:
                counts.update(line.split())
    specials = [BOS_TOKEN, EOS_TOKEN, UNK_TOKEN]
    if vocab_size is not None and vocab_size <= len(specials):
        raise ValueError(f"vocab_size must leave room for words after "
                         f"{specials}, got {vocab_size}")
    words = sorted((word for word in counts if word not in specials),
                   key=lambda word: (-counts[word], word))
    if vocab_size is not None:
        words = words[:vocab_size - len(specials)]
    return {word: index for index, word in enumerate(specials + words)}


def read_sentences(path: str) -> list[list[str]]:
    """The sentences of a text file, as lists of words."""
    with open(path, encoding='utf-8') as file:
        return [line.split() for line in file]


def words(ids: Sequence[int], inverse_dictionary: dict[int, str]
          ) -> list[str]:
    """The words of `ids` up to the first ``</S>`` (excluded)."""
    result = []
    for index in ids:
        word = inverse_dictionary.get(int(index), UNK_TOKEN)
        if word == EOS_TOKEN:
            break
        result.append(word)
    return result
