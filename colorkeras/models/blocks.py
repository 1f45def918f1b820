"""Shared building blocks and hyperparameter checks for every architecture.

Each ``apply_*`` function takes a tensor and returns a tensor, and names its
layers after ``name`` (``enc2_block1`` gives ``enc2_block1_conv``,
``enc2_block1_bn``, ...). Stable names are what let weights trained on one
input size load into a graph built for another, and what makes a saved
network readable in ``model.summary()``.
"""

import numbers

import keras
from keras import layers

from colorkeras.color import output_activation, output_channels
from colorkeras.errors import InputError
from colorkeras.models.batch_norm import FusedBatchNormalization

UPSAMPLING_MODES = ("transpose", "nearest", "bilinear")
DOWNSAMPLING_MODES = ("max", "avg", "strided")


# --- hyperparameter checks -------------------------------------------------
# They run before any layer is built, so a bad grid point in a search or a
# typo on the command line fails at once with the offending value.


def check_positive_int(name, value):
    """Require a positive integer (a bool is not one)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or value < 1
    ):
        raise InputError(
            f"`{name}` must be a positive integer. Received: {name}={value!r}"
        )
    return int(value)


def check_bool(name, value):
    """Require True or False, not merely something truthy like "no"."""
    if not isinstance(value, bool):
        raise InputError(
            f"`{name}` must be True or False. Received: {name}={value!r}"
        )
    return value


def check_kernel_size(name, value):
    """Require an odd kernel size, so 'same' padding stays centred.

    An even kernel shifts features by half a pixel, and colours would drift
    away from the edges they belong to.
    """
    value = check_positive_int(name, value)
    if value % 2 == 0:
        raise InputError(
            f"`{name}` must be odd. Received: {name}={value!r}"
        )
    return value


def check_activation(name, value):
    """Require the name of a Keras activation (a string keeps it saveable)."""
    try:
        if not isinstance(value, str):
            raise ValueError
        keras.activations.get(value)
    except ValueError:
        raise InputError(
            f"`{name}` must be the name of a Keras activation, such as "
            f"'relu', 'leaky_relu', 'elu', 'gelu' or 'swish'. "
            f"Received: {name}={value!r}"
        ) from None
    return value


def check_rate(name, value):
    """Require a rate in [0, 1): a rate of 1 would drop everything."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not 0.0 <= value < 1.0
    ):
        raise InputError(
            f"`{name}` must be a number in [0, 1). Received: {name}={value!r}"
        )
    return float(value)


def check_choice(name, value, choices):
    """Require one of a fixed set of option names."""
    if value not in choices:
        raise InputError(
            f"`{name}` must be one of {list(choices)}. "
            f"Received: {name}={value!r}"
        )
    return value


def check_block_args(kernel_size, activation, dropout):
    """Check the per-block settings every architecture shares.

    Returns them as the keyword arguments the ``apply_*`` blocks take.
    """
    return dict(
        kernel_size=check_kernel_size("kernel_size", kernel_size),
        activation=check_activation("activation", activation),
        dropout=check_rate("dropout", dropout),
    )


def check_input_shape(input_shape, multiple=1):
    """Require ``(height, width, channels)`` with sizes the network can take.

    Height and width may be ``None`` (any size); a fixed size must be a
    multiple of ``multiple`` so every down-sampling is undone exactly.
    """
    shape = tuple(input_shape) if isinstance(input_shape, (tuple, list)) else ()
    ok = len(shape) == 3 and all(
        d is None or (isinstance(d, numbers.Integral) and d > 0)
        for d in shape
    )
    if not ok or shape[2] is None:
        raise InputError(
            "`input_shape` must be (height, width, channels) with positive "
            "or None height and width and a known channel count. "
            f"Received: input_shape={input_shape!r}"
        )
    for size in shape[:2]:
        if size is not None and size % multiple:
            raise InputError(
                f"This network halves its input {multiple.bit_length() - 1} "
                f"times, so height and width must be multiples of "
                f"{multiple}. Received: input_shape={input_shape!r}"
            )
    return shape


# --- layers ----------------------------------------------------------------


def apply_bn_act(x, activation="relu", name=None):
    """Batch normalization then activation: the 'pre-activation' of v2 nets."""
    x = FusedBatchNormalization(name=f"{name}_bn")(x)
    return layers.Activation(activation, name=f"{name}_act")(x)


def apply_dropout(x, dropout, name=None):
    """Drop whole feature maps: neighbouring pixels are too correlated for
    element-wise dropout to regularize a convolution."""
    if dropout > 0:
        x = layers.SpatialDropout2D(dropout, name=f"{name}_dropout")(x)
    return x


