"""Tests of blocks.data.transformers.defaults."""
import numpy
import pytest

from blocks.data.datasets import IndexableDataset
from blocks.data.schemes import SequentialScheme
from blocks.data.streams import DataStream
from blocks.data.transformers import Cast, ScaleAndShift
from blocks.data.transformers.defaults import (ToBytes,
                                               rgb_images_from_encoded_bytes,
                                               uint8_pixels_to_floatX)


def test_uint8_pixels_to_floatX_scales_to_unit_floats(floatX):
    transformers = uint8_pixels_to_floatX(('features',))
    assert transformers == (
        (ScaleAndShift, [1 / 255.0, 0], {'which_sources': ('features',)}),
        (Cast, ['floatX'], {'which_sources': ('features',)}))
    dataset = IndexableDataset({'features': numpy.array([0, 255], 'uint8'),
                                'targets': numpy.array([1, 2], 'uint8')})
    dataset.default_transformers = transformers
    stream = DataStream.default_stream(
        dataset, iteration_scheme=SequentialScheme(2, 2))
    features, targets = next(stream.get_epoch_iterator())
    assert features.dtype == floatX and features.tolist() == [0., 1.]
    assert targets.dtype == numpy.uint8


def test_to_bytes_examples_and_batches():
    labels = {'x': ('batch', 'feature')}
    dataset = IndexableDataset({'x': numpy.arange(4, dtype='uint8')
                                .reshape(2, 2)}, axis_labels=labels)
    batches = ToBytes(DataStream(dataset,
                                 iteration_scheme=SequentialScheme(2, 2)))
    assert next(batches.get_epoch_iterator()) == ([b'\x00\x01',
                                                  b'\x02\x03'],)
    assert batches.axis_labels == {'x': ('batch', 'bytes')}
    assert dataset.axis_labels == labels
    examples = ToBytes(dataset.get_example_stream())
    assert next(examples.get_epoch_iterator()) == (b'\x00\x01',)
    assert examples.axis_labels == {'x': ('bytes',)}


def test_rgb_images_from_encoded_bytes_is_out_of_scope():
    with pytest.raises(NotImplementedError, match='ImagesFromBytes'):
        rgb_images_from_encoded_bytes(('features',))
