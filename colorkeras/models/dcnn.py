"""Deep plain CNN: a stack of conv -> BN -> activation at full resolution.

No down-sampling and no skips, so the output keeps every input pixel's
position exactly and the input may have any size. A plain 3x3 stack sees
only ``2 * depth + 1`` pixels, far too little context to tell sky from sea;
dilated kernels grow the view without losing resolution or adding weights.
"""

from colorkeras.models import blocks
from colorkeras.models.network import ColorizationNetwork

DILATION_CYCLE = 4


def dilation_rates(depth, dilation_growth):
    """Dilation of each block: ``growth ** (i % 4)``, e.g. 1, 2, 4, 8, 1, 2, ...

    Restarting the cycle (hybrid dilated convolution) lets later blocks fill
    the holes earlier dilated kernels leave, avoiding a gridded output. The
    last block is always undilated so the head sees a dense neighbourhood.
    """
    rates = [dilation_growth ** (i % DILATION_CYCLE) for i in range(depth)]
    rates[-1] = 1
    return rates


def receptive_field(depth, kernel_size=3, dilation_growth=2):
    """Side, in pixels, of the input window one output pixel depends on."""
    rates = dilation_rates(depth, dilation_growth)
    return 1 + sum((kernel_size - 1) * rate for rate in rates)


class DCNN(ColorizationNetwork):
    """The deep plain CNN.

    With the defaults, the dilations cycle 1, 2, 4, 8 and one output pixel
    sees a 77x77 window (`receptive_field(12)`); ``dilation_growth=1`` turns
    dilation off (a 25x25 window).

    Args:
        input_shape: (height, width, 1); ``None`` sizes take any image.
        color_space: "rgb", "lab" or "yuv", the target the head predicts.
        depth: int, number of conv blocks.
        filters: int, width of every block.
        kernel_size: int, odd kernel size of every block.
        activation: str, Keras activation of every block.
        dropout: float in [0, 1), spatial dropout after every block.
        dilation_growth: int >= 1, factor between successive dilations
            within a cycle of four blocks (see `dilation_rates`).
        head, temperature: see `colorkeras.models.network.HEAD_HPARAMS`.

    Examples:
    ```python
    model = DCNN(depth=8, filters=32, dilation_growth=1)
    model.predict(np.zeros((1, 50, 70, 1), "float32")).shape  # (1, 50, 70, 3)
    ```
    """

    HPARAMS = dict(depth=12, filters=48, kernel_size=3, activation="relu", dropout=0.0,
                   dilation_growth=2)

    @classmethod
    def features(cls, inputs, depth, filters, kernel_size, activation, dropout, dilation_growth):
        depth = blocks.check_positive_int("depth", depth)
        filters = blocks.check_positive_int("filters", filters)
        block_args = blocks.check_block_args(kernel_size, activation, dropout)
        dilation_growth = blocks.check_positive_int("dilation_growth", dilation_growth)

        x = inputs
        for index, rate in enumerate(dilation_rates(depth, dilation_growth), 1):
            x = blocks.apply_conv_bn_act(
                x, filters, dilation_rate=rate, name=f"block{index}", **block_args
            )
        return x, 1
