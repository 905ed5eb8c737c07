"""Print the status and the latest log records."""
from blocks.extensions.base import SimpleExtension

HEADINGS = {
    'before_epoch': 'BEFORE FIRST EPOCH',
    'on_resumption': 'TRAINING HAS BEEN RESUMED',
    'after_training': 'TRAINING HAS BEEN FINISHED:',
    'after_epoch': 'AFTER ANOTHER EPOCH',
    'on_interrupt': 'TRAINING HAS BEEN INTERRUPTED',
}


class Printing(SimpleExtension):
    """Prints log messages to the screen.

    By default prints before the first epoch, on resumption, after every
    epoch, after training and when training is interrupted.
    """

    def __init__(self, **kwargs):
        kwargs.setdefault("before_first_epoch", True)
        kwargs.setdefault("on_resumption", True)
        kwargs.setdefault("after_training", True)
        kwargs.setdefault("after_epoch", True)
        kwargs.setdefault("on_interrupt", True)
        super().__init__(**kwargs)

    def _print_attributes(self, attribute_tuples):
        for attr, value in sorted(attribute_tuples.items()):
            if not attr.startswith("_"):
                print("\t", f"{attr}:", value)

    def do(self, which_callback, *args):
        log = self.main_loop.log
        print()
        print(79 * "-")
        heading = HEADINGS.get(str(which_callback))
        if heading:
            print(heading)
        print(79 * "-")
        if which_callback != "on_interrupt":
            print("Training status:")
            self._print_attributes(log.status)
            print("Log records from the iteration {}:".format(
                log.status['iterations_done']))
            self._print_attributes(log.current_row)
        print()
