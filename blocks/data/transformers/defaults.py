"""Default transformer chains of datasets
(``fuel.transformers.defaults``)."""
from typing import Any

from blocks.data.transformers.base import SourcewiseTransformer
from blocks.data.transformers.elementwise import Cast, ScaleAndShift


def uint8_pixels_to_floatX(which_sources: tuple[str, ...]) -> tuple:
    """Default transformers scaling uint8 pixels to floatX values in [0, 1].

    Examples
    --------
    >>> [cls.__name__ for cls, _, _ in uint8_pixels_to_floatX(('features',))]
    ['ScaleAndShift', 'Cast']

    """
    return ((ScaleAndShift, [1 / 255.0, 0], {'which_sources': which_sources}),
            (Cast, ['floatX'], {'which_sources': which_sources}))


class ToBytes(SourcewiseTransformer):
    """Turn arrays into their raw bytes.

    An example becomes a ``bytes`` object, a batch a list of them. Axis
    labels become ``('batch', 'bytes')`` or ``('bytes',)``.

    """

    def __init__(self, stream: Any, **kwargs: Any) -> None:
        kwargs.setdefault('produces_examples', stream.produces_examples)
        # Upstream wrote into the wrapped stream's labels; work on a copy.
        axis_labels = dict(stream.axis_labels or {})
        for source in kwargs.get('which_sources', stream.sources):
            axis_labels[source] = (
                ('batch', 'bytes')
                if 'batch' in (axis_labels.get(source) or ())
                else ('bytes',))
        kwargs.setdefault('axis_labels', axis_labels)
        super().__init__(stream, **kwargs)

    def transform_source_example(self, example: Any, _: str) -> bytes:
        return example.tobytes()

    def transform_source_batch(self, batch: Any, _: str) -> list[bytes]:
        return [example.tobytes() for example in batch]


def rgb_images_from_encoded_bytes(which_sources: tuple[str, ...]) -> tuple:
    """Default transformers decoding images stored as encoded bytes.

    Upstream pairs :class:`ToBytes` with ``ImagesFromBytes`` of
    ``fuel.transformers.image``, which needs PIL and is not part of this
    port.

    Raises
    ------
    NotImplementedError
        Always: there is no image decoding transformer here.

    """
    raise NotImplementedError(
        "rgb_images_from_encoded_bytes needs ImagesFromBytes "
        "(fuel.transformers.image), which blocks.data does not provide; "
        "decode the images with a Mapping instead")
