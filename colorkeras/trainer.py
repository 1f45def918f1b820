"""Training wrapper shared by the regression models and Pix2Pix.

A colorization network learns a target in its own colour space (RGB, or the
chroma of Lab / YUV), but people judge the result in RGB. Keras metrics only
see ``(y_true, y_pred)``, not the gray input needed to rebuild RGB from a
chroma prediction, so this `keras.Model` wraps the Functional network and owns
``train_step`` / ``test_step``: the loss is taken in the target space and MAE
and PSNR in RGB. Validation also reports CIEDE2000 and the colourfulness
ratio, the two figures that tell a grayish colorizer from a credible one. The
network itself stays a plain Functional model, which is what gets saved and
shipped.
"""

import keras
import tensorflow as tf

from colorkeras import ab_classes, color, losses, metrics
from colorkeras.models import color_space_of, efficientnet_lite


def replica_share(value):
    """``value / replicas``: a replica's share of a loss that is a mean over the global batch.

    Under `tf.distribute`, each replica's gradients are summed across
    replicas, so each replica's loss must be its mean divided by the replica
    count; Keras's `Loss` objects do this themselves, plain `tf.reduce_mean`
    terms need it here. 1 replica: unchanged.
    """
    return value / _replicas()


def global_value(value):
    """The figure to log for a loss scaled by `replica_share` (or a Keras `Loss`)."""
    return value * _replicas()


def _replicas():
    return tf.distribute.get_strategy().num_replicas_in_sync


def example_batch(gray):
    """A one-image batch of zeros for a `tf.TensorSpec`; a batch as it is."""
    if isinstance(gray, tf.TensorSpec):
        return tf.zeros([1, *gray.shape[1:]], gray.dtype)
    return gray


def step_logs(logs):
    """A step's logged figures, shaped so that Keras can reduce them over workers.

    Under `MultiWorkerMirroredStrategy` Keras 3.15 averages each figure over
    the replicas along axis 0, which a scalar does not have; a ``[1]`` vector
    averages to the same scalar. Elsewhere the figures stay scalars.
    """
    strategy = tf.distribute.get_strategy()
    if isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return {name: tf.reshape(value, [1]) for name, value in logs.items()}
    return logs


