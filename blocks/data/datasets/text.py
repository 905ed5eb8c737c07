"""Text files of sentences, one per line (``fuel.datasets.text``)."""
import gzip
import locale
import os
import pickle
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, BinaryIO

from blocks.data.datasets.base import Dataset

MISSING_TOKEN_MESSAGE = (
    "the {role} {token!r} is not in the dictionary (it maps {size} tokens, "
    "e.g. {sample}); add it to the dictionary or pass {role}=None")

UNKNOWN_WORD_MESSAGE = (
    "{token!r} is not in the dictionary and unk_token is None; add it to the "
    "dictionary or give an unk_token to map unknown tokens to")


class LineIterator(Iterator[str]):
    """The lines of several text files in turn, picklable at any line.

    The files are read as bytes, so that the position within the current
    one is a byte offset: a pickled iterator holds the file names, the index
    of the current file and that offset, and an unpickled one reopens the
    file there and goes on with the next line. Names ending in ``.gz`` are
    read through gzip. Line ends are ``\\n`` whatever the file used, as in
    text mode.

    Parameters
    ----------
    files
        Paths, read one after the other.
    encoding
        Encoding of the files; ``None`` is the locale's, as for
        :func:`open`. It must encode ``'\\n'`` as the byte ``0x0a`` (UTF-8,
        Latin-1, ASCII and the like).

    """

    def __init__(self, files: Sequence[str], encoding: str | None = None
                 ) -> None:
        self.files = list(files)
        self.encoding = encoding or locale.getpreferredencoding(False)
        self.file_index = 0
        self.offset = 0
        self._file: BinaryIO | None = None

    def _open(self) -> BinaryIO:
        path = self.files[self.file_index]
        file: BinaryIO
        if path.endswith('.gz'):
            file = gzip.open(path, 'rb')  # type: ignore[assignment]
        else:
            file = open(path, 'rb')
        if self.offset:
            file.seek(self.offset)
        return file

    def __iter__(self) -> 'LineIterator':
        return self

    def __next__(self) -> str:
        while self.file_index < len(self.files):
            if self._file is None:
                self._file = self._open()
            line = self._file.readline()
            if line:
                self.offset += len(line)
                if line.endswith(b'\r\n'):
                    line = line[:-2] + b'\n'
                return line.decode(self.encoding)
            self.close()
            self.file_index += 1
            self.offset = 0
        raise StopIteration

    def close(self) -> None:
        """Close the file being read (reading again reopens it)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state['_file'] = None
        return state


class TextFile(Dataset):
    r"""Sentences read from text files, one per line, as lists of ids.

    Each example is ``(ids,)``: the id of ``bos_token`` (if not ``None``),
    the ids of the tokens of the line, then the id of ``eos_token`` (if not
    ``None``). Tokens missing from the dictionary map to the id of
    ``unk_token``. The dataset reads the files in order and takes no
    requests: stream it without iteration scheme and batch it with
    :class:`~blocks.data.transformers.Batch`.

    Parameters
    ----------
    files
        Paths of the files (one path is also accepted), read one after the
        other. Names ending in ``.gz`` are read through gzip.
    dictionary
        Token -> id mapping, or the path of a pickled one.
    bos_token, eos_token
        Tokens added at the start and end of each sentence, or ``None``.
    unk_token
        Token whose id replaces unknown tokens; with ``None`` an unknown
        token raises :class:`KeyError`.
    level
        ``'word'`` splits each line on whitespace; ``'character'`` takes
        every character of the stripped line, spaces included.
    preprocess
        Called with each line (ending in ``'\n'``) before it is split,
        e.g. ``str.lower``. Must be picklable for checkpoints.
    encoding
        Encoding of the files (default: the locale's, as :func:`open`).

    Raises
    ------
    ValueError
        If a token that is not ``None`` is missing from the dictionary, or
        ``level`` is neither ``'word'`` nor ``'character'``.
    FileNotFoundError
        If a file does not exist.

    Notes
    -----
    The iteration state (:meth:`open`) is a :class:`LineIterator`, which
    pickles at any line: a checkpoint taken mid-file resumes with the next
    sentence.

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), 'sentences.txt')
    >>> with open(path, 'w') as file:
    ...     _ = file.write('This is a sentence\nThis another one\n')
    >>> dictionary = {'<UNK>': 0, '</S>': 1, 'this': 2, 'a': 3, 'one': 4}
    >>> dataset = TextFile([path], dictionary, bos_token=None,
    ...                    preprocess=str.lower)
    >>> list(dataset.get_example_stream().get_epoch_iterator())
    [([2, 0, 3, 0, 1],), ([2, 0, 4, 1],)]

    """

    provides_sources = ('features',)
    example_iteration_scheme = None

    def __init__(self, files: Sequence[str] | str,
                 dictionary: Mapping[str, int] | str,
                 bos_token: str | None = '<S>',
                 eos_token: str | None = '</S>',
                 unk_token: str | None = '<UNK>', level: str = 'word',
                 preprocess: Callable[[str], str] | None = None,
                 encoding: str | None = None) -> None:
        if isinstance(files, (str, os.PathLike)):
            files = [files]
        files = [os.fspath(path) for path in files]
        missing = [path for path in files if not os.path.isfile(path)]
        if missing:
            raise FileNotFoundError(
                f"TextFile: no such file: {', '.join(missing)}; give the "
                "paths of existing text files, one sentence per line")
        if isinstance(dictionary, (str, os.PathLike)):
            with open(dictionary, 'rb') as file:
                dictionary = pickle.load(file)
        if not isinstance(dictionary, Mapping):
            raise ValueError(
                "TextFile's dictionary must map tokens to ids (or be the "
                f"path of a pickled mapping), got a "
                f"{type(dictionary).__name__}")
        for role, token in (('bos_token', bos_token),
                            ('eos_token', eos_token),
                            ('unk_token', unk_token)):
            if token is not None and token not in dictionary:
                sample = ', '.join(repr(key) for key in list(dictionary)[:5])
                raise ValueError(MISSING_TOKEN_MESSAGE.format(
                    role=role, token=token, size=len(dictionary),
                    sample=sample or 'nothing'))
        if level not in ('word', 'character'):
            raise ValueError(
                f"level must be 'word' or 'character', got {level!r}")
        self.files = files
        self.dictionary = dictionary
        self.bos_token = bos_token
        self.eos_token = eos_token
        self.unk_token = unk_token
        self.level = level
        self.preprocess = preprocess
        self.encoding = encoding
        super().__init__()

    def _check_iteration_scheme(self, iteration_scheme: Any) -> None:
        if iteration_scheme is not None:
            raise ValueError(
                "TextFile reads sentences in order and takes no requests, "
                f"but the stream has a {type(iteration_scheme).__name__}; "
                "drop the iteration scheme (wrap the stream in Batch to get "
                "batches)")

    def open(self) -> LineIterator:
        """A picklable iterator over the lines of all the files."""
        return LineIterator(self.files, self.encoding)

    def close(self, state: LineIterator) -> None:
        state.close()

    def get_data(self, state: LineIterator | None = None,
                 request: Any = None) -> tuple[list[int]]:
        if request is not None:
            raise ValueError(
                "TextFile reads sentences in order and takes no requests, "
                f"got {request!r}; use a DataStream without iteration scheme "
                "(Batch makes batches)")
        if state is None:
            raise ValueError("TextFile.get_data needs the state of open()")
        sentence = next(state)
        if self.preprocess is not None:
            sentence = self.preprocess(sentence)
        tokens = sentence.split() if self.level == 'word' else \
            sentence.strip()
        dictionary = self.dictionary
        data = [dictionary[self.bos_token]] if self.bos_token else []
        if self.unk_token is not None:
            unk = dictionary[self.unk_token]
            data.extend([dictionary.get(token, unk) for token in tokens])
        else:
            for token in tokens:
                try:
                    data.append(dictionary[token])
                except KeyError:
                    raise KeyError(UNKNOWN_WORD_MESSAGE.format(
                        token=token)) from None
        if self.eos_token:
            data.append(dictionary[self.eos_token])
        return (data,)
