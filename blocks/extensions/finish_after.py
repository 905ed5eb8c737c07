"""Stop training when a trigger fires."""
from typing import Any

from blocks.extensions.base import SimpleExtension
from blocks.extensions.protocol import TRAINING_FINISH_REQUESTED


class FinishAfter(SimpleExtension):
    """Finishes the training process when triggered.

    Examples
    --------
    >>> stop_after_ten_epochs = FinishAfter(after_n_epochs=10)
    """

    def do(self, which_callback: str, *args: Any) -> None:
        self.main_loop.log.current_row[TRAINING_FINISH_REQUESTED] = True
