"""The One Billion Word benchmark (``fuel.datasets.billion``)."""
import os
from collections.abc import Iterable, Mapping
from typing import Any

from blocks.data.config import config
from blocks.data.datasets.text import TextFile
from blocks.data.utils import find_in_data_path

#: Directory of the benchmark within a data path directory.
DIRECTORY = '1-billion-word'
#: ``which_set`` -> (subdirectory, file name pattern, valid partitions).
LAYOUT = {
    'training': ('training-monolingual.tokenized.shuffled',
                 'news.en-{:05d}-of-00100', range(1, 100)),
    'heldout': ('heldout-monolingual.tokenized.shuffled',
                'news.en.heldout-{:05d}-of-00050', range(50)),
}

MISSING_FILES_MESSAGE = """\
OneBillionWord: {count} file(s) of the {which_set!r} set are missing, e.g. \
{example}; searched the data path {data_path}.

Blocks cannot download the benchmark. Get \
1-billion-word-language-modeling-benchmark-r13output.tar.gz (from \
http://www.statmt.org/lm-benchmark/), extract it, and rename the extracted \
directory to '{directory}' inside a directory of the data path \
(BLOCKS_DATA_PATH or FUEL_DATA_PATH), so that the files are
  <data path>/{directory}/{training_dir}/news.en-00001-of-00100 ...
  <data path>/{directory}/{heldout_dir}/news.en.heldout-00000-of-00050 ..."""


class OneBillionWord(TextFile):
    """The One Billion Word benchmark: a :class:`TextFile` over its files.

    The files are looked up in the data path
    (:func:`~blocks.data.utils.find_in_data_path`), under
    ``1-billion-word/training-monolingual.tokenized.shuffled/
    news.en-{p:05d}-of-00100`` for the training partitions ``p`` in 1..99,
    and ``1-billion-word/heldout-monolingual.tokenized.shuffled/
    news.en.heldout-{p:05d}-of-00050`` for the held-out ones in 0..49.
    Nothing is downloaded: a missing file raises :class:`OSError` saying
    where to put them.

    Parameters
    ----------
    which_set
        ``'training'`` or ``'heldout'``.
    which_partitions
        The partitions to read, in order.
    dictionary
        Token -> id mapping, or the path of a pickled one.
    **kwargs
        Passed to :class:`TextFile` (``bos_token``, ``level``, ...).

    """

    def __init__(self, which_set: str, which_partitions: Iterable[int],
                 dictionary: Mapping[str, int] | str, **kwargs: Any) -> None:
        if which_set not in LAYOUT:
            raise ValueError(
                f"which_set must be 'training' or 'heldout', got "
                f"{which_set!r}")
        subdirectory, pattern, valid = LAYOUT[which_set]
        which_partitions = list(which_partitions)
        invalid = [p for p in which_partitions if p not in valid]
        if invalid:
            raise ValueError(
                f"the {which_set!r} set has partitions {valid.start} to "
                f"{valid.stop - 1}, got {invalid}")
        names = [os.path.join(DIRECTORY, subdirectory, pattern.format(p))
                 for p in which_partitions]
        files, missing = [], []
        for name in names:
            try:
                files.append(find_in_data_path(name))
            except OSError:
                missing.append(name)
        if missing:
            raise FileNotFoundError(MISSING_FILES_MESSAGE.format(
                count=len(missing), which_set=which_set, example=missing[0],
                data_path=config.data_path, directory=DIRECTORY,
                training_dir=LAYOUT['training'][0],
                heldout_dir=LAYOUT['heldout'][0]))
        self.which_set = which_set
        self.which_partitions = which_partitions
        super().__init__(files, dictionary, **kwargs)