class ColorizationTrainer(keras.Model):
    """Trains ``network`` with a pixel loss; reports RGB MAE and PSNR.

    Args:
        network: a colorkeras Functional network (gray -> target).
        rgb_metrics_in_training: also report RGB MAE and PSNR of the training
            batches. Rebuilding RGB costs time in every step; validation
            reports them either way.

    Example:

    >>> net = colorkeras.build_model("unet", base_filters=8, depth=2)
    >>> trainer = ColorizationTrainer(net)
    >>> trainer.compile(optimizer="adam", loss="mae")
    >>> trainer.fit(pipeline.dataset, steps_per_epoch=10)  # doctest: +SKIP
    """

    def __init__(self, network, rgb_metrics_in_training=True, **kwargs):
        super().__init__(**kwargs)
        self.network = network
        self.rgb_metrics_in_training = rgb_metrics_in_training
        self.color_space = color_space_of(network)
        # A classification network's loss is taken on its bin logits.
        self.logits_view = ab_classes.logits_and_output(network)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.rgb_mae_tracker = keras.metrics.Mean(name="mae")
        self.psnr_tracker = keras.metrics.Mean(name="psnr")
        self.colour_trackers = [metrics.DeltaE2000(), metrics.ColorfulnessRatio()]

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        """Skip Keras's build from the first distributed batch once `build_state` ran.

        Under a distribution strategy Keras 3.15 draws the first batch from
        the training iterator to build the model, so the first step trains on
        the second batch, not the one a single device would see, and it
        averages that batch over the replicas, which
        `MultiWorkerMirroredStrategy` cannot do outside a step
        (keras-team/keras#20585). `build_state` has already created every
        variable, so nothing is drawn. Without it, one replica's share of the
        batch gives the shapes.
        """
        strategy = self._distribute_strategy
        if strategy is None or iterator is None:
            return super()._maybe_symbolic_build(iterator, data_batch)
        if getattr(self, "_state_built", False):
            return None
        for _, _, it in iterator:
            batch = next(it)
            data_batch = tf.nest.map_structure(
                lambda v: strategy.experimental_local_results(v)[0]
                if isinstance(v, tf.distribute.DistributedValues) else v, batch)
            break
        return super()._maybe_symbolic_build(None, data_batch)

    def compile(self, optimizer="adam", loss="mae", encoder_optimizer=None, **kwargs):
        """Set the optimizers and the pixel loss (a name from `losses.LOSSES`).

        ``encoder_optimizer``, if given, alone updates the weights of an
        ImageNet encoder (see `efficientnet_lite.encoder_variables`), so the
        encoder can be frozen, then fine-tuned at its own learning rate
        (`callbacks.EncoderSchedule`), while ``optimizer`` trains the rest.
        """
        super().compile(optimizer=optimizer, **kwargs)
        self.reconstruction_loss = losses.get_loss(loss) if isinstance(loss, str) else loss
        self.encoder_optimizer = encoder_optimizer

    def call(self, gray, training=False):
        return self.network(gray, training=training)

    def forward(self, gray, training=False):
        """``(what the loss sees, the chroma prediction)`` for a batch."""
        if self.logits_view is None:
            prediction = self.network(gray, training=training)
            return prediction, prediction
        return self.logits_view(gray, training=training)

    def build_state(self, gray):
        """Create every variable, optimizer slots included, before ``fit``.

        BackupAndRestore can only restore into variables that exist, so a
        resumed run must have them before its first step. ``gray`` is a batch,
        or the `tf.TensorSpec` of a dataset's gray input.
        """
        gray = example_batch(gray)
        self(gray)
        for optimizer, variables in self.optimizer_groups():
            optimizer.build(variables)
        self._state_built = True

    def optimizer_groups(self):
        """``(optimizer, variables)`` pairs: who updates which trainable weights."""
        variables = self.network.trainable_variables
        if self.encoder_optimizer is None:
            return [(self.optimizer, variables)]
        encoder = {id(v) for v in efficientnet_lite.encoder_variables(self.network)}
        return [
            (self.optimizer, [v for v in variables if id(v) not in encoder]),
            (self.encoder_optimizer, [v for v in variables if id(v) in encoder]),
        ]

    def update_weights(self, gradients, variables):
        """Apply ``gradients`` with the optimizer each variable belongs to.

        Under mixed_float16 the loss was scaled by the main optimizer (a
        LossScaleOptimizer), which unscales its own share; the encoder's is
        unscaled here, and a non-finite one (the step the main optimizer
        skips) becomes zero.
        """
        by_id = {id(v): g for g, v in zip(gradients, variables)}
        scaling = isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer)
        for optimizer, group in self.optimizer_groups():
            grads = [by_id[id(v)] for v in group]
            if scaling and optimizer is not self.optimizer:
                scale = tf.cast(self.optimizer.dynamic_scale, tf.float32)
                grads = [tf.where(tf.math.is_finite(g), g / tf.cast(scale, g.dtype), 0.0)
                         for g in grads]
            optimizer.apply_gradients(zip(grads, group))

    @property
    def metrics(self):
        return [self.loss_tracker, self.rgb_mae_tracker, self.psnr_tracker,
                *self.colour_trackers]

    def track_rgb(self, gray, target, prediction, training=False):
        """Update the RGB metrics from a batch in the target space.

        The truth is rebuilt from its own target the same way as the
        prediction, so both share the luminance the network was given.
        CIEDE2000 and colourfulness are left out of training steps, where
        they would only cost time.
        """
        true_rgb = color.decode_output(gray, target, self.color_space)
        pred_rgb = color.decode_output(gray, tf.cast(prediction, tf.float32), self.color_space)
        self.rgb_mae_tracker.update_state(metrics.mae(true_rgb, pred_rgb))
        self.psnr_tracker.update_state(metrics.psnr(true_rgb, pred_rgb))
        if not training:
            for tracker in self.colour_trackers:
                tracker.update_state(true_rgb, pred_rgb)

    def results(self, training=False):
        """The logged figures: the validation-only colour metrics when not training."""
        skipped = self.colour_trackers if training else []
        return step_logs({m.name: m.result() for m in self.metrics if m not in skipped})

    def train_step(self, data):
        gray, target, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            loss_input, prediction = self.forward(gray, training=True)
            loss = self.reconstruction_loss(target, loss_input)  # a replica's share
            if self.network.losses:
                loss += replica_share(tf.add_n(self.network.losses))
            scaled_loss = self.optimizer.scale_loss(loss)
        variables = self.network.trainable_variables
        gradients = tape.gradient(scaled_loss, variables)
        self.update_weights(gradients, variables)
        self.loss_tracker.update_state(global_value(loss))
        if not self.rgb_metrics_in_training:
            return step_logs({"loss": self.loss_tracker.result()})
        self.track_rgb(gray, target, prediction, training=True)
        return self.results(training=True)

    def test_step(self, data):
        gray, target, _ = keras.utils.unpack_x_y_sample_weight(data)
        loss_input, prediction = self.forward(gray, training=False)
        self.loss_tracker.update_state(global_value(self.reconstruction_loss(target, loss_input)))
        self.track_rgb(gray, target, prediction)
        return self.results()
