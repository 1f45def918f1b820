"""Pixel losses chosen by name, as the study compared them."""

import keras

from colorkeras.choices import LOSSES
from colorkeras.errors import InputError


def get_loss(name, huber_delta=1.0):
    """A Keras loss for ``"mae"``, ``"mse"`` or ``"huber"``.

    Targets lie in [0, 1] (rgb) or about [-1, 1] (chroma), so the Huber loss
    with the default ``delta=1`` is quadratic for almost every pixel; lower it
    to get the robust, MAE-like tail.
    """
    if name == "mae":
        return keras.losses.MeanAbsoluteError()
    if name == "mse":
        return keras.losses.MeanSquaredError()
    if name == "huber":
        return keras.losses.Huber(delta=huber_delta)
    raise InputError(f"`loss` must be one of {list(LOSSES)}. Received: loss={name!r}")
