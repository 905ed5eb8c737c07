"""The RNNsearch model (Bahdanau et al., 2015): encoder and decoder bricks.

All sequences are time-major: word ids of shape ``(time, batch)`` and
masks of the same shape, as the stream of :mod:`.stream` gives them.
"""
from pytensor import tensor

from blocks.bricks import (Bias, FeedforwardSequence, Initializable,
                           Linear, Maxout, MLP, Tanh)
from blocks.bricks.attention import SequenceContentAttention
from blocks.bricks.base import application
from blocks.bricks.lookup import LookupTable
from blocks.bricks.parallel import Fork
from blocks.bricks.recurrent import Bidirectional, GatedRecurrent
from blocks.bricks.sequence_generators import (LookupFeedback, Readout,
                                               SequenceGenerator,
                                               SoftmaxEmitter)
from blocks.utils import dict_union


class InitializableFeedforwardSequence(FeedforwardSequence, Initializable):
    """A :class:`.FeedforwardSequence` that passes initialization on."""


class BidirectionalWMT15(Bidirectional):
    """A :class:`.Bidirectional` whose two directions get their own inputs.

    The forward and the backward networks read different projections of
    the embeddings (two forks), rather than the same ones.

    """

    @application
    def apply(self, forward_dict, backward_dict):
        """The forward and the backward states, concatenated."""
        forward = self.children[0].apply(as_list=True, **forward_dict)
        backward = [states[::-1] for states in self.children[1].apply(
            reverse=True, as_list=True, **backward_dict)]
        return [tensor.concatenate([f, b], axis=2)
                for f, b in zip(forward, backward, strict=True)]


class BidirectionalEncoder(Initializable):
    """The encoder: embeddings read by a bidirectional GRU.

    Parameters
    ----------
    vocab_size : int
        The number of source words (dictionary size).
    embedding_dim : int
        The dimension of the word embeddings.
    state_dim : int
        The dimension of each direction's states; the representation has
        ``2 * state_dim`` features.

    """

    def __init__(self, vocab_size: int, embedding_dim: int, state_dim: int,
                 **kwargs):
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.state_dim = state_dim
        self.lookup = LookupTable(name='embeddings')
        self.bidir = BidirectionalWMT15(
            GatedRecurrent(activation=Tanh(), dim=state_dim))
        sequences = [name for name in self.bidir.children[0].apply.sequences
                     if name != 'mask']
        self.fwd_fork = Fork(sequences, prototype=Linear(), name='fwd_fork')
        self.back_fork = Fork(sequences, prototype=Linear(),
                              name='back_fork')
        kwargs.setdefault('children', []).extend(
            [self.lookup, self.bidir, self.fwd_fork, self.back_fork])
        super().__init__(**kwargs)

    def _push_allocation_config(self):
        self.lookup.length = self.vocab_size
        self.lookup.dim = self.embedding_dim
        for fork, rnn in zip((self.fwd_fork, self.back_fork),
                             self.bidir.children, strict=True):
            fork.input_dim = self.embedding_dim
            fork.output_dims = [rnn.get_dim(name)
                                for name in fork.output_names]

    @application(inputs=['source_sentence', 'source_sentence_mask'],
                 outputs=['representation'])
    def apply(self, source_sentence, source_sentence_mask):
        """The representation ``(time, batch, 2 * state_dim)``."""
        embeddings = self.lookup.apply(source_sentence)
        mask = {'mask': source_sentence_mask}
        return self.bidir.apply(
            dict_union(self.fwd_fork.apply(embeddings, as_dict=True), mask),
            dict_union(self.back_fork.apply(embeddings, as_dict=True), mask))


