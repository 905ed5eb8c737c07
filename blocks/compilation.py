"""The one place where blocks compiles PyTensor functions.

Every function that blocks compiles (the training step, monitoring, graph
helpers) goes through :func:`function`, so the mode and linker that users get
without flags are chosen here, once.
"""
import os

import pytensor
from pytensor.compile.mode import Mode


def user_chose_mode() -> bool:
    """Whether the user picked a PyTensor mode or linker through flags."""
    flags = os.environ.get('PYTENSOR_FLAGS', '')
    keys = {item.split('=', 1)[0].strip()
            for item in flags.split(',') if '=' in item}
    return bool(keys & {'mode', 'linker'})


def default_mode() -> Mode | None:
    """The mode blocks compiles with when the caller does not give one.

    ``None`` means "PyTensor's own default" and is returned when the user
    set ``mode`` or ``linker`` in ``PYTENSOR_FLAGS``.
    """
    if user_chose_mode():
        return None
    return Mode(linker='cvm', optimizer=pytensor.config.optimizer)


def function(inputs, outputs=None, **kwargs):
    """:func:`pytensor.function` with blocks' default mode."""
    if kwargs.get('mode') is None:
        kwargs['mode'] = default_mode()
    return pytensor.function(inputs, outputs, **kwargs)
