"""Stop training when a trigger fires."""
from blocks.extensions.base import SimpleExtension


class FinishAfter(SimpleExtension):
    """Finishes the training process when triggered.

    Examples
    --------
    >>> stop_after_ten_epochs = FinishAfter(after_n_epochs=10)
    """

    def do(self, which_callback, *args):
        self.main_loop.log.current_row['training_finish_requested'] = True
