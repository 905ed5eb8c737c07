"""Helpers for testing code that uses blocks."""
import logging
import sys
import time
import unittest
from functools import wraps
from importlib import import_module
from io import StringIO

from blocks.algorithms import TrainingAlgorithm
from blocks.config import config
from blocks.data import config as data_config
from blocks.data.datasets import IterableDataset
from blocks.data.exceptions import ConfigurationError
from blocks.data.utils import find_in_data_path
from blocks.main_loop import MainLoop


def silence_printing(test):
    """Decorator that mutes stdout and the blocks logger during a call."""
    @wraps(test)
    def wrapper(*args, **kwargs):
        stdout = sys.stdout
        sys.stdout = StringIO()
        logger = logging.getLogger('blocks')
        old_level = logger.level
        logger.setLevel(logging.ERROR)
        try:
            test(*args, **kwargs)
        finally:
            sys.stdout = stdout
            logger.setLevel(old_level)
    return wrapper


def skip_if_not_available(modules=None, datasets=None, configurations=None):
    """Raise :class:`unittest.SkipTest` if requirements are missing.

    Parameters
    ----------
    modules : list of str, optional
        Modules that must be importable.
    datasets : list of str, optional
        Files that must be in ``blocks.data.config.data_path``.
    configurations : list of str, optional
        Attributes that ``blocks.config.config`` must have.
    """
    if modules is None:
        modules = []
    if datasets is None:
        datasets = []
    if configurations is None:
        configurations = []
    for module in modules:
        try:
            import_module(module)
        except Exception:
            raise unittest.SkipTest(
                f"module {module} is not available") from None
    if datasets:
        try:
            data_path = data_config.data_path
        except ConfigurationError:
            data_path = None
        if not data_path:
            raise unittest.SkipTest("the data path is not set")
        for dataset in datasets:
            try:
                find_in_data_path(dataset)
            except OSError:
                raise unittest.SkipTest(
                    f"dataset {dataset} is not found") from None
    for configuration in configurations:
        if not hasattr(config, configuration):
            raise unittest.SkipTest(
                f"configuration {configuration} is not set")


def skip_if_configuration_set(configuration, value, message=None):
    """Raise :class:`unittest.SkipTest` if a configuration has a value."""
    if getattr(config, configuration) == value:
        if message is not None:
            raise unittest.SkipTest(message)
        raise unittest.SkipTest


class MockAlgorithm(TrainingAlgorithm):
    """An algorithm that only remembers the last batch.

    Parameters
    ----------
    delay_time : float
        Seconds to sleep in each :meth:`process_batch`.
    """

    def __init__(self, delay_time=0):
        self.delay_time = delay_time

    def initialize(self):
        assert not hasattr(self, 'initialized')
        self.initialized = True

    def process_batch(self, batch):
        self.batch = batch
        time.sleep(self.delay_time)


class MockMainLoop(MainLoop):
    """A main loop over ``range(10)`` with :class:`MockAlgorithm`."""

    def __init__(self, delay_time=0, **kwargs):
        kwargs.setdefault('data_stream',
                          IterableDataset(range(10)).get_example_stream())
        kwargs.setdefault('algorithm', MockAlgorithm(delay_time))
        super().__init__(**kwargs)
