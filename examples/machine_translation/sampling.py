"""Extensions that translate during training: samples and validation BLEU."""
from collections.abc import Mapping

import numpy

from blocks.bricks.sequence_generators import BaseSequenceGenerator
from blocks.compilation import function
from blocks.extensions import SimpleExtension
from blocks.filter import VariableFilter, get_brick
from blocks.model import Model
from blocks.roles import OUTPUT
from blocks.search import BeamSearch

from examples.machine_translation.bleu import corpus_bleu
from examples.machine_translation.corpus import (EOS_TOKEN, read_sentences,
                                                 words)


def _invert(vocab: Mapping[str, int]) -> dict[int, str]:
    return {index: word for word, index in vocab.items()}


def _generate_outputs(model: Model) -> list:
    """The ``outputs`` and ``costs`` of the ``generate`` call in `model`."""
    generators = {id(brick): brick for brick in (
        get_brick(variable) for variable in VariableFilter(
            bricks=[BaseSequenceGenerator], roles=[OUTPUT])(model.variables))}
    if len(generators) != 1:
        raise ValueError(
            f"Sampler needs the Model of the outputs of one sequence "
            f"generator's generate() call; this one has "
            f"{len(generators)} sequence generators")
    generator, = generators.values()
    found = [VariableFilter(applications=[generator.generate], name=name)(
        model.variables) for name in ('outputs', 'costs')]
    if not all(found):
        raise ValueError(
            f"the model has no output of {generator.name}.generate(); give "
            "Sampler the Model of the outputs of a generate() call")
    return [variables[0] for variables in found]


class Sampler(SimpleExtension):
    """Print sample translations of a few sentences of the current batch.

    The samples are drawn from the model's distribution with the
    ``generate`` graph (one sentence at a time), and printed with their
    source, their reference and their cost (negative log-likelihood).

    Parameters
    ----------
    model : :class:`~blocks.model.Model`
        The model of the outputs of the decoder's ``generate`` call; its
        only input is the time-major source sentence.
    src_vocab, trg_vocab
        The source and target dictionaries (word -> id).
    hook_samples : int
        The number of sentences of the batch to translate.
    seed : int
        Seed of the choice of sentences.

    Notes
    -----
    Needs the batch: trigger it with ``every_n_batches`` or
    ``after_batch``.

    """

    def __init__(self, model: Model, src_vocab: Mapping[str, int],
                 trg_vocab: Mapping[str, int], hook_samples: int = 1,
                 seed: int = 1, **kwargs):
        super().__init__(**kwargs)
        if hook_samples < 1:
            raise ValueError(
                f"hook_samples must be at least 1, got {hook_samples}")
        self.model = model
        self.hook_samples = hook_samples
        self.src_ivocab = _invert(src_vocab)
        self.trg_ivocab = _invert(trg_vocab)
        self.outputs, self.costs = _generate_outputs(model)
        self.rng = numpy.random.RandomState(seed)
        self._sampling_fn = None

    def __getstate__(self):
        state = self.__dict__.copy()
        # Compiled again when needed after unpickling.
        state['_sampling_fn'] = None
        return state

    @property
    def sampling_fn(self):
        """Source (time, 1) -> sampled ids (time, 1) and their costs."""
        if self._sampling_fn is None:
            self._sampling_fn = function(
                self.model.inputs, [self.outputs, self.costs],
                updates=self.model.updates)
        return self._sampling_fn

    def do(self, which_callback, *args):
        if not args or not isinstance(args[0], Mapping):
            raise ValueError(
                f"Sampler translates sentences of the current batch, but "
                f"was called on {which_callback!r} without one; trigger it "
                "with every_n_batches or after_batch")
        batch = args[0]
        batch_size = batch['source'].shape[1]
        chosen = self.rng.choice(batch_size,
                                 min(batch_size, self.hook_samples),
                                 replace=False)
        print()
        for index in chosen:
            length = int(batch['source_mask'][:, index].sum())
            source = batch['source'][:length, index]
            target = batch['target'][:int(batch['target_mask'][:, index]
                                          .sum()), index]
            outputs, costs = self.sampling_fn(source[:, None])
            sample = words(outputs[:, 0], self.trg_ivocab)
            # The cost of the words kept and of the </S> that ends them.
            cost = costs[:len(sample) + 1, 0].sum()
            print("Input : ", ' '.join(words(source, self.src_ivocab)))
            print("Target: ", ' '.join(words(target, self.trg_ivocab)))
            print("Sample: ", ' '.join(sample))
            print(f"Sample cost: {cost:.3f}")
            print()


