"""Pix2Pix: a generator trained against a PatchGAN discriminator.

A pixel loss alone makes a colorizer predict the mean of every plausible
colour, which is gray-brown. The adversarial term rewards colours a
discriminator cannot tell from real ones, so the generator commits to one
plausible mode; the reconstruction term, weighted by ``lambda_``, keeps it
near the truth. With the least-squares GAN loss (the study's choice):

    D loss = E[(1 - D(x, y))^2] + E[D(x, G(x))^2]
    G loss = lambda * L(G(x), y) + E[(1 - D(x, G(x)))^2]

``gan_loss="bce"`` swaps both for the original binary cross-entropy form.
The model trains on 128x128 crops and, being fully convolutional, the same
generator weights run on full 256x256 photos (the study's Patch-Pix2Pix).

`Pix2Pix` is a trainer, not a network: it holds a `Colorizer` and a
discriminator, as keras-io's GANs hold their generator and discriminator.
The training config chooses it (``--model pix2pix``); `build_model` builds
networks only.
"""

import keras
import tensorflow as tf

from colorkeras import losses
from colorkeras.colorizer import (BuildsStateFirst, Colorizer, chroma_metric, encoder_aware,
                                  example_batch, update_chroma_metrics)
from colorkeras.distribution import global_value, replica_share, step_logs
from colorkeras.errors import InputError
from colorkeras.models import DEFAULT_GENERATOR, build_model
from colorkeras.models.patchgan import build_patchgan

GAN_LOSSES = ("lsgan", "bce")


def discriminator_loss(real_scores, fake_scores, gan_loss="lsgan"):
    """How well D scores real patches 1 and generated patches 0.

    Like every loss here it is a replica's share under `tf.distribute`
    (`distribution.replica_share`), as Keras's own losses are, so the terms keep
    their weights whatever the replica count.
    """
    if gan_loss == "lsgan":
        return replica_share(tf.reduce_mean(tf.square(1.0 - real_scores))
                             + tf.reduce_mean(tf.square(fake_scores)))
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    return bce(tf.ones_like(real_scores), real_scores) + bce(
        tf.zeros_like(fake_scores), fake_scores
    )


def generator_adversarial_loss(fake_scores, gan_loss="lsgan"):
    """How far G is from having its patches scored real."""
    if gan_loss == "lsgan":
        return replica_share(tf.reduce_mean(tf.square(1.0 - fake_scores)))
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    return bce(tf.ones_like(fake_scores), fake_scores)


