"""Corpus BLEU (Papineni et al., 2002), as ``multi-bleu.perl`` computes it.

The original example ran the Moses script ``multi-bleu.perl`` on the
decoded validation set; this is the same computation in a few lines, so
that validation needs no external tool.
"""
import math
from collections import Counter
from collections.abc import Sequence


def ngram_counts(words: Sequence[str], order: int) -> Counter:
    """The number of occurrences of each n-gram of `words` (n = `order`)."""
    return Counter(tuple(words[i:i + order])
                   for i in range(len(words) - order + 1))


def corpus_bleu(hypotheses: Sequence[Sequence[str]],
                references: Sequence[Sequence[str]],
                max_order: int = 4) -> float:
    """The BLEU score of a corpus of translations, in percent (0 to 100).

    For each n from 1 to `max_order`, the n-gram precision is the number
    of n-grams of the hypotheses that also occur in their reference
    (clipped to the reference's count), summed over the corpus, divided by
    the number of n-grams of the hypotheses. BLEU is the geometric mean of
    the precisions times the brevity penalty ``exp(1 - r / c)`` when the
    total hypothesis length c is shorter than the total reference length
    r (1 otherwise). A precision of zero makes the score zero, as in
    ``multi-bleu.perl`` (no smoothing).

    Parameters
    ----------
    hypotheses
        The translations, as lists of words.
    references
        One reference translation per hypothesis, as lists of words.
    max_order
        The longest n-grams counted.

    Raises
    ------
    ValueError
        If there are not as many references as hypotheses, or none.

    Examples
    --------
    >>> corpus_bleu([['the', 'cat', 'sat']], [['the', 'cat', 'sat']],
    ...             max_order=3)
    100.0

    """
    if len(hypotheses) != len(references) or not hypotheses:
        raise ValueError(
            f"corpus_bleu needs one reference per hypothesis, and at least "
            f"one of each; got {len(hypotheses)} hypotheses and "
            f"{len(references)} references")
    if max_order < 1:
        raise ValueError(f"max_order must be at least 1, got {max_order}")
    matches = [0] * max_order
    totals = [0] * max_order
    hypothesis_length = reference_length = 0
    for hypothesis, reference in zip(hypotheses, references, strict=True):
        hypothesis_length += len(hypothesis)
        reference_length += len(reference)
        for n in range(1, max_order + 1):
            hypothesis_ngrams = ngram_counts(hypothesis, n)
            reference_ngrams = ngram_counts(reference, n)
            matches[n - 1] += sum(
                min(count, reference_ngrams[ngram])
                for ngram, count in hypothesis_ngrams.items())
            totals[n - 1] += max(len(hypothesis) - n + 1, 0)
    if min(matches) == 0:
        return 0.0
    log_precision = sum(math.log(match / total)
                        for match, total in zip(matches, totals)) / max_order
    brevity = min(0.0, 1 - reference_length / hypothesis_length)
    return 100 * math.exp(log_precision + brevity)
