"""Converters building Fuel-layout HDF5 files from raw dataset files
(Fuel's ``fuel.converters``); run them with ``blocks-convert``."""
from blocks.data.converters import cifar10, mnist

__version__ = '0.2'

all_converters = (('cifar10', cifar10.fill_subparser),
                  ('mnist', mnist.fill_subparser))