def apply_conv_bn_act(
    x,
    filters,
    kernel_size=3,
    strides=1,
    dilation_rate=1,
    activation="relu",
    dropout=0.0,
    name=None,
):
    """Conv (no bias: batch norm re-centres) -> BN -> activation -> dropout.

    Args:
        x: tensor, channels last.
        filters: int, output channels.
        kernel_size: int, odd.
        strides: int, 2 halves the resolution.
        dilation_rate: int, spacing of the kernel taps.
        activation: str, a Keras activation name.
        dropout: float in [0, 1), spatial dropout after the activation.
        name: str, prefix of the layer names.
    """
    x = layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        dilation_rate=dilation_rate,
        padding="same",
        use_bias=False,
        name=f"{name}_conv",
    )(x)
    x = apply_bn_act(x, activation, name=name)
    return apply_dropout(x, dropout, name=name)


def apply_bn_act_conv(
    x,
    filters,
    kernel_size=3,
    strides=1,
    activation="relu",
    dropout=0.0,
    name=None,
):
    """BN -> activation -> dropout -> conv: the pre-activation order.

    ResNet v2 and DenseNet put normalization before each convolution, so the
    identity / concatenation paths carry un-normalized features untouched.
    Args as in `apply_conv_bn_act`.
    """
    x = apply_bn_act(x, activation, name=name)
    x = apply_dropout(x, dropout, name=name)
    return layers.Conv2D(
        filters,
        kernel_size,
        strides=strides,
        padding="same",
        use_bias=False,
        name=f"{name}_conv",
    )(x)


def apply_downsample(x, mode="max", filters=None, activation="relu", name=None):
    """Halve height and width.

    Args:
        mode: "max" or "avg" pooling (keeps the channel count), or "strided"
            (a stride-2 conv -> BN -> activation to ``filters`` channels,
            which learns what to keep).
    """
    if mode == "max":
        return layers.MaxPooling2D(2, name=f"{name}_pool")(x)
    if mode == "avg":
        return layers.AveragePooling2D(2, name=f"{name}_pool")(x)
    filters = filters or x.shape[-1]
    return apply_conv_bn_act(
        x, filters, strides=2, activation=activation, name=name
    )


def apply_upsample(x, filters, mode="transpose", name=None):
    """Double height and width, mapping to ``filters`` channels.

    Args:
        mode: "transpose" for a 2x2 stride-2 transposed conv (its taps never
            overlap, so it has no checkerboard artefacts), or "nearest" /
            "bilinear" for a fixed resize followed by a 3x3 conv.
    """
    if mode == "transpose":
        return layers.Conv2DTranspose(
            filters, 2, strides=2, name=f"{name}_transpose"
        )(x)
    x = layers.UpSampling2D(2, interpolation=mode, name=f"{name}_upsample")(x)
    return layers.Conv2D(filters, 3, padding="same", name=f"{name}_conv")(x)


def apply_output_head(x, color_space, upscale=1):
    """1x1 conv to the target's channels, squashed to the target's range.

    It computes in float32 so a mixed-precision network still returns
    float32. The last layer is named ``<color_space>_output``. With
    ``upscale`` > 1 the conv (``<color_space>_head``) works at that fraction
    of the resolution and a bilinear resize, the named last layer, brings
    the chroma to full size.
    """
    name = f"{color_space}_output"
    conv_name = name if upscale == 1 else f"{color_space}_head"
    x = layers.Conv2D(
        output_channels(color_space),
        1,
        activation=output_activation(color_space),
        dtype="float32",
        name=conv_name,
    )(x)
    return upscale_output(x, upscale, name)


@keras.saving.register_keras_serializable(package="colorkeras")
class BilinearUpscale(layers.Layer):
    """Resize height and width up by an integer ``factor``, bilinearly.

    Keras's ``UpSampling2D(interpolation="bilinear")`` computes its target
    size with Python arithmetic on the shape, which fails inside a
    `tf.function` on images of unknown size (every export and `colorize`
    trace); this does it with tensor ops. The same TF resize kernel runs.
    """

    def __init__(self, factor, **kwargs):
        super().__init__(**kwargs)
        self.factor = check_positive_int("factor", factor)

    def call(self, inputs):
        import tensorflow as tf

        size = tf.shape(inputs)[1:3] * self.factor
        return tf.cast(tf.image.resize(inputs, size, method="bilinear"), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        scaled = [None if d is None else d * self.factor for d in input_shape[1:3]]
        return (input_shape[0], *scaled, input_shape[3])

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


def upscale_output(x, upscale, name):
    """The bilinear resize that closes a network whose head is at 1/``upscale``."""
    if upscale == 1:
        return x
    return BilinearUpscale(upscale, dtype="float32", name=name)(x)


def gray_input(input_shape):
    """The network input: BT.601 luma in [0, 1], named for readability."""
    return keras.Input(shape=input_shape, name="gray")
