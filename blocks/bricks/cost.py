"""Bricks computing costs and error rates from targets and predictions."""
from abc import abstractmethod

import pytensor
from pytensor import tensor

from blocks.bricks.base import Brick, application

__all__ = [
    'AbsoluteError',
    'BinaryCrossEntropy',
    'CategoricalCrossEntropy',
    'Cost',
    'CostMatrix',
    'MisclassificationRate',
    'SquaredError',
    'row_indices',
]


def row_indices(matrix):
    """``arange(matrix.shape[0])`` in int64, for every backend.

    PyTensor's JAX backend compiles ``arange`` only when its bounds are
    constants or dimensions of inputs (the rows of a layer's output reduce
    to those of the network's input; the length of flattened targets does
    not), and computes ``stop - start`` in the type of the start, which a
    Python ``0`` makes int8: it overflows from 128 rows on.

    """
    return tensor.arange(tensor.constant(0, dtype='int64'), matrix.shape[0],
                         tensor.constant(1, dtype='int64'), dtype='int64')


class Cost(Brick):
    """A brick whose ``apply(y, y_hat)`` returns a scalar cost."""

    @abstractmethod
    @application
    def apply(self, *args, **kwargs):
        pass


class CostMatrix(Cost):
    """Base class for costs which can be calculated element-wise.

    Assumes that the data has format (batch, features).

    """

    @application(outputs=["cost"])
    def apply(self, *args, **kwargs):
        return self.cost_matrix(*args, **kwargs).sum(axis=1).mean()

    @abstractmethod
    @application
    def cost_matrix(self, *args, **kwargs):
        pass


class BinaryCrossEntropy(CostMatrix):
    r"""Elementwise :math:`-(y \log \hat y + (1 - y) \log(1 - \hat y))`."""

    @application
    def cost_matrix(self, y, y_hat):
        return -(y * tensor.log(y_hat) + (1 - y) * tensor.log(1 - y_hat))


class AbsoluteError(CostMatrix):
    r"""Elementwise :math:`|y - \hat y|`."""

    @application
    def cost_matrix(self, y, y_hat):
        return abs(y - y_hat)


class SquaredError(CostMatrix):
    r"""Elementwise :math:`(y - \hat y)^2`."""

    @application
    def cost_matrix(self, y, y_hat):
        return tensor.sqr(y - y_hat)


class CategoricalCrossEntropy(Cost):
    """The mean over rows of the cross-entropy of `y_hat` (probabilities).

    `y` holds either integer labels (one per row) or distributions (one
    row per row of `y_hat`).

    """

    @application(outputs=["cost"])
    def apply(self, y, y_hat):
        if y.ndim == y_hat.ndim - 1:
            # Integer labels: -log of the probability of the true class.
            probabilities = y_hat[row_indices(y_hat), y]
            cost = -tensor.log(probabilities)
        elif y.ndim == y_hat.ndim:
            cost = -(y * tensor.log(y_hat)).sum(axis=y_hat.ndim - 1)
        else:
            raise TypeError(
                f"rank mismatch between y ({y.ndim} dimensions) and y_hat "
                f"({y_hat.ndim} dimensions): y must hold labels "
                f"({y_hat.ndim - 1} dimensions) or distributions "
                f"({y_hat.ndim} dimensions)")
        return cost.mean()


class MisclassificationRate(Cost):
    """Calculates the misclassification rate for a mini-batch.

    Parameters
    ----------
    top_k : int, optional
        If the ground truth class is within the `top_k` highest
        responses for a given example, the model is considered
        to have predicted correctly. Default: 1.

    Notes
    -----
    Ties for `top_k`-th place are broken pessimistically, i.e.
    in the (in practice, rare) case that there is a tie for `top_k`-th
    highest output for a given example, it is considered an incorrect
    prediction.

    """

    def __init__(self, top_k: int = 1):
        self.top_k = top_k
        super().__init__()

    @application(outputs=["error_rate"])
    def apply(self, y, y_hat):
        # Support checkpoints that predate self.top_k
        top_k = getattr(self, 'top_k', 1)
        if top_k == 1:
            mistakes = tensor.neq(y, y_hat.argmax(axis=1))
        else:
            row_offsets = row_indices(y_hat) * y_hat.shape[1]
            truth_score = y_hat.flatten()[row_offsets + y]
            # We use greater than _or equals_ here so that the model
            # _must_ have its guess in the top k, and cannot extend
            # its effective "list of predictions" by tying lots of things
            # for k-th place.
            higher_scoring = tensor.ge(y_hat, truth_score.dimshuffle(0, 'x'))
            # Because we used greater-than-or-equal we have to correct for
            # counting the true label.
            num_higher = higher_scoring.sum(axis=1) - 1
            mistakes = tensor.ge(num_higher, top_k)
        return mistakes.mean(dtype=pytensor.config.floatX)
