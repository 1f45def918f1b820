"""Serializable layers that turn a network's output into an any-size colorizer's.

A colorkeras network needs sides that are multiples of its down-sampling
factor, and predicts its target in a colour space (RGB, or a chroma pair).
`colorkeras.colorizer.Colorizer` puts these layers around it so that it takes
gray of any size and returns RGB of the same size. They are registered with
Keras, so the colorizer saves to ``.keras`` and loads back with
``safe_mode=True`` (no Lambda layers, no pickled code).
"""

import keras
import tensorflow as tf

from colorkeras import color
from colorkeras.errors import InputError


def _padding(size, multiple):
    """(before, after) that bring ``size`` to a multiple, split about evenly.

    Only non-negative operands go into ``%``: ONNX converters translate a
    floor-mod of a negative number as a truncating one.
    """
    total = (multiple - size % multiple) % multiple
    return total // 2, total - total // 2


def _reflect_indices(size, before, after):
    """Source index of every position of a reflect-padded axis.

    ``tf.pad(mode="REFLECT")`` refuses a pad as large as the axis, which any
    image smaller than the network's multiple (say 7x5 for a 16-multiple
    U-Net) needs. Folding positions back into the axis by the reflection
    period works for any pad, and is what REFLECT gives where REFLECT works.
    """
    period = tf.maximum(2 * (size - 1), 1)  # a 1-pixel axis repeats itself
    # Shifted by whole periods so that no position is negative (see `_padding`).
    shift = (before // period + 1) * period
    positions = tf.range(shift - before, shift + size + after)
    folded = tf.math.floormod(positions, period)
    return tf.where(folded >= size, period - folded, folded)


def _static_or_none(dim, fn):
    return None if dim is None else fn(dim)


@keras.saving.register_keras_serializable(package="colorkeras")
class PadToMultiple(keras.layers.Layer):
    """Reflect-pad height and width up to a multiple of ``multiple``.

    The padding is split between both sides (the extra pixel, if any, goes
    after), so `CropLike` can find the original back from the sizes alone.

    Args:
        multiple: positive int, e.g. `colorkeras.models.size_multiple(net)`.
    """

    def __init__(self, multiple, **kwargs):
        super().__init__(**kwargs)
        if isinstance(multiple, bool) or not isinstance(multiple, int) or multiple < 1:
            raise InputError(
                f"`multiple` must be a positive integer. Received: multiple={multiple!r}"
            )
        self.multiple = multiple

    def call(self, images):
        if self.multiple == 1:
            return images
        shape = tf.shape(images)
        for axis in (1, 2):
            before, after = _padding(shape[axis], self.multiple)
            indices = _reflect_indices(shape[axis], before, after)
            images = tf.gather(images, indices, axis=axis)
        return images

    def compute_output_shape(self, input_shape):
        def pad(dim):
            return dim + sum(_padding(dim, self.multiple))

        n, h, w, c = input_shape
        return (n, _static_or_none(h, pad), _static_or_none(w, pad), c)

    def get_config(self):
        return {**super().get_config(), "multiple": self.multiple}


@keras.saving.register_keras_serializable(package="colorkeras")
class CropLike(keras.layers.Layer):
    """Crop ``images`` to the height and width of ``reference``, centred.

    Undoes `PadToMultiple`: its padding puts ``(padded - size) // 2`` pixels
    before, which is exactly the offset taken here.
    """

    def call(self, inputs):
        images, reference = inputs
        size = tf.shape(reference)[1:3]
        offset = (tf.shape(images)[1:3] - size) // 2
        return images[
            :, offset[0]: offset[0] + size[0], offset[1]: offset[1] + size[1], :
        ]

    def compute_output_shape(self, input_shapes):
        images, reference = input_shapes
        return (images[0], reference[1], reference[2], images[3])


@keras.saving.register_keras_serializable(package="colorkeras")
class DecodeOutput(keras.layers.Layer):
    """RGB in [0, 1] from ``[gray, network output]``, via `color.decode_output`.

    Args:
        color_space: the space the network predicts: "rgb", "lab" or "yuv".
    """

    def __init__(self, color_space, **kwargs):
        super().__init__(**kwargs)
        self.color_space = color.check_color_space(color_space)

    def call(self, inputs):
        gray, output = inputs
        return color.decode_output(gray, output, self.color_space)

    def compute_output_shape(self, input_shapes):
        return (*input_shapes[0][:-1], 3)

    def get_config(self):
        return {**super().get_config(), "color_space": self.color_space}
