"""DenseNet-BC as a fully convolutional encoder-decoder (FC-DenseNet).

Inside a dense block every layer sees the concatenation of all earlier
feature maps and adds ``growth_rate`` new ones (Huang et al., 2017), through
a bottleneck: BN-act-1x1 conv to ``4 * growth_rate``, BN-act-3x3 conv to
``growth_rate``. Transition layers compress the channels (BN-act-1x1 conv)
and halve the resolution (2x2 average pooling).

Choice: rather than keep full resolution, where a dense block of L layers
sees only about ``2L + 1`` pixels, the network goes down ``blocks`` times and
mirrors that with up-sampling and skip concatenations, as the "Tiramisu"
FC-DenseNet of Jegou et al. (2017) does for segmentation. The output is as
large as the input; sides must be multiples of ``2**blocks``.
"""

import numbers

from keras import layers

from colorkeras.errors import InputError
from colorkeras.models.blocks import (
    UPSAMPLING_MODES,
    apply_bn_act,
    apply_bn_act_conv,
    apply_downsample,
    apply_upsample,
    check_block_args,
    check_choice,
    check_positive_int,
)
from colorkeras.models.network import ColorizationNetwork

BOTTLENECK_WIDTH = 4  # the 1x1 conv of a dense layer has 4 * growth_rate maps


def apply_dense_layer(x, growth_rate, kernel_size, activation, dropout, name):
    """Add ``growth_rate`` new feature maps to ``x`` (BN-act-1x1, BN-act-3x3)."""
    y = apply_bn_act_conv(
        x, BOTTLENECK_WIDTH * growth_rate, 1, activation=activation,
        name=f"{name}_1",
    )
    y = apply_bn_act_conv(
        y, growth_rate, kernel_size, activation=activation, dropout=dropout,
        name=f"{name}_2",
    )
    return layers.Concatenate(name=f"{name}_concat")([x, y])


def apply_dense_block(x, num_layers, name, **layer_args):
    """``num_layers`` dense layers, each fed with everything before it."""
    for index in range(1, num_layers + 1):
        x = apply_dense_layer(x, name=f"{name}_layer{index}", **layer_args)
    return x


def compressed(x, compression):
    """Channels left after a transition: a ``compression`` share of them."""
    return max(1, int(x.shape[-1] * compression))


class DenseNet(ColorizationNetwork):
    """The DenseNet encoder-decoder.

    Stem conv to ``2 * growth_rate`` maps, then ``blocks`` times: dense block,
    transition down; a bottleneck dense block; then ``blocks`` times: BN-act,
    up-sampling to a ``compression`` share of the channels, concatenation
    with the encoder block of the same size, dense block.

    Args:
        input_shape: (height, width, 1); ``None`` sizes take any image whose
            sides are multiples of ``2**blocks``.
        color_space: "rgb", "lab" or "yuv", the target the head predicts.
        blocks: int, number of down-sampling transitions (and of mirrored
            up-samplings).
        layers_per_block: int, dense layers in every dense block.
        growth_rate: int, feature maps each dense layer adds.
        compression: float in (0, 1], share of channels a transition keeps.
        kernel_size: int, odd kernel size of the dense layers' spatial conv.
        activation: str, Keras activation of every pre-activation.
        dropout: float in [0, 1), spatial dropout before each spatial conv.
        upsampling: "transpose" (2x2 stride-2 transposed conv), "nearest" or
            "bilinear" (resize then 3x3 conv).
        head, temperature: see `colorkeras.models.network.HEAD_HPARAMS`.

    Examples:
    ```python
    model = DenseNet(blocks=2, layers_per_block=3, growth_rate=8)
    model.predict(np.zeros((1, 32, 32, 1), "float32")).shape  # (1, 32, 32, 3)
    ```
    """

    HPARAMS = dict(blocks=3, layers_per_block=4, growth_rate=12, compression=0.5, kernel_size=3,
                   activation="relu", dropout=0.0, upsampling="transpose")

    @classmethod
    def size_multiple_for(cls, **hparams):
        return 2 ** check_positive_int("blocks", hparams["blocks"])

    @classmethod
    def features(cls, inputs, blocks, layers_per_block, growth_rate, compression, kernel_size,
                 activation, dropout, upsampling):
        blocks = check_positive_int("blocks", blocks)
        layers_per_block = check_positive_int("layers_per_block", layers_per_block)
        growth_rate = check_positive_int("growth_rate", growth_rate)
        if (
            isinstance(compression, bool)
            or not isinstance(compression, numbers.Real)
            or not 0 < compression <= 1
        ):
            raise InputError(
                "`compression` must be a number in (0, 1]. "
                f"Received: compression={compression!r}"
            )
        block_args = dict(
            num_layers=layers_per_block,
            growth_rate=growth_rate,
            **check_block_args(kernel_size, activation, dropout),
        )
        check_choice("upsampling", upsampling, UPSAMPLING_MODES)

        x = layers.Conv2D(
            2 * growth_rate, kernel_size, padding="same", use_bias=False,
            name="stem_conv",
        )(inputs)
        skips = []
        for i in range(1, blocks + 1):
            x = apply_dense_block(x, name=f"enc{i}", **block_args)
            skips.append(x)
            x = apply_bn_act_conv(
                x, compressed(x, compression), 1, activation=activation,
                name=f"enc{i}_down",
            )
            x = apply_downsample(x, "avg", name=f"enc{i}_down")

        x = apply_dense_block(x, name="bottleneck", **block_args)

        for i in range(blocks, 0, -1):
            x = apply_bn_act(x, activation, name=f"dec{i}_up_preact")
            x = apply_upsample(
                x, compressed(x, compression), upsampling, name=f"dec{i}_up"
            )
            x = layers.Concatenate(name=f"dec{i}_concat")([x, skips[i - 1]])
            x = apply_dense_block(x, name=f"dec{i}", **block_args)

        x = apply_bn_act(x, activation, name="post")
        return x, 1
