"""Adam whose ImageNet-encoder weights learn at their own share of the rate.

A fresh decoder sends large, random gradients back; reaching an ImageNet
encoder they would wreck its features before the decoder has learned to use
them. So the encoder learns at ``encoder_scale`` times the rate (0 while it
is frozen, see `callbacks.EncoderSchedule`). One optimizer keeps Keras's own
``train_step`` (and a LossScaleOptimizer around it) in charge of every
weight, and the scale is a variable, so changing it needs no retracing and
is saved with the optimizer's state.
"""

import keras


@keras.saving.register_keras_serializable(package="colorkeras")
class EncoderAwareAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` with a learning-rate factor for the encoder's weights.

    Args:
        encoder_scale: the encoder's rate over the others' (``learning_rate``).
        **kwargs: `keras.optimizers.Adam`'s arguments.

    Call `set_encoder_variables` before the optimizer is built; without it
    every weight learns at the full rate, as plain Adam.
    """

    def __init__(self, encoder_scale=1.0, **kwargs):
        super().__init__(**kwargs)
        self._initial_encoder_scale = float(encoder_scale)
        self._encoder_ids = set()
        self._encoder_indices = frozenset()

    def set_encoder_variables(self, variables):
        """Name the variables that learn at ``encoder_scale`` times the rate."""
        if self.built:
            raise RuntimeError("`set_encoder_variables` must come before the optimizer is built.")
        self._encoder_ids = {id(v) for v in variables}

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.encoder_scale = self.add_variable(
            (), initializer=keras.initializers.Constant(self._initial_encoder_scale),
            name="encoder_scale")
        self._encoder_indices = frozenset(
            self._get_variable_index(v) for v in variables if id(v) in self._encoder_ids)

    def update_step(self, gradient, variable, learning_rate):
        if self._get_variable_index(variable) in self._encoder_indices:
            learning_rate = (keras.ops.cast(learning_rate, variable.dtype)
                             * keras.ops.cast(self.encoder_scale, variable.dtype))
        return super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {**super().get_config(), "encoder_scale": self._initial_encoder_scale}


def encoder_scale_variable(optimizer):
    """The encoder's learning-rate factor of ``optimizer`` (inside a loss scaler), or None."""
    inner = getattr(optimizer, "inner_optimizer", optimizer)
    return getattr(inner, "encoder_scale", None) if isinstance(inner, EncoderAwareAdam) else None
