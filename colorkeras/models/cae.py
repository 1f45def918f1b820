"""Convolutional auto-encoder: squeeze the photo through a bottleneck.

Fifteen conv -> BN -> activation blocks in five groups of three, with a
down-sampling step after each of the first two groups and an up-sampling step
before each of the last two. There are no skip connections: everything the
decoder knows has passed through the quarter-resolution bottleneck, which is
what makes it an auto-encoder (and the baseline the skip-connected U-Net is
measured against).
"""

from colorkeras.models import blocks
from colorkeras.models.network import ColorizationNetwork

BLOCKS_PER_GROUP = 3
# (group name, width multiplier, resampling step before the group)
GROUPS = (
    ("enc1", 1, None),
    ("enc2", 2, "down"),
    ("bottleneck", 4, "down"),
    ("dec2", 2, "up"),
    ("dec1", 1, "up"),
)


class CAE(ColorizationNetwork):
    """The convolutional auto-encoder.

    Widths are ``base_filters`` x (1, 2, 4, 2, 1) from the first group to the
    last: channels double each time the resolution halves.

    Args:
        input_shape: (height, width, 1); ``None`` sizes take any image whose
            sides are multiples of 4.
        color_space: "rgb", "lab" or "yuv", the target the head predicts.
        base_filters: int, width of the full-resolution groups.
        kernel_size: int, odd kernel size of every block.
        activation: str, Keras activation of every block.
        dropout: float in [0, 1), spatial dropout after every block.
        downsampling: "max", "avg" or "strided" (a stride-2 conv block).
        upsampling: "transpose" (2x2 stride-2 transposed conv), "nearest" or
            "bilinear" (resize then 3x3 conv).
        head, temperature: see `colorkeras.models.network.HEAD_HPARAMS`.

    Examples:
    ```python
    model = CAE(color_space="lab", base_filters=16)
    model.predict(np.zeros((1, 128, 128, 1), "float32")).shape  # (1,128,128,2)
    ```
    """

    HPARAMS = dict(base_filters=32, kernel_size=3, activation="relu", dropout=0.0,
                   downsampling="max", upsampling="transpose")
    SIZE_MULTIPLE = 4  # two halvings

    @classmethod
    def features(cls, inputs, base_filters, kernel_size, activation, dropout, downsampling,
                 upsampling):
        base_filters = blocks.check_positive_int("base_filters", base_filters)
        block_args = blocks.check_block_args(kernel_size, activation, dropout)
        blocks.check_choice("downsampling", downsampling, blocks.DOWNSAMPLING_MODES)
        blocks.check_choice("upsampling", upsampling, blocks.UPSAMPLING_MODES)

        x = inputs
        for group, multiplier, step in GROUPS:
            filters = base_filters * multiplier
            if step == "down":
                x = blocks.apply_downsample(
                    x, downsampling, filters, activation, name=f"{group}_down"
                )
            elif step == "up":
                x = blocks.apply_upsample(x, filters, upsampling, name=f"{group}_up")
            for index in range(1, BLOCKS_PER_GROUP + 1):
                x = blocks.apply_conv_bn_act(
                    x, filters, name=f"{group}_block{index}", **block_args
                )
        return x, 1