class BleuValidator(SimpleExtension):
    """Translate a validation set with beam search and log its BLEU.

    Each sentence is decoded with :class:`~blocks.search.BeamSearch`; the
    translation kept is the one of least cost (divided by its length with
    `normalize`). The corpus BLEU (:func:`.corpus_bleu`, 0 to 100) of the
    translations against the references is written to the log as
    `record_name`.

    Parameters
    ----------
    source_sentence : :class:`~pytensor.Variable`
        The input of the ``generate`` graph, a (time, batch) matrix.
    samples : :class:`~pytensor.Variable`
        The ``outputs`` of the sequence generator's ``generate``.
    data_stream
        The validation source sentences, one list of ids at a time
        (:func:`.get_dev_stream`).
    references : str
        The file of reference translations, one a line, in the order of
        the stream.
    trg_vocab
        The target dictionary (word -> id); ``</S>`` ends a translation.
    beam_size : int
        The number of hypotheses the search keeps.
    normalize : bool
        Compare the hypotheses by cost per word rather than total cost.
    record_name : str
        The log record of the score.

    """

    def __init__(self, source_sentence, samples, data_stream,
                 references: str, trg_vocab: Mapping[str, int],
                 beam_size: int = 12, normalize: bool = True,
                 record_name: str = 'valid_bleu', **kwargs):
        super().__init__(**kwargs)
        if not 1 <= beam_size <= len(trg_vocab):
            raise ValueError(
                f"beam_size must be between 1 and the target vocabulary "
                f"size {len(trg_vocab)}, got {beam_size}")
        self.source_sentence = source_sentence
        self.samples = samples
        self.data_stream = data_stream
        self.references = references
        self.trg_ivocab = _invert(trg_vocab)
        self.eos_index = trg_vocab[EOS_TOKEN]
        self.beam_size = beam_size
        self.normalize = normalize
        self.record_name = record_name
        self._beam_search: BeamSearch | None = None

    def __getstate__(self):
        state = self.__dict__.copy()
        # Built and compiled again when needed after unpickling.
        state['_beam_search'] = None
        return state

    @property
    def beam_search(self) -> BeamSearch:
        """The beam search, built from `samples` on first use."""
        if self._beam_search is None:
            self._beam_search = BeamSearch(samples=self.samples)
        return self._beam_search

    def translate(self, source: list[int]) -> list[str]:
        """The best translation of a source sentence (a list of ids)."""
        ids = numpy.asarray(source, dtype='int64')
        inputs = numpy.tile(ids[:, None], (1, self.beam_size))
        translations, costs = self.beam_search.search(
            {self.source_sentence: inputs}, self.eos_index,
            max_length=3 * len(ids))
        costs = numpy.asarray(costs)
        if self.normalize:
            costs = costs / [len(translation) for translation in translations]
        return words(translations[int(numpy.argmin(costs))],
                     self.trg_ivocab)

    def evaluate(self) -> float:
        """The BLEU score of the translations of the validation set."""
        translations = [self.translate(source) for source, in
                        self.data_stream.get_epoch_iterator()]
        references = read_sentences(self.references)
        if len(references) != len(translations):
            raise ValueError(
                f"{self.references} has {len(references)} references but "
                f"the validation stream gave {len(translations)} sentences; "
                "give the target side of the validation set")
        return corpus_bleu(translations, references)

    def do(self, which_callback, *args):
        bleu = self.evaluate()
        self.main_loop.log.current_row[self.record_name] = bleu
        print(f"Validation BLEU ({self.record_name}): {bleu:.2f}")
