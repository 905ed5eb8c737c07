"""Streams of the parallel corpus: sorted, padded, time-major batches."""
from collections.abc import Mapping as MappingType
from typing import Any

import numpy
import pytensor

from blocks.data.datasets import TextFile
from blocks.data.schemes import ConstantScheme
from blocks.data.streams import DataStream
from blocks.data.transformers import (Batch, Filter, Mapping, Merge,
                                      Padding, SortMapping, Unpack)

from examples.machine_translation.corpus import EOS_TOKEN, UNK_TOKEN


def _length(sentence_pair: tuple) -> int:
    """The length of the target sentence: the key batches are sorted by."""
    return len(sentence_pair[-1])


class _too_long:
    """A picklable predicate: are both sentences at most `seq_len` long?"""

    def __init__(self, seq_len: int = 50):
        self.seq_len = seq_len

    def __call__(self, sentence_pair: tuple) -> bool:
        return all(len(sentence) <= self.seq_len
                   for sentence in sentence_pair)


def _time_major(batch: tuple) -> tuple:
    """Padding gives (batch, time); the recurrent bricks want (time, batch).

    The copies are C-contiguous, as the compiled function prefers them.

    """
    return tuple(numpy.ascontiguousarray(source.T) for source in batch)


def get_tr_stream(src_vocab: MappingType[str, int],
                  trg_vocab: MappingType[str, int], src_data: str,
                  trg_data: str, seq_len: int = 50, batch_size: int = 80,
                  sort_k_batches: int = 12) -> Mapping:
    """The training stream: padded batches of sentence pairs.

    Pairs with a sentence longer than `seq_len` words are dropped; the
    others are read `sort_k_batches` batches at a time, sorted by target
    length so that each batch holds sentences of similar lengths (less
    padding), and split into batches again.

    Parameters
    ----------
    src_vocab, trg_vocab
        The dictionaries (word -> id), with ``</S>`` and ``<UNK>``.
    src_data, trg_data
        The parallel text files, one sentence a line.
    seq_len
        The longest sentence kept, in words (``</S>`` included).
    batch_size
        The number of sentence pairs in a batch.
    sort_k_batches
        The number of batches sorted together.

    Returns
    -------
    Mapping
        Batches with the sources ``source``, ``source_mask``, ``target``
        and ``target_mask``, each shaped (time, batch); the sentences end
        with ``</S>``, and masks are 1 on words and 0 on padding.

    """
    for name, value in (('seq_len', seq_len), ('batch_size', batch_size),
                        ('sort_k_batches', sort_k_batches)):
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    src_dataset = TextFile([src_data], src_vocab, bos_token=None,
                           eos_token=EOS_TOKEN, unk_token=UNK_TOKEN)
    trg_dataset = TextFile([trg_data], trg_vocab, bos_token=None,
                           eos_token=EOS_TOKEN, unk_token=UNK_TOKEN)
    stream: Any = Merge([src_dataset.get_example_stream(),
                    trg_dataset.get_example_stream()],
                   ('source', 'target'))
    stream = Filter(stream, predicate=_too_long(seq_len=seq_len))
    stream = Batch(stream, iteration_scheme=ConstantScheme(
        batch_size * sort_k_batches))
    stream = Mapping(stream, SortMapping(_length))
    stream = Unpack(stream)
    stream = Batch(stream, iteration_scheme=ConstantScheme(batch_size))
    stream = Padding(stream, mask_dtype=pytensor.config.floatX)
    return Mapping(stream, _time_major)


def get_dev_stream(val_set: str, src_vocab: MappingType[str, int]
                   ) -> DataStream:
    """The validation sources, one sentence (a list of ids) at a time."""
    dataset = TextFile([val_set], src_vocab, bos_token=None,
                       eos_token=EOS_TOKEN, unk_token=UNK_TOKEN)
    return DataStream(dataset)
