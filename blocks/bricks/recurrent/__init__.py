"""Recurrent bricks.

:mod:`~blocks.bricks.recurrent.base` holds the protocol (the
:func:`recurrent` decorator and :class:`BaseRecurrent`),
:mod:`~blocks.bricks.recurrent.architectures` the usual transitions and
:mod:`~blocks.bricks.recurrent.misc` their compositions; this module
re-exports them.
"""
from blocks.bricks.recurrent.base import BaseRecurrent, recurrent
from blocks.bricks.recurrent.architectures import (SimpleRecurrent, LSTM,
                                                   GatedRecurrent)
from blocks.bricks.recurrent.misc import (Bidirectional, RecurrentStack,
                                          RECURRENTSTACK_SEPARATOR)

__all__ = ['BaseRecurrent', 'recurrent', 'SimpleRecurrent', 'LSTM',
           'GatedRecurrent', 'Bidirectional', 'RecurrentStack',
           'RECURRENTSTACK_SEPARATOR']
