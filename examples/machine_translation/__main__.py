"""``python -m examples.machine_translation``: train (see ``--help``)."""
import sys

from examples.machine_translation.train import main

sys.exit(main())