class Pix2Pix(BuildsStateFirst, keras.Model):
    """A colorizer trained against a PatchGAN: the GAN of keras-io's guides.

    It holds the two networks and trains them together with its own
    ``compile`` (one optimizer per network), ``metrics`` and ``train_step``.
    What is saved and shipped is its ``colorizer``: a whole Pix2Pix is
    training state, resumed from a run folder, and refuses to be saved.

    Args:
        colorizer: a `Colorizer` whose network (any registry architecture)
            is the generator, gray -> target.
        discriminator: PatchGAN taking ``[gray, image]`` (conditional) or
            ``image`` alone (unconditional).

    Example:

    >>> gan = build_pix2pix(generator_hparams={"base_filters": 8, "depth": 2})
    >>> gan.compile(keras.optimizers.Adam(2e-4, beta_1=0.5),
    ...             keras.optimizers.Adam(2e-4, beta_1=0.5), lambda_=100.0)
    >>> gan.fit(pipeline.dataset, steps_per_epoch=10)  # doctest: +SKIP
    >>> gan.colorizer.save("colorizer.keras")  # doctest: +SKIP
    """

    def __init__(self, colorizer, discriminator, **kwargs):
        if not isinstance(colorizer, Colorizer):
            raise InputError("A Pix2Pix trains a `Colorizer` (`Colorizer(build_model(...))`). "
                             f"Received: colorizer={type(colorizer).__name__}")
        kwargs.setdefault("name", "pix2pix_gan")
        super().__init__(**kwargs)
        self.colorizer = colorizer
        self.discriminator = discriminator
        self.conditional = len(discriminator.inputs) == 2
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.gan_loss_tracker = keras.metrics.Mean(name="gan_loss")
        self.rec_loss_tracker = keras.metrics.Mean(name="rec_loss")
        self.built = True  # both networks were built with their graphs

    @property
    def generator(self):
        """The colorizer's network, keras-io's name for it."""
        return self.colorizer.network

    def call(self, gray, training=None):
        return self.colorizer(gray, training=training)

    def predict_step(self, data):
        return self.colorizer.predict_step(data)

    def save(self, filepath, *args, **kwargs):
        """Refused: a GAN in training is resumed from its run folder, shipped as `.colorizer`."""
        raise InputError(unsaveable(filepath))

    def get_config(self):
        # keras.saving.save_model(gan, ...) asks for the config without `save`.
        raise InputError(unsaveable())

    def compile(
        self,
        g_optimizer,
        d_optimizer,
        reconstruction="mae",
        gan_loss="lsgan",
        lambda_=100.0,
        gan_weight=1.0,
        encoder_scale=None,
        metrics=None,
        **kwargs,
    ):
        """One optimizer per network, the two loss choices and their weights.

        ``gan_weight=0`` turns the adversarial term of G off (D still trains),
        leaving a plain regression model for comparison. ``reconstruction``
        may also be a loss object, such as the a*b* classification loss of a
        generator with a classification head (it then sees the bin logits,
        and D the decoded chroma). ``encoder_scale`` sets the rate of a
        generator's ImageNet encoder, and ``metrics`` adds figures on the
        chroma, as in `Colorizer.compile`.
        """
        if gan_loss not in GAN_LOSSES:
            raise InputError(
                f"`gan_loss` must be one of {list(GAN_LOSSES)}. Received: gan_loss={gan_loss!r}"
            )
        if lambda_ < 0 or gan_weight < 0:
            raise InputError(
                "Loss weights must be non-negative. "
                f"Received: lambda_={lambda_}, gan_weight={gan_weight}"
            )
        unused = sorted(set(kwargs) & {"loss", "loss_weights", "weighted_metrics"})
        if unused:
            raise InputError(f"A Pix2Pix takes `reconstruction`, `gan_loss` and `metrics`. "
                             f"Received: {unused}")
        g_optimizer = encoder_aware(g_optimizer, self.generator, encoder_scale)
        # Keras wraps this one in a LossScaleOptimizer under mixed_float16.
        super().compile(optimizer=g_optimizer, **kwargs)
        if self.dtype_policy.name == "mixed_float16" and not isinstance(
            d_optimizer, keras.optimizers.LossScaleOptimizer
        ):
            d_optimizer = keras.optimizers.LossScaleOptimizer(d_optimizer)
        self.d_optimizer = d_optimizer
        self.pixel_loss = losses.get_loss(reconstruction) if isinstance(
            reconstruction, str) else reconstruction
        object.__setattr__(self, "_chroma_metrics", [chroma_metric(m) for m in metrics or []])
        self.gan_loss = gan_loss
        self.lambda_ = float(lambda_)
        self.gan_weight = float(gan_weight)

    @property
    def g_optimizer(self):
        return self.optimizer

    @property
    def metrics(self):
        colorizer = self.colorizer
        return [
            self.g_loss_tracker,
            self.d_loss_tracker,
            self.gan_loss_tracker,
            self.rec_loss_tracker,
            colorizer.rgb_mae_tracker,
            colorizer.psnr_tracker,
            *colorizer.colour_trackers,
            *getattr(self, "_chroma_metrics", []),
        ]

    def build_state(self, gray):
        """Create every variable, both optimizers' slots included (`Colorizer.build_state`)."""
        gray = example_batch(gray)
        self.discriminate(gray, self.generator(gray), training=False)
        self.optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)
        object.__setattr__(self, "_state_built", True)

    def forward(self, gray, training):
        """``(what the reconstruction loss sees, the chroma)`` for a batch."""
        outputs = self.colorizer(gray, training=training)
        return self.colorizer.loss_input(outputs), outputs["chroma"]

    def results(self, training):
        """The logged figures: the validation-only colour metrics when not training."""
        hidden = self.colorizer.hidden_metrics(training)
        return step_logs({m.name: m.result() for m in self.metrics if m not in hidden})

    def discriminate(self, gray, image, training):
        image = tf.cast(image, self.discriminator.inputs[-1].dtype)
        inputs = [gray, image] if self.conditional else image
        return tf.cast(self.discriminator(inputs, training=training), tf.float32)

    def losses_for(self, gray, target, loss_input, fake, training):
        """Both networks' losses for one batch, as named in the docstring.

        ``loss_input`` is what the reconstruction loss compares with the
        target: the output itself, or a classification head's logits.
        """
        real_scores = self.discriminate(gray, target, training)
        fake_scores = self.discriminate(gray, fake, training)
        rec = self.pixel_loss(target, loss_input)
        gan = generator_adversarial_loss(fake_scores, self.gan_loss)
        g_loss = self.lambda_ * rec + self.gan_weight * gan
        d_loss = discriminator_loss(real_scores, fake_scores, self.gan_loss)
        return g_loss, d_loss, gan, rec

    def track(self, gray, target, fake, g_loss, d_loss, gan, rec, training):
        self.g_loss_tracker.update_state(global_value(g_loss))
        self.d_loss_tracker.update_state(global_value(d_loss))
        self.gan_loss_tracker.update_state(global_value(gan))
        self.rec_loss_tracker.update_state(global_value(rec))
        self.colorizer.track_rgb(gray, target, fake, training)
        update_chroma_metrics(getattr(self, "_chroma_metrics", []), target, fake)
        return self.results(training)

    def train_step(self, data):
        gray, target, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            loss_input, fake = self.forward(gray, training=True)
            fake = tf.cast(fake, tf.float32)
            g_loss, d_loss, gan, rec = self.losses_for(gray, target, loss_input, fake,
                                                       training=True)
            scaled_g_loss = self.g_optimizer.scale_loss(g_loss)
            scaled_d_loss = self.d_optimizer.scale_loss(d_loss)
        g_vars = self.generator.trainable_variables
        d_vars = self.discriminator.trainable_variables
        self.g_optimizer.apply_gradients(zip(g_tape.gradient(scaled_g_loss, g_vars), g_vars))
        self.d_optimizer.apply_gradients(zip(d_tape.gradient(scaled_d_loss, d_vars), d_vars))
        return self.track(gray, target, fake, g_loss, d_loss, gan, rec, training=True)

    def test_step(self, data):
        gray, target, _ = keras.utils.unpack_x_y_sample_weight(data)
        loss_input, fake = self.forward(gray, training=False)
        fake = tf.cast(fake, tf.float32)
        g_loss, d_loss, gan, rec = self.losses_for(gray, target, loss_input, fake,
                                                   training=False)
        return self.track(gray, target, fake, g_loss, d_loss, gan, rec, training=False)