class GRUInitialState(GatedRecurrent):
    """A GRU whose initial state is computed from the encoder's.

    The initial state is ``tanh(W h + b)`` where ``h`` is the last
    `attended_dim` features of the first step of the attended, i.e. the
    final state of the backward encoder.

    Parameters
    ----------
    attended_dim : int
        The number of features of the attended that ``h`` takes.

    """

    def __init__(self, attended_dim: int, **kwargs):
        super().__init__(**kwargs)
        self.attended_dim = attended_dim
        self.initial_transformer = MLP(activations=[Tanh()],
                                       dims=[attended_dim, self.dim],
                                       name='state_initializer')
        self.children.append(self.initial_transformer)

    @application
    def initial_states(self, batch_size, *args, **kwargs):
        attended = kwargs['attended']
        return self.initial_transformer.apply(
            attended[0, :, -self.attended_dim:])

    def _allocate(self):
        # No learned initial state: it is computed.
        super()._allocate()
        self.parameters.pop()


class Decoder(Initializable):
    """The decoder: a GRU with attention over the encoder's states.

    The readout merges the decoder's states, the feedback (embedding of
    the previous word) and the attention's weighted averages, then applies
    a maxout layer and two linear maps (a factored softmax input).

    Parameters
    ----------
    vocab_size : int
        The number of target words.
    embedding_dim : int
        The dimension of the target word embeddings.
    state_dim : int
        The dimension of the decoder's states (even: maxout halves it).
    representation_dim : int
        The number of features of the encoder's representation.
    bos_index : int
        The id the generator starts from (the target dictionary's ``<S>``).

    """

    def __init__(self, vocab_size: int, embedding_dim: int, state_dim: int,
                 representation_dim: int, bos_index: int = 0, **kwargs):
        if state_dim % 2:
            raise ValueError(f"the decoder's state_dim must be even (maxout "
                             f"takes pairs of units), got {state_dim}")
        self.vocab_size = vocab_size
        self.embedding_dim = embedding_dim
        self.state_dim = state_dim
        self.representation_dim = representation_dim
        self.transition = GRUInitialState(
            attended_dim=state_dim, dim=state_dim, activation=Tanh(),
            name='decoder')
        self.attention = SequenceContentAttention(
            state_names=self.transition.apply.states,
            attended_dim=representation_dim, match_dim=state_dim,
            name='attention')
        readout = Readout(
            source_names=['states', 'feedback',
                          self.attention.take_glimpses.outputs[0]],
            readout_dim=vocab_size,
            emitter=SoftmaxEmitter(initial_output=bos_index),
            feedback_brick=LookupFeedback(vocab_size, embedding_dim),
            post_merge=InitializableFeedforwardSequence(
                [Bias(dim=state_dim, name='maxout_bias').apply,
                 Maxout(num_pieces=2, name='maxout').apply,
                 Linear(input_dim=state_dim // 2, output_dim=embedding_dim,
                        use_bias=False, name='softmax0').apply,
                 Linear(input_dim=embedding_dim, name='softmax1').apply]),
            merged_dim=state_dim)
        self.sequence_generator = SequenceGenerator(
            readout=readout, transition=self.transition,
            attention=self.attention,
            fork=Fork([name for name in self.transition.apply.sequences
                       if name != 'mask'], prototype=Linear()))
        kwargs.setdefault('children', []).append(self.sequence_generator)
        super().__init__(**kwargs)

    @application(inputs=['representation', 'source_sentence_mask',
                         'target_sentence', 'target_sentence_mask'],
                 outputs=['cost'])
    def cost(self, representation, source_sentence_mask, target_sentence,
             target_sentence_mask):
        """The summed cost of the target words over the batch size."""
        cost = self.sequence_generator.cost_matrix(
            target_sentence, target_sentence_mask,
            attended=representation, attended_mask=source_sentence_mask)
        return cost.sum() / target_sentence_mask.shape[1]

    @application
    def generate(self, source_sentence, representation, **kwargs):
        """Sample translations of up to twice the source length."""
        return self.sequence_generator.generate(
            n_steps=2 * source_sentence.shape[0],
            batch_size=source_sentence.shape[1],
            attended=representation,
            attended_mask=tensor.ones(source_sentence.shape),
            **kwargs)
