"""U-Net: an encoder-decoder whose skip connections carry fine detail across.

The encoder halves the resolution ``depth`` times and doubles the width each
time; the decoder mirrors it and concatenates, at every level, the encoder's
features of the same size. The bottleneck gives context (which object is
this?) and the skips give position (where exactly are its edges?), the two
things colorization needs. Ronneberger et al., 2015; also the Pix2Pix
generator.
"""

from keras import layers

from colorkeras.color import check_color_space
from colorkeras.models import blocks

CONVS_PER_LEVEL = 2


def apply_level(x, filters, name, **block_args):
    """The two conv -> BN -> activation blocks of one U-Net level."""
    for index in range(1, CONVS_PER_LEVEL + 1):
        x = blocks.apply_conv_bn_act(
            x, filters, name=f"{name}_block{index}", **block_args
        )
    return x


def build_unet(
    input_shape=(None, None, 1),
    color_space="rgb",
    depth=4,
    base_filters=16,
    kernel_size=3,
    activation="relu",
    dropout=0.0,
    upsampling="transpose",
):
    """Build the U-Net.

    Level ``i`` (1-based) of the encoder has ``base_filters * 2**(i-1)``
    channels at ``1 / 2**(i-1)`` of the input resolution; the bottleneck has
    ``base_filters * 2**depth`` channels at ``1 / 2**depth``. Inputs must
    therefore have sides that are multiples of ``2**depth``.

    Args:
        input_shape: (height, width, 1); ``None`` sizes take any image whose
            sides are multiples of ``2**depth``.
        color_space: "rgb", "lab" or "yuv", the target the head predicts.
        depth: int, number of 2x2 max-pool down-samplings (and of mirrored
            up-samplings).
        base_filters: int, width of the full-resolution level.
        kernel_size: int, odd kernel size of the conv blocks.
        activation: str, Keras activation of the conv blocks.
        dropout: float in [0, 1), spatial dropout after every conv block.
        upsampling: "transpose" (2x2 stride-2 transposed conv), "nearest" or
            "bilinear" (resize then 3x3 conv).

    Returns:
        A Functional `keras.Model` named "unet".

    Examples:
    ```python
    model = build_unet(depth=3, base_filters=16, color_space="yuv")
    model.predict(np.zeros((2, 64, 96, 1), "float32")).shape  # (2, 64, 96, 2)
    ```
    """
    check_color_space(color_space)
    depth = blocks.check_positive_int("depth", depth)
    base_filters = blocks.check_positive_int("base_filters", base_filters)
    block_args = blocks.check_block_args(kernel_size, activation, dropout)
    blocks.check_choice("upsampling", upsampling, blocks.UPSAMPLING_MODES)
    input_shape = blocks.check_input_shape(input_shape, multiple=2**depth)

    inputs = blocks.gray_input(input_shape)
    x = inputs
    skips = []
    for i in range(1, depth + 1):
        x = apply_level(x, base_filters * 2 ** (i - 1), name=f"enc{i}", **block_args)
        skips.append(x)
        x = blocks.apply_downsample(x, "max", name=f"enc{i}")

    x = apply_level(x, base_filters * 2**depth, name="bottleneck", **block_args)

    for i in range(depth, 0, -1):
        filters = base_filters * 2 ** (i - 1)
        x = blocks.apply_upsample(x, filters, upsampling, name=f"dec{i}_up")
        x = layers.Concatenate(name=f"dec{i}_concat")([x, skips[i - 1]])
        x = apply_level(x, filters, name=f"dec{i}", **block_args)
    return blocks.colorization_model(inputs, x, color_space, name="unet")