def unsaveable(filepath=None):
    """Why a whole Pix2Pix is not saved, and what to save instead."""
    target = repr(str(filepath)) if filepath is not None else "path"
    return ("A whole Pix2Pix is not saved: its discriminator and second optimizer are "
            "training state (`save_weights` keeps them, as `train` does to resume). Save "
            f"the colorizer it trains instead: gan.colorizer.save({target})")


def build_pix2pix(
    input_shape=(None, None, 1),
    color_space="rgb",
    generator=DEFAULT_GENERATOR,
    generator_hparams=None,
    discriminator_hparams=None,
    **hparams,
):
    """An untrained `Pix2Pix`: a registry network's `Colorizer` and a PatchGAN.

    Args:
        input_shape: the gray input; `(None, None, 1)` runs at any size.
        color_space: what the generator predicts ("rgb", "lab" or "yuv").
        generator: registry name of the generator's architecture.
        generator_hparams: the generator's hyperparameters (``head=
            "classification"`` gives it an a*b* classification head).
        discriminator_hparams: keyword arguments of `build_patchgan`
            (`num_layers`, `base_filters`, `conditional`, ...).
        **hparams: merged into `generator_hparams`.

    The colorizer is named "pix2pix", the name the shipped one carries.
    """
    if generator == "pix2pix":
        raise InputError(
            "A Pix2Pix generator cannot itself be pix2pix. Received: generator='pix2pix'")
    g_hparams = {**(generator_hparams or {}), **hparams}
    net = build_model(generator, input_shape=input_shape, color_space=color_space, **g_hparams)
    disc = build_patchgan(
        input_shape=input_shape, color_space=color_space, **(discriminator_hparams or {})
    )
    return Pix2Pix(Colorizer(net, name="pix2pix"), disc)
