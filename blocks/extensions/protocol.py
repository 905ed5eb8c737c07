"""The log-record protocol: the names extensions talk to each other with.

Extensions never call each other: they communicate through the main loop's
log. One writes a record in the current row (or a key in ``log.status``),
another reads it. The names below are that protocol; they are public (old
scripts and other processes reading a log rely on them) and are defined
here once.

Records in a row (``log.current_row``):

- :data:`TRAINING_FINISH_REQUESTED`, written by
  :class:`~blocks.extensions.FinishAfter` and its subclasses: the main loop
  stops after the current batch or epoch.
- :data:`TRAINING_FINISHED`, written by the main loop when it stopped
  because of a finish request or an interrupt.
- :data:`EPOCH_INTERRUPT_RECEIVED` and :data:`BATCH_INTERRUPT_RECEIVED`,
  written by the main loop when SIGINT or SIGTERM asks it to stop after
  the epoch or the batch (also kept in ``status``).
- :data:`GOT_EXCEPTION`, the traceback of the error that stopped training.
- :data:`SAVED_TO`, the tuple of paths
  :class:`~blocks.extensions.saveload.Checkpoint` saved to in this row
  (``None`` for a failed save); :data:`LOADED_FROM`, the path
  :class:`~blocks.extensions.saveload.Load` loaded.
- ``<record><BEST_SO_FAR_SUFFIX>`` (``valid_cost_best_so_far``), written
  by :class:`~blocks.extensions.training.TrackTheBest` when ``<record>``
  reaches a new best; ``<notification><PATIENCE_EPOCHS_SUFFIX>`` or
  ``<PATIENCE_ITERATIONS_SUFFIX>``, the patience left, by
  :class:`~blocks.extensions.stopping.FinishIfNoImprovementAfter`.

Status keys (``log.status``): :data:`ITERATIONS_DONE`, :data:`EPOCHS_DONE`,
:data:`EPOCH_ENDS` (iterations done at the end of each epoch),
:data:`RESUMED_FROM`, :data:`TRAINING_STARTED`, :data:`EPOCH_STARTED`,
:data:`RECEIVED_FIRST_BATCH`, the two interrupt keys above, and
``<BEST_PREFIX><record>`` (``best_valid_cost``), the best value so far.

A record *notifies* an event when it is in the row with a true value
(:func:`record_notified`); every extension that watches a notification
uses this one rule.
"""
from collections.abc import Mapping
from typing import Any

# Records in a row.
TRAINING_FINISH_REQUESTED = 'training_finish_requested'
TRAINING_FINISHED = 'training_finished'
EPOCH_INTERRUPT_RECEIVED = 'epoch_interrupt_received'
BATCH_INTERRUPT_RECEIVED = 'batch_interrupt_received'
GOT_EXCEPTION = 'got_exception'
SAVED_TO = 'saved_to'
LOADED_FROM = 'loaded_from'
BEST_SO_FAR_SUFFIX = '_best_so_far'
PATIENCE_EPOCHS_SUFFIX = '_patience_epochs'
PATIENCE_ITERATIONS_SUFFIX = '_patience_iterations'

# Keys of the status.
ITERATIONS_DONE = 'iterations_done'
EPOCHS_DONE = 'epochs_done'
EPOCH_ENDS = '_epoch_ends'
RESUMED_FROM = 'resumed_from'
TRAINING_STARTED = 'training_started'
EPOCH_STARTED = 'epoch_started'
RECEIVED_FIRST_BATCH = 'received_first_batch'
BEST_PREFIX = 'best_'

#: The records and status keys whose values are flags (``True`` when set).
#: A log backend may read them back as ``1``; printing shows them as
#: booleans whatever the backend.
FLAGS = frozenset([TRAINING_FINISH_REQUESTED, TRAINING_FINISHED,
                   EPOCH_INTERRUPT_RECEIVED, BATCH_INTERRUPT_RECEIVED,
                   TRAINING_STARTED, EPOCH_STARTED, RECEIVED_FIRST_BATCH])

#: The records and status keys that say where training stands, as opposed
#: to measurements; printing shows them first.
STATUS_RECORDS = FLAGS | {GOT_EXCEPTION, SAVED_TO, LOADED_FROM,
                          ITERATIONS_DONE, EPOCHS_DONE, RESUMED_FROM}


def record_notified(row: Mapping[str, Any], record_name: str) -> bool:
    """Whether ``row`` notifies ``record_name``: present with a true value.

    Examples
    --------
    >>> record_notified({'cost_best_so_far': True}, 'cost_best_so_far')
    True
    >>> record_notified({'cost_best_so_far': False}, 'cost_best_so_far')
    False
    >>> record_notified({}, 'cost_best_so_far')
    False
    """
    return bool(row.get(record_name, False))


def is_flag(name: str) -> bool:
    """Whether the record or status key ``name`` holds a flag."""
    return name in FLAGS or name.endswith(BEST_SO_FAR_SUFFIX)
