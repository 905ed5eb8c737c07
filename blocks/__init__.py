"""Blocks: a training library for neural networks built on PyTensor."""
from blocks.version import version as __version__

__all__ = ['__version__']
