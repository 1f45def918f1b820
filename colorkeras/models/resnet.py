"""ResNet v2: pre-activation bottleneck residual blocks, as an encoder-decoder.

Each block adds a learned correction to an identity path (He et al., 2016,
"Identity Mappings in Deep Residual Networks"), so depth costs little in
trainability. Stages after the first halve the resolution (a stride-2 3x3
conv in the residual path and a stride-2 1x1 projection on the shortcut); a
mirrored decoder doubles it back and adds the encoder's stage output of the
same size, so the output is as large as the input.
"""

from keras import layers

from colorkeras.errors import InputError
from colorkeras.models import blocks
from colorkeras.models.network import ColorizationNetwork

BOTTLENECK_RATIO = 4


def apply_bottleneck_block(
    x, filters, kernel_size=3, strides=1, activation="relu", dropout=0.0,
    name=None,
):
    """Pre-activation bottleneck: BN-act, 1x1 to filters/4, 3x3, 1x1 back up.

    The shortcut is the identity when shape is kept, else a 1x1 projection
    of the pre-activated input (strided along with the 3x3 conv).
    """
    preact = blocks.apply_bn_act(x, activation, name=f"{name}_preact")
    if strides > 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(
            filters, 1, strides=strides, use_bias=False,
            name=f"{name}_shortcut_conv",
        )(preact)
    else:
        shortcut = x
    inner = filters // BOTTLENECK_RATIO
    y = layers.Conv2D(inner, 1, use_bias=False, name=f"{name}_1_conv")(preact)
    y = blocks.apply_bn_act_conv(
        y, inner, kernel_size, strides, activation, name=f"{name}_2"
    )
    y = blocks.apply_bn_act_conv(
        y, filters, 1, activation=activation, dropout=dropout, name=f"{name}_3"
    )
    return layers.Add(name=f"{name}_add")([shortcut, y])


def apply_stage(x, filters, num_blocks, strides, name, **block_args):
    """``num_blocks`` bottleneck blocks; the first one may down-sample."""
    for index in range(1, num_blocks + 1):
        x = apply_bottleneck_block(
            x, filters, strides=strides if index == 1 else 1,
            name=f"{name}_block{index}", **block_args,
        )
    return x


class ResNet(ColorizationNetwork):
    """The ResNet v2 encoder-decoder.

    Stage ``s`` (1-based) has ``base_filters * 2**(s-1)`` channels at
    ``1 / 2**(s-1)`` of the input resolution when ``downsample`` is on. With
    it off every stage keeps full resolution and ``base_filters`` channels
    (widening without down-sampling would multiply the cost per stage), and
    there is no decoder.

    Args:
        input_shape: (height, width, 1); ``None`` sizes take any image whose
            sides are multiples of ``2**(stages-1)`` (any size without
            down-sampling).
        color_space: "rgb", "lab" or "yuv", the target the head predicts.
        base_filters: int, a multiple of 4: the block width of stage 1 (its
            bottleneck convs are a quarter as wide).
        stages: int, number of encoder stages.
        blocks_per_stage: int, bottleneck blocks per stage, in the encoder
            and in each mirrored decoder stage.
        downsample: bool, halve the resolution at each stage after the first.
        kernel_size: int, odd kernel size of the stem and the middle convs.
        activation: str, Keras activation of every pre-activation.
        dropout: float in [0, 1), spatial dropout before each block's last
            1x1 conv.
        upsampling: "transpose" (2x2 stride-2 transposed conv), "nearest" or
            "bilinear" (resize then 3x3 conv), for the decoder.
        head, temperature: see `colorkeras.models.network.HEAD_HPARAMS`.

    Examples:
    ```python
    model = ResNet(base_filters=32, stages=3, blocks_per_stage=1)
    model.predict(np.zeros((1, 64, 64, 1), "float32")).shape  # (1, 64, 64, 3)
    ```
    """

    HPARAMS = dict(base_filters=64, stages=4, blocks_per_stage=2, downsample=True, kernel_size=3,
                   activation="relu", dropout=0.0, upsampling="transpose")

    @classmethod
    def size_multiple_for(cls, **hparams):
        if not blocks.check_bool("downsample", hparams["downsample"]):
            return 1
        return 2 ** (blocks.check_positive_int("stages", hparams["stages"]) - 1)

    @classmethod
    def features(cls, inputs, base_filters, stages, blocks_per_stage, downsample, kernel_size,
                 activation, dropout, upsampling):
        base_filters = blocks.check_positive_int("base_filters", base_filters)
        if base_filters % BOTTLENECK_RATIO:
            raise InputError(
                f"`base_filters` must be a multiple of {BOTTLENECK_RATIO}, the "
                f"bottleneck ratio. Received: base_filters={base_filters}"
            )
        stages = blocks.check_positive_int("stages", stages)
        blocks_per_stage = blocks.check_positive_int("blocks_per_stage", blocks_per_stage)
        blocks.check_bool("downsample", downsample)
        block_args = blocks.check_block_args(kernel_size, activation, dropout)
        blocks.check_choice("upsampling", upsampling, blocks.UPSAMPLING_MODES)
        levels = stages if downsample else 1

        def width(stage):
            return base_filters * 2 ** (stage - 1) if downsample else base_filters

        x = layers.Conv2D(
            base_filters, kernel_size, padding="same", use_bias=False,
            name="stem_conv",
        )(inputs)
        skips = []
        for s in range(1, stages + 1):
            strides = 2 if downsample and s > 1 else 1
            x = apply_stage(
                x, width(s), blocks_per_stage, strides, f"stage{s}", **block_args
            )
            skips.append(x)

        for s in range(levels - 1, 0, -1):
            x = blocks.apply_bn_act(x, activation, name=f"dec{s}_up_preact")
            x = blocks.apply_upsample(x, width(s), upsampling, name=f"dec{s}_up")
            x = layers.Add(name=f"dec{s}_skip")([x, skips[s - 1]])
            x = apply_stage(
                x, width(s), blocks_per_stage, 1, f"dec{s}", **block_args
            )

        x = blocks.apply_bn_act(x, activation, name="post")
        return x, 1
